package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestServerKilledMidExperiment runs the Temporal server alone (`worker
// server`, SQLite) and a worker process that joins it over
// TEMPORAL_ADDRESS, kills the server with SIGKILL while run 1 of a paper
// is executing, restarts it on the same database, and checks that the
// paper finishes with no finished run executed twice. The worker keeps
// running meanwhile: its run goes on, and its completion reaches the
// server once it is back.
func TestServerKilledMidExperiment(t *testing.T) {
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin := buildWorker(ctx, t, tmp)
	templates, _ := filepath.Abs("../templates")
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	serverArgs := []string{"server", "--data-dir", filepath.Join(tmp, "server"), "--port", strconv.Itoa(port), "--ui-port", "-1", "--log-level", "warn"}
	s1 := startWorkerProcess(ctx, t, bin, serverArgs, filepath.Join(tmp, "server1"))
	c := dialWorkerProcess(ctx, t, addr)
	defer c.Close()

	t.Setenv("TEMPORAL_ADDRESS", addr)
	workerArgs := []string{"--data-dir", filepath.Join(tmp, "workerdata"), "--templates", templates, "--host", "joiner", "--log-level", "warn"}
	if py := os.Getenv("AISCI_PYTHON"); py != "" {
		workerArgs = append(workerArgs, "--python", py)
	}
	startWorkerProcess(ctx, t, bin, workerArgs, filepath.Join(tmp, "workerlog"))
	id, err := app.StartCampaign(ctx, c, workflows.CampaignInput{
		Template: "grokking", Model: "scripted", NumIdeas: 1, Quick: true, SkipNoveltyCheck: true, SkipCitations: true,
		ResultsDir: t.TempDir(), MaxRuns: 2, RunTimeout: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	workspace := awaitRunExecuting(ctx, t, c, id, 1)
	time.Sleep(3 * time.Second)
	t.Log("killing the Temporal server (SIGKILL) in the middle of run 1")
	s1.kill(t)
	time.Sleep(5 * time.Second)
	restarted := time.Now()
	startWorkerProcess(ctx, t, bin, serverArgs, filepath.Join(tmp, "server2"))
	c2 := dialWorkerProcess(ctx, t, addr)
	defer c2.Close()
	answered := time.Since(restarted)
	// The first progress after the restart: the paper moves past run 1.
	var resumed time.Duration
	for deadline := time.Now().Add(5 * time.Minute); resumed == 0; time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			t.Fatal("the paper did not move past run 1 after the server came back")
		}
		if pp, ok := campaignPaper(ctx, c2, id); ok && (pp.Run > 1 || pp.Stage != workflows.StageExperiments) {
			resumed = time.Since(restarted)
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, 8*time.Minute)
	defer wcancel()
	var prog workflows.CampaignProgress
	if err := c2.GetWorkflow(wctx, id, "").Get(wctx, &prog); err != nil {
		t.Fatalf("campaign after the server restart: %v", err)
	}
	if prog.State != workflows.StateCompleted || len(prog.Ideas) != 1 || prog.Ideas[0].State != workflows.StateCompleted {
		t.Fatalf("campaign progress = %+v", prog)
	}
	ledger := readExecutions(t, workspace)
	if raw, err := os.ReadFile(filepath.Join(workspace, "logs", "executions.jsonl")); err == nil {
		t.Logf("executions ledger:\n%s", raw)
	}
	starts, recovered := map[int]int{}, 0
	for _, e := range ledger {
		if e.Script == "experiment.py" && e.Event == "start" {
			starts[e.Run]++
		}
		if e.Event == "recovered" {
			recovered++
		}
	}
	redone := 0
	for _, n := range starts {
		redone += n - 1
	}
	// recovered: Temporal retried a run whose completion it lost, and the
	// retry returned the finished run's results instead of running it.
	t.Logf("server killed mid-run: it answered %s after its restart, the paper moved on %s after it; experiment starts per run %v (%d redone, %d lost completions recovered)",
		answered.Round(time.Millisecond), resumed.Round(time.Second), starts, redone, recovered)
	if redone != 0 {
		t.Errorf("runs were executed again after the server restart: starts per run %v", starts)
	}
}
