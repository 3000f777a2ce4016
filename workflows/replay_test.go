package workflows_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/aiscientist/aiscientist/workflows"
)

// TestReplayRecordedHistories replays histories recorded from real runs
// (e2e with AISCI_RECORD_HISTORY=DIR, then copied here), so an accidental
// change to the commands a workflow issues fails here. Until the first
// release a deliberate change re-records them in the same commit (README,
// Development):
//   - paper_budget_stop: a quick grokking paper on an experiment host that
//     stops at its share of the campaign's budget in mid-paper and goes on
//     after the campaign's budget is raised by an update, with two citation
//     rounds (one paper added and cited) against the fake literature;
//   - campaign_budget_raise: its campaign, with its idea's novelty check
//     (two rounds against the fake literature engines);
//   - campaign_continue_as_new: the first run of a 50-idea campaign that
//     continued as new (recorded by e2e TestCampaignHistorySize; its
//     activities and papers are stand-ins, which replay does not need);
//   - baseline_quick: `starter templates baseline walks --quick` on the
//     embedded server's host (e2e TestReferenceStyleTemplate);
//   - bench_review: `starter bench-review run` of four papers with the
//     scripted double, two at a time (e2e TestBenchReviewResume).
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("expected recorded campaign and paper histories in testdata, found %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			workflows.RegisterWorkflows(r)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
