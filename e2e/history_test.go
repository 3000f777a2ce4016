package e2e

import (
	"context"
	"fmt"
	"os"
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
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/worker/app"
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
	ctx, a := startOrchestrator(t, 5*time.Minute)

	const queue, ideas = "history-size", 50
	w := worker.New(a.Client, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.CampaignWorkflow, workflow.RegisterOptions{Name: workflows.CampaignWorkflowName})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context, in workflows.PaperInput) (workflows.PaperResult, error) {
		// A full-sized result: five runs, warnings, a review, the cost.
		p := workflows.PaperProgress{Paper: workflow.GetInfo(ctx).WorkflowExecution.ID, Idea: in.Idea.Name, Title: in.Idea.Title,
			Template: in.Paper.Template, Stage: workflows.StageDone, State: workflows.StateCompleted, Overall: 5, Decision: "Reject",
			Workspace: "/data/artifacts/papers/" + in.Paper.Key, ResultDir: in.ResultsDir + "/" + in.Paper.Key, PDF: "/data/x.pdf",
			Tokens:   llm.Usage{PromptTokens: 900000, CompletionTokens: 80000, Calls: 60, CostUSD: 4.2},
			Warnings: []string{"run 4 failed 4 times; continuing with the 3 successful runs"}}
		for r := 0; r <= 5; r++ {
			p.Runs = append(p.Runs, workflows.RunStatus{Run: r, Attempts: 2, OK: r != 4, Seconds: 3600,
				Change: "Sweep the weight decay over a wider range, one value per run, keeping everything else fixed."})
		}
		return workflows.PaperResult{Progress: p}, workflow.Sleep(ctx, time.Second)
	}, workflow.RegisterOptions{Name: workflows.PaperWorkflowName})
	w.RegisterActivityWithOptions(func(context.Context, activities.PreflightInput) (activities.PreflightResult, error) {
		return activities.PreflightResult{Python: "/usr/bin/python3"}, nil
	}, activity.RegisterOptions{Name: "Preflight"})
	w.RegisterActivityWithOptions(func(_ context.Context, in activities.IdeaInput) (activities.IdeaResult, error) {
		return activities.IdeaResult{Idea: paper.Idea{Name: fmt.Sprintf("idea_%02d", in.Index), Title: fmt.Sprintf("Idea number %d", in.Index),
			Experiment: "Vary one constant and compare with the baseline.", Interestingness: 5, Feasibility: 8, Novelty: 4},
			Metered: activities.Metered{Usage: llm.Usage{PromptTokens: 3000, CompletionTokens: 600, Calls: 3}}}, nil
	}, activity.RegisterOptions{Name: "GenerateIdea"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	for _, limit := range []int{0, 250} {
		start := time.Now()
		id := fmt.Sprintf("campaign/history/limit-%d", limit)
		run, err := a.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, workflows.CampaignWorkflow,
			workflows.CampaignInput{Template: "grokking", Model: "scripted", NumIdeas: ideas, Parallel: 8, ResultsDir: "/results", HistoryLimit: limit,
				SkipNoveltyCheck: true})
		if err != nil {
			t.Fatal(err)
		}
		var prog workflows.CampaignProgress
		if err := a.Client.GetWorkflow(ctx, id, "").Get(ctx, &prog); err != nil { // follows continue-as-new
			t.Fatalf("campaign: %v", err)
		}
		runs, events, bytes, largest := 0, 0, 0, 0
		for runID := run.GetRunID(); runID != ""; runs++ {
			e, b, l, next := measure(ctx, t, a, id, runID)
			events, bytes, largest, runID = max(events, e), max(bytes, b), max(largest, l), next
		}
		t.Logf("%d-idea campaign, history limit %d: %d run(s), largest history %d events, %d bytes (largest event %d bytes), %s",
			ideas, limit, runs, events, bytes, largest, time.Since(start).Round(time.Millisecond))
		completed := 0
		for _, st := range prog.Ideas {
			if st.State == workflows.StateCompleted {
				completed++
			}
		}
		if len(prog.Ideas) != ideas || completed != ideas {
			t.Fatalf("campaign ran %d ideas, %d completed; want %d", len(prog.Ideas), completed, ideas)
		}
		if limit > 0 && runs < 2 {
			t.Errorf("with a limit of %d events the campaign never continued as new", limit)
		}
		// Every run replays against this build, the first (which ends in
		// continue-as-new) through the operators' replay path.
		if rep, err := app.ReplayWorkflow(ctx, a.Client, id, run.GetRunID()); err != nil {
			t.Errorf("replay of %s: %v", id, err)
		} else if limit > 0 {
			if out := os.Getenv("AISCI_RECORD_HISTORY"); out != "" {
				h, err := app.FetchHistory(ctx, a.Client, id, run.GetRunID())
				if err == nil {
					err = app.SaveHistoryFile(filepath.Join(out, "campaign_continued.json"), h)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("replayed: %+v", rep)
		}
		// A tenth of the warning limits: room for retries, budget signals and
		// pauses on top.
		if events > 1024 || bytes > 1<<20 {
			t.Errorf("campaign history of %d events, %d bytes: too close to Temporal's limits", events, bytes)
		}
	}
}

// measure reads one run's history: its events, bytes, largest event, and
// the run it continued as (empty: none).
func measure(ctx context.Context, t *testing.T, a *app.App, id, runID string) (events, bytes, largest int, next string) {
	t.Helper()
	it := a.Client.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		n := proto.Size(ev)
		events, bytes, largest = events+1, bytes+n, max(largest, n)
		if can := ev.GetWorkflowExecutionContinuedAsNewEventAttributes(); can != nil {
			next = can.GetNewExecutionRunId()
		}
	}
	return events, bytes, largest, next
}
