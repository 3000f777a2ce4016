package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/app"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestCampaignHistorySize runs a 50-idea campaign on the embedded server:
// the real CampaignWorkflow, with stand-ins (registered under the real
// names) for its activities and for PaperWorkflow, whose own history is
// measured by TestOnePaperEndToEnd. It prints the campaign history's size
// and fails if it comes near Temporal's warning limits (10,240 events,
// 10 MiB): each paper lives in its own child workflow, so the campaign's
// history grows by a few events and one small result per paper.
func TestCampaignHistorySize(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	templates, _ := filepath.Abs("../../templates")
	a, err := app.Start(ctx, app.Config{Dev: true, DataDir: t.TempDir(), Port: -1, UIPort: -1, Templates: templates, NoExperiments: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()

	const queue, ideas = "history-size", 50
	w := worker.New(a.Client, queue, worker.Options{})
	w.RegisterWorkflow(workflows.CampaignWorkflow)
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context, in workflows.PaperInput) (workflows.PaperResult, error) {
		// A full-sized result: five runs, warnings, a review, the cost.
		p := workflows.PaperProgress{Paper: workflow.GetInfo(ctx).WorkflowExecution.ID, Idea: in.Idea.Name, Title: in.Idea.Title,
			Template: in.Paper.Template, Stage: workflows.StageDone, State: "completed", Overall: 5, Decision: "Reject",
			Workspace: "/data/artifacts/papers/" + in.Paper.Key, ResultDir: in.ResultsDir + "/" + in.Folder, PDF: "/data/x.pdf",
			Tokens:   llm.Usage{PromptTokens: 900000, CompletionTokens: 80000, Calls: 60, CostUSD: 4.2},
			Warnings: []string{"run 4 failed 4 times; continuing with the 3 successful runs"}}
		for r := 0; r <= 5; r++ {
			p.Runs = append(p.Runs, workflows.RunStatus{Run: r, Attempts: 2, OK: r != 4, Seconds: 3600,
				Change: "Sweep the weight decay over a wider range, one value per run, keeping everything else fixed."})
		}
		return workflows.PaperResult{Progress: p}, workflow.Sleep(ctx, time.Second)
	}, workflow.RegisterOptions{Name: "PaperWorkflow"})
	w.RegisterActivityWithOptions(func(context.Context, activities.PreflightInput) (activities.PreflightResult, error) {
		return activities.PreflightResult{Python: "/usr/bin/python3"}, nil
	}, activity.RegisterOptions{Name: "Preflight"})
	w.RegisterActivityWithOptions(func(_ context.Context, in activities.IdeaInput) (activities.IdeaResult, error) {
		return activities.IdeaResult{Idea: paper.Idea{Name: fmt.Sprintf("idea_%02d", in.Index), Title: fmt.Sprintf("Idea number %d", in.Index),
			Experiment: "Vary one constant and compare with the baseline.", Interestingness: 5, Feasibility: 8, Novelty: 4},
			Usage: llm.Usage{PromptTokens: 3000, CompletionTokens: 600, Calls: 3}}, nil
	}, activity.RegisterOptions{Name: "GenerateIdea"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	start := time.Now()
	run, err := a.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "campaign/history/size", TaskQueue: queue},
		workflows.CampaignWorkflow, workflows.CampaignInput{Template: "grokking", Model: "scripted", NumIdeas: ideas, Parallel: 8, ResultsDir: "/results"})
	if err != nil {
		t.Fatal(err)
	}
	var prog workflows.CampaignProgress
	if err := run.Get(ctx, &prog); err != nil {
		t.Fatalf("campaign: %v", err)
	}
	events, bytes, largest := 0, 0, 0
	it := a.Client.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		n := proto.Size(ev)
		events, bytes, largest = events+1, bytes+n, max(largest, n)
	}
	t.Logf("%d-idea campaign: %d history events, %d bytes (largest event %d bytes), %s", ideas, events, bytes, largest, time.Since(start).Round(time.Millisecond))
	if len(prog.Ideas) != ideas {
		t.Fatalf("campaign ran %d ideas, want %d", len(prog.Ideas), ideas)
	}
	// A tenth of the warning limits: room for retries, budget signals and
	// pauses on top.
	if events > 1024 || bytes > 1<<20 {
		t.Errorf("campaign history of %d events, %d bytes: too close to Temporal's limits", events, bytes)
	}
}
