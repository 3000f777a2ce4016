package workflows_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/aiscientist/aiscientist/workflows"
)

// TestReplayRecordedHistories replays histories recorded from real runs
// (internal/e2e with AISCI_RECORD_HISTORY=workflows/testdata). A change to
// workflow code that would break running papers fails here; guard such a
// change with workflow.GetVersion and record new histories beside the old.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("expected recorded campaign and paper histories in testdata, found %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(workflows.CampaignWorkflow)
			r.RegisterWorkflow(workflows.PaperWorkflow)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
