package llm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
)

// Pay once. An activity that makes several model calls keeps nothing until
// it returns, so a retry after a late failure (a 503, a dropped
// connection) would pay again for every reply it already had. With a
// Replies store in the context, every reply is saved as it arrives, keyed
// by its place in the activity's sequence of calls and by the request
// itself; a retried activity that sends the same request at the same place
// gets the saved reply back, free, and pays only for the rest.

// Replies keeps the replies of one activity's calls.
type Replies interface {
	// Load returns the reply saved for call seq with request hash key.
	Load(seq int, key string) (Response, bool)
	// Save keeps the reply of call seq (before the next call is made).
	Save(seq int, key string, resp Response) error
}

type repliesKey struct{}

// WithReplies returns a context whose metered calls are checkpointed in r.
func WithReplies(ctx context.Context, r Replies) context.Context {
	return context.WithValue(ctx, repliesKey{}, &replayer{store: r})
}

// replayer numbers an activity attempt's calls.
type replayer struct {
	store Replies
	mu    sync.Mutex
	next  int
}

func (p *replayer) seq() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	return p.next
}

func replayerFrom(ctx context.Context) *replayer {
	p, _ := ctx.Value(repliesKey{}).(*replayer)
	return p
}

// RequestKey identifies a request by everything the provider sees.
func RequestKey(req Request) string {
	b, _ := json.Marshal(req)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
