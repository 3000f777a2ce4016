package workflows_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/aiscientist/aiscientist/workflows"
)

// TestReplayRecordedHistories replays histories recorded from real runs
// (internal/e2e with AISCI_RECORD_HISTORY=DIR, then copied here under a
// name saying what they cover). Histories recorded by earlier versions stay:
// a change to workflow code that would break running papers fails here;
// guard such a change with workflow.GetVersion and add new histories beside
// the old:
//   - *_v1_nobudget: before budgets;
//   - campaign_v2_budget_nomarker: budgets, before the campaign published
//     CostUSD per finished paper (the campaign-cost-per-paper version);
//   - paper_v2_budget, campaign_v3_budget: a paper stopped at its campaign's
//     budget and resumed by an update, experiments on the workflow queue;
//   - paper_v3_hosts, campaign_v4_hosts: the same on an experiment host
//     (the experiment-hosts version);
//   - paper_v4_host_baseline, campaign_v5_host_baseline: full papers run
//     their host's baseline (the host-baseline version; this one is quick);
//   - paper_v5_control, campaign_v6_control: with pause/skip/approval
//     listeners, activity summaries, ReviewOverall and the template's run
//     timeout read from preflight (no new version markers: none of these
//     changes the commands of a run that uses none of them);
//   - campaign_v7_continue_as_new: the first run of a 50-idea campaign
//     that continued as new (campaign-continue-as-new version; recorded by
//     internal/e2e TestCampaignHistorySize, its activities and papers are
//     stand-ins, which replay does not need).
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
