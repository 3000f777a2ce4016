package activities_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
)

// TestIdeaStoreAcrossCampaigns: ideas accumulate per template, a later
// campaign's model sees them as taken, a near-identical title is a
// duplicate, and --skip-idea-generation runs the seeds and then the store.
func TestIdeaStoreAcrossCampaigns(t *testing.T) {
	e := newEnv(t)
	gen := func(campaign string, index int, seeds bool) activities.IdeaResult {
		return mustExecute[activities.IdeaResult](t, e, e.acts.GenerateIdea, activities.IdeaInput{
			CampaignKey: "grokking/" + campaign, Template: "grokking", Model: llm.ScriptedModel, Index: index, Reflections: 2, FromSeeds: seeds})
	}
	first := gen("20260101_000000", 0, false)
	second := gen("20260202_000000", 0, false)
	if first.Idea.Name != "weight_decay_grokking" || second.Idea.Name != "learning_rate_grokking" || second.Duplicate {
		t.Fatalf("first %q, second %q (duplicate %v): the second campaign should see the first's idea as taken",
			first.Idea.Name, second.Idea.Name, second.Duplicate)
	}
	lib := filepath.Join(e.root, "ideas", "grokking")
	entries, err := os.ReadDir(lib)
	if err != nil || len(entries) != 2 {
		t.Fatalf("idea store %s: %v, %d entries, want 2", lib, err, len(entries))
	}
	before := readFile(t, filepath.Join(lib, "20260101_000000_000.json"))
	gen("20260101_000000", 0, false) // the same idea again: stored, not rewritten
	if readFile(t, filepath.Join(lib, "20260101_000000_000.json")) != before {
		t.Error("the idea store entry was rewritten")
	}

	// Stored ideas: the template's seeds, then the two generated ones.
	seeds, err := os.ReadFile(filepath.Join(e.acts.Templates, "grokking", "seed_ideas.json"))
	if err != nil {
		t.Fatal(err)
	}
	nSeeds := strings.Count(string(seeds), `"Name"`)
	var names []string
	for i := 0; ; i++ {
		r := gen("20260303_000000", i, true)
		if r.Exhausted {
			break
		}
		if r.Duplicate {
			t.Errorf("stored idea %d (%s) flagged as a duplicate", i, r.Idea.Name)
		}
		names = append(names, r.Idea.Name)
	}
	if len(names) != nSeeds+2 || names[nSeeds] != first.Idea.Name || names[nSeeds+1] != second.Idea.Name {
		t.Errorf("stored ideas run = %v, want %d seeds then %s, %s", names, nSeeds, first.Idea.Name, second.Idea.Name)
	}
	if entries, _ := os.ReadDir(lib); len(entries) != 2 {
		t.Errorf("running stored ideas added %d entries to the store", len(entries)-2)
	}
}

func TestIdeaNearDuplicateTitle(t *testing.T) {
	n := 0
	f := newFakeModel(t, func(int, openai.ChatCompletionRequest) fakeReply {
		n++
		name, title := "wd_onset", "How Weight Decay Shifts the Onset of Grokking"
		if n > 1 {
			name, title = "wd_onset_again", "How weight decay shifts the onset of grokking!"
		}
		return fakeReply{Content: "THOUGHT: ok. I am done\nNEW IDEA JSON:\n```json\n" +
			`{"Name": "` + name + `", "Title": "` + title + `", "Experiment": "Vary it.", "Interestingness": 6, "Feasibility": 8, "Novelty": 5}` + "\n```\n"}
	})
	e := newEnv(t, withFake(f))
	in := activities.IdeaInput{CampaignKey: "grokking/c", Template: "grokking", Model: fakeModelName, Reflections: 1}
	if r := mustExecute[activities.IdeaResult](t, e, e.acts.GenerateIdea, in); r.Duplicate {
		t.Fatalf("first idea flagged as duplicate: %+v", r)
	}
	in.Index = 1
	r := mustExecute[activities.IdeaResult](t, e, e.acts.GenerateIdea, in)
	if !r.Duplicate || r.DuplicateOf != "wd_onset" {
		t.Errorf("restated idea = duplicate %v of %q, want a duplicate of wd_onset", r.Duplicate, r.DuplicateOf)
	}
}
