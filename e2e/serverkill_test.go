package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"go.temporal.io/sdk/client"

	"github.com/aiscientist/aiscientist/internal/pgtest"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// serverOutage is how long the Temporal server stays dead: long enough
// that the running experiment's heartbeats fail, so the SDK cancels its
// activity's context (the run must go on regardless), and well inside
// the run, which takes 35 s or more here.
const serverOutage = 25 * time.Second

// TestClusterServerKilled is a cluster on one machine: the Temporal server
// alone (`worker server --db postgres://…`, a throwaway PostgreSQL), two
// experiment-host worker processes (`worker --host …`) with their own data
// and artifact folders, sharing nothing but an S3-compatible bucket on
// loopback, and a paper. The server is killed with SIGKILL while run 1 is
// executing and restarted on the same database; the paper finishes with no
// run executed twice.
func TestClusterServerKilled(t *testing.T) {
	requireTools(t)
	pg := pgtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin := buildWorker(ctx, t, tmp)
	templates, _ := filepath.Abs("../templates")

	backend := s3mem.New()
	if err := backend.CreateBucket("papers"); err != nil {
		t.Fatal(err)
	}
	s3 := httptest.NewServer(gofakes3.New(backend).Server())
	defer s3.Close()
	for k, v := range map[string]string{
		"AISCI_S3_BUCKET": "papers", "AISCI_S3_ENDPOINT": s3.URL, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_CONFIG_FILE": filepath.Join(tmp, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(tmp, "none"),
	} {
		t.Setenv(k, v) // the worker processes inherit them
	}

	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	serverArgs := []string{"server", "--db", pg.URL("temporal"), "--port", strconv.Itoa(port), "--ui-port", "-1", "--log-level", "warn"}
	s1 := startWorkerProcess(ctx, t, bin, serverArgs, filepath.Join(tmp, "server1"))
	c := dialWorkerProcess(ctx, t, addr)
	defer c.Close()

	t.Setenv("TEMPORAL_ADDRESS", addr)
	artifacts := map[string]string{}
	for _, host := range []string{"alpha", "beta"} {
		artifacts[host] = filepath.Join(tmp, host, "artifacts")
		args := []string{"--host", host, "--data-dir", filepath.Join(tmp, host), "--artifacts", artifacts[host], "--templates", templates, "--log-level", "warn"}
		if py := os.Getenv("AISCI_PYTHON"); py != "" {
			args = append(args, "--python", py)
		}
		startWorkerProcess(ctx, t, bin, args, filepath.Join(tmp, host+"-worker"))
	}
	results := t.TempDir()
	id, err := app.StartCampaign(ctx, c, workflows.CampaignInput{
		Template: "grokking", Model: "scripted", NumIdeas: 1, Quick: true, SkipNoveltyCheck: true, SkipCitations: true,
		ResultsDir: results, MaxRuns: 2, RunTimeout: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	host := awaitClusterRun(ctx, t, c, id, 1, artifacts)
	t.Logf("killing the Temporal server (SIGKILL) as run 1 starts on %s; restarting it in %s", host, serverOutage)
	s1.kill(t)
	time.Sleep(serverOutage)
	restarted := time.Now()
	startWorkerProcess(ctx, t, bin, serverArgs, filepath.Join(tmp, "server2"))
	c2 := dialWorkerProcess(ctx, t, addr)
	defer c2.Close()
	answered := time.Since(restarted)
	var resumed time.Duration
	for deadline := time.Now().Add(5 * time.Minute); resumed == 0; time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			t.Fatal("the paper did not move past run 1 after the server came back")
		}
		if pp, ok := campaignPaper(ctx, c2, id); ok && (pp.Run > 1 || pp.Stage != workflows.StageExperiments) {
			resumed = time.Since(restarted)
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Minute)
	defer wcancel()
	var prog workflows.CampaignProgress
	if err := c2.GetWorkflow(wctx, id, "").Get(wctx, &prog); err != nil {
		t.Fatalf("campaign after the server restart: %v", err)
	}
	if prog.State != workflows.StateCompleted || len(prog.Ideas) != 1 || prog.Ideas[0].State != workflows.StateCompleted {
		t.Fatalf("campaign progress = %+v", prog)
	}
	// The exported paper's ledger holds every host's starts and ends (it
	// travelled with the workspace through the bucket).
	exported := prog.Ideas[0].Result
	ledger := readExecutions(t, exported)
	if raw, err := os.ReadFile(filepath.Join(exported, "logs", "executions.jsonl")); err == nil {
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
	outlasted := false
	for h := range artifacts {
		b, _ := os.ReadFile(filepath.Join(tmp, h+"-worker.stderr"))
		outlasted = outlasted || strings.Contains(string(b), "the run goes on")
	}
	// recovered: Temporal retried a run whose completion it lost, and the
	// retry returned the finished run's results instead of running it;
	// outlasted: the SDK cancelled the run's activity for failed heartbeats
	// and the run went on.
	t.Logf("server killed for %s mid-run: it answered %s after its restart, the paper moved on %s after it; experiment starts per run %v (%d redone, %d lost completions recovered, run outlasted a cancelled heartbeat: %v)",
		serverOutage, answered.Round(time.Millisecond), resumed.Round(time.Second), starts, redone, recovered, outlasted)
	if redone != 0 || len(starts) != 3 {
		t.Errorf("experiment starts per run %v, want runs 0, 1 and 2 once each", starts)
	}
	if prog.Ideas[0].PDF == "" {
		t.Error("the paper has no PDF")
	}
	for _, f := range []string{"run_1/final_info.json", "run_2/final_info.json", filepath.Base(prog.Ideas[0].PDF)} {
		if _, err := os.Stat(filepath.Join(exported, f)); err != nil {
			t.Errorf("exported paper lacks %s: %v", f, err)
		}
	}
}

// awaitClusterRun waits until run `run` of the campaign's paper is
// executing on one of the hosts (that host's copy of the ledger has the
// start and no end: a host writes into its local copy of the workspace,
// which reaches the bucket when the activity ends) and returns the host.
func awaitClusterRun(ctx context.Context, t *testing.T, c client.Client, campaign string, run int, artifacts map[string]string) string {
	t.Helper()
	for deadline := time.Now().Add(8 * time.Minute); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		pp, ok := campaignPaper(ctx, c, campaign)
		if !ok || pp.Stage != workflows.StageExperiments || pp.Workspace == "" {
			continue
		}
		key := ""
		for _, dir := range artifacts {
			if rel, err := filepath.Rel(filepath.Join(dir, "papers"), pp.Workspace); err == nil && !strings.HasPrefix(rel, "..") {
				key = rel
			}
		}
		for host, dir := range artifacts {
			started, ended := false, false
			for _, e := range readExecutions(t, filepath.Join(dir, "papers", key)) {
				if e.Script == "experiment.py" && e.Run == run {
					started = started || e.Event == "start"
					ended = ended || e.Event == "end"
				}
			}
			if key != "" && started && !ended {
				return host
			}
		}
	}
	t.Fatalf("run %d never started", run)
	return ""
}
