package workflows_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
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

// TestRecordedRunsCarryPriority: in the recorded paper, every run waits
// for its device with a priority key (the default order, rounds: fewest
// runs done first, so the baseline has 1 and later runs never less), and
// every plot goes to the host's plot queue, where it waits for no device.
func TestRecordedRunsCarryPriority(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "paper_budget_stop.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var runs []int32
	var plots []string
	for _, e := range h.GetEvents() {
		a := e.GetActivityTaskScheduledEventAttributes()
		if a == nil {
			continue
		}
		switch a.GetActivityType().GetName() {
		case "RunExperiment":
			runs = append(runs, a.GetPriority().GetPriorityKey())
		case "RunPlot":
			plots = append(plots, a.GetTaskQueue().GetName())
			if k := a.GetPriority().GetPriorityKey(); k != 0 {
				t.Errorf("a plot has priority key %d; it waits for no device", k)
			}
		}
	}
	if len(runs) == 0 || len(plots) == 0 {
		t.Fatalf("the recorded paper has runs %v and plots %v", runs, plots)
	}
	if runs[0] != 1 {
		t.Errorf("the baseline's priority key is %d, want 1 (runs: %v)", runs[0], runs)
	}
	for i, k := range runs {
		if k < 1 || k > 5 || (i > 0 && k < runs[i-1]) {
			t.Errorf("run %d's priority key is %d, want 1..5 and never less than an earlier run's (runs: %v)", i, k, runs)
		}
	}
	for _, q := range plots {
		if !strings.HasPrefix(q, "aiscientist-plots-") {
			t.Errorf("a plot went to queue %s, not a host's plot queue", q)
		}
	}
}
