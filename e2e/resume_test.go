package e2e

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiscientist/aiscientist/internal/scripted"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestResumeFailedPaper: the model refuses to review, so the paper fails in
// its review stage with everything before it done. Once the model answers
// again, starter resume's reset continues it from the review: the paper
// completes and no experiment or plot script runs a second time.
func TestResumeFailedPaper(t *testing.T) {
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	t.Setenv(scripted.RefuseEnv, "## Review")
	templates, _ := filepath.Abs("../templates")
	a, err := app.Start(ctx, app.Config{Dev: true, DataDir: t.TempDir(), Port: -1, UIPort: -1, Templates: templates,
		Python: os.Getenv("AISCI_PYTHON"), CPUSlots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	id, err := app.StartCampaign(ctx, a.Client, workflows.CampaignInput{
		Template: "grokking", Model: "scripted", NumIdeas: 1, Quick: true, ResultsDir: t.TempDir(), MaxRuns: 1,
		RunTimeout: 10 * time.Minute, SkipNoveltyCheck: true, SkipCitations: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Client.GetWorkflow(ctx, id, "").Get(ctx, nil); err == nil {
		t.Fatal("the campaign succeeded although the model refused every review")
	}
	var cp workflows.CampaignProgress
	if v, err := a.Client.QueryWorkflow(ctx, id, "", workflows.ProgressQuery); err != nil || v.Get(&cp) != nil || len(cp.Ideas) != 1 {
		t.Fatalf("campaign progress: %v %+v", err, cp)
	}
	paperID := cp.Ideas[0].PaperID
	failed := paperProgress(ctx, t, a, paperID)
	if failed.State != workflows.StateFailed || !strings.HasPrefix(failed.Error, "review:") {
		t.Fatalf("paper state %q, error %q; want failed in review", failed.State, failed.Error)
	}
	ledger := filepath.Join(failed.Workspace, "logs", "executions.jsonl")
	before := starts(t, ledger)
	// The failed paper is exported too: what it has, and why it failed.
	why, err := os.ReadFile(filepath.Join(failed.ResultDir, "failure.txt"))
	if err != nil || !strings.Contains(string(why), "This paper failed: review:") || !strings.Contains(string(why), "starter resume "+paperID) {
		t.Errorf("failure.txt of the failed paper: %v\n%s", err, why)
	}
	if _, err := os.Stat(filepath.Join(failed.ResultDir, cp.Ideas[0].Name+".pdf")); err != nil {
		t.Errorf("the failed paper's export lacks its PDF: %v", err)
	}

	if _, err := app.ResumePaper(ctx, a.Client, a.Server.Namespace(), paperID); err == nil {
		// Not yet fixed: a second failure must come back the same way.
		if err := a.Client.GetWorkflow(ctx, paperID, "").Get(ctx, nil); err == nil {
			t.Fatal("the resumed paper succeeded although the model still refuses")
		}
	} else {
		t.Fatalf("resume: %v", err)
	}
	t.Setenv(scripted.RefuseEnv, "")
	r, err := app.ResumePaper(ctx, a.Client, a.Server.Namespace(), paperID)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	t.Logf("resumed from stage %s at event %d, run %s", r.Stage, r.EventID, r.NewRunID)
	if r.Stage != workflows.StageReview {
		t.Errorf("resumed from %q, want the review stage", r.Stage)
	}
	if err := a.Client.GetWorkflow(ctx, paperID, "").Get(ctx, nil); err != nil {
		t.Fatalf("the resumed paper failed: %v", err)
	}
	done := paperProgress(ctx, t, a, paperID)
	if done.State != workflows.StateCompleted || done.Overall == 0 || done.PDF == "" {
		t.Errorf("after resume: state %q, overall %d, pdf %q", done.State, done.Overall, done.PDF)
	}
	if _, err := os.Stat(filepath.Join(done.ResultDir, "failure.txt")); err == nil {
		t.Error("the paper finished after its resume, but its export still has failure.txt")
	}
	if after := starts(t, ledger); after != before {
		t.Errorf("scripts started %d times before the resume and %d after: finished work ran again", before, after)
	}
	if _, err := app.ResumePaper(ctx, a.Client, a.Server.Namespace(), paperID); err == nil || !strings.Contains(err.Error(), "already completed") {
		t.Errorf("resuming a completed paper: %v", err)
	}
}

func paperProgress(ctx context.Context, t *testing.T, a *app.App, id string) workflows.PaperProgress {
	t.Helper()
	var p workflows.PaperProgress
	v, err := a.Client.QueryWorkflow(ctx, id, "", workflows.ProgressQuery)
	if err != nil || v.Get(&p) != nil {
		t.Fatalf("progress of %s: %v", id, err)
	}
	return p
}

// starts counts the script starts in an executions ledger.
func starts(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"event":"start"`) {
			n++
		}
	}
	if n == 0 {
		t.Fatalf("%s records no script start", path)
	}
	return n
}
