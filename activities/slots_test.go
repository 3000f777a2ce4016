package activities_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/aiscientist/aiscientist/activities"
)

// TestModelSlots: with ModelSlots of 2, four ideas generated at once never
// have more than two model calls in flight.
func TestModelSlots(t *testing.T) {
	var inFlight, peak atomic.Int32
	f := newFakeModel(t, func(int, openai.ChatCompletionRequest) fakeReply {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
		inFlight.Add(-1)
		return fakeReply{Content: ideaReply(fmt.Sprintf("idea_%d", n), " I am done")}
	})
	e := newEnv(t, withFake(f))
	e.acts.ModelSlots = make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mustExecute[activities.IdeaResult](t, e, e.acts.GenerateIdea, activities.IdeaInput{
				CampaignKey: fmt.Sprintf("grokking/c%d", i), Template: "grokking", Model: fakeModelName, Reflections: 1})
		}()
	}
	wg.Wait()
	if got := peak.Load(); got != 2 {
		t.Errorf("peak model calls in flight = %d, want 2", got)
	}
}
