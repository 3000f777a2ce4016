package e2e

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/aiscientist/aiscientist/internal/store/s3store"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestHostDiesMidRun runs a paper on an orchestrating worker with two
// experiment hosts in one test server. The three share no files: each has
// its own artifact folder and the workspaces live in an S3 bucket (an
// in-memory S3 server). The host running the paper's experiment is
// stopped mid-run: its queued retry is never picked up, so the paper moves
// to the other host, which fetches the workspace from the bucket, and
// finishes there.
func TestHostDiesMidRun(t *testing.T) {
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	templates, _ := filepath.Abs("../templates")
	remote := fakeBucket(ctx, t)
	cfg := app.Config{Dev: true, DataDir: t.TempDir(), Port: -1, UIPort: -1, Templates: templates,
		Python: os.Getenv("AISCI_PYTHON"), NoExperiments: true, Remote: remote}
	a, err := app.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	hosts := map[string]*app.HostWorkers{}
	caches := map[string]string{}
	for _, name := range []string{"alpha-host", "beta-host"} {
		caches[name] = t.TempDir()
		h, err := a.AddHost(app.HostConfig{Name: name, CPUSlots: 1, Artifacts: caches[name]})
		if err != nil {
			t.Fatal(err)
		}
		hosts[name] = h
	}

	id, err := app.StartCampaign(ctx, a.Client, workflows.CampaignInput{
		Template: "grokking", Model: "scripted", NumIdeas: 1, Quick: true, SkipNoveltyCheck: true, SkipCitations: true, ResultsDir: t.TempDir(), MaxRuns: 1,
		RunTimeout: 10 * time.Minute, HostTimeout: 15 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}

	// Wait until run 1 is under way on some host, then kill that host.
	var first string
	deadline := time.Now().Add(8 * time.Minute)
	for first == "" && time.Now().Before(deadline) {
		var cp workflows.CampaignProgress
		if v, err := a.Client.QueryWorkflow(ctx, id, "", workflows.ProgressQuery); err == nil && v.Get(&cp) == nil && len(cp.Ideas) > 0 && cp.Ideas[0].PaperID != "" {
			var pp workflows.PaperProgress
			if v, err := a.Client.QueryWorkflow(ctx, cp.Ideas[0].PaperID, "", workflows.ProgressQuery); err == nil && v.Get(&pp) == nil &&
				pp.Stage == workflows.StageExperiments && pp.Run == 1 && pp.Host != "" && !strings.HasPrefix(pp.Host, "waiting") {
				time.Sleep(5 * time.Second) // well inside the ~35 s run
				first = pp.Host
			}
		}
		if first == "" {
			time.Sleep(time.Second)
		}
	}
	if first == "" {
		t.Fatal("run 1 never started on a host")
	}
	t.Logf("stopping %s in the middle of run 1", first)
	hosts[first].Stop()

	var prog workflows.CampaignProgress
	if err := a.Client.GetWorkflow(ctx, id, "").Get(ctx, &prog); err != nil {
		t.Fatalf("campaign failed: %v", err)
	}
	if len(prog.Ideas) != 1 || prog.Ideas[0].State != workflows.StateCompleted {
		t.Fatalf("campaign progress = %+v", prog)
	}
	v, err := a.Client.QueryWorkflow(ctx, prog.Ideas[0].PaperID, "", workflows.ProgressQuery)
	if err != nil {
		t.Fatal(err)
	}
	var pp workflows.PaperProgress
	if err := v.Get(&pp); err != nil {
		t.Fatal(err)
	}
	t.Logf("paper finished on %s; warnings: %q", pp.Host, pp.Warnings)
	if pp.Host == first || pp.Host == "" {
		t.Errorf("the paper finished on %q, want the other host", pp.Host)
	}
	if !strings.Contains(strings.Join(pp.Warnings, "\n"), "host "+first+" did not pick up its work") {
		t.Errorf("no warning about the lost host: %q", pp.Warnings)
	}
	if len(pp.Runs) < 2 || !pp.Runs[len(pp.Runs)-1].OK {
		t.Errorf("runs = %+v", pp.Runs)
	}
	if _, err := os.Stat(filepath.Join(prog.Ideas[0].Result, "run_1", "final_info.json")); err != nil {
		t.Errorf("run 1 has no results: %v", err)
	}
	// The results came back through the bucket: the finishing host's
	// cache has them, and the orchestrator's own folder got them from the
	// bucket, not from a shared disk.
	key, err := filepath.Rel(filepath.Join(cfg.DataDir, "artifacts", "papers"), pp.Workspace)
	if err != nil || strings.HasPrefix(key, "..") {
		t.Fatalf("workspace %s is not in the orchestrator's artifact folder", pp.Workspace)
	}
	if _, err := os.Stat(filepath.Join(pp.Workspace, "run_1", "final_info.json")); err != nil {
		t.Errorf("the orchestrator's copy has no run 1 results: %v", err)
	}
	for name, want := range map[string]bool{pp.Host: true, first: false} {
		_, err := os.Stat(filepath.Join(caches[name], "papers", key, "run_1", "final_info.json"))
		if got := err == nil; got != want {
			t.Errorf("host %s has run_1/final_info.json: %v, want %v", name, got, want)
		}
	}
	if ok, err := remote.Exists(ctx, "papers/"+key+"/run_1"); err != nil || !ok {
		t.Errorf("bucket holds papers/%s/run_1: %v, %v", key, ok, err)
	}
}

// fakeBucket starts an in-memory S3 server (gofakes3) and returns a store
// built the way a worker builds one from AISCI_S3_* settings.
func fakeBucket(ctx context.Context, t *testing.T) *s3store.Store {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("papers"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	cfg := s3store.ConfigFromEnv(func(k string) string {
		return map[string]string{"AISCI_S3_BUCKET": "papers", "AISCI_S3_ENDPOINT": srv.URL}[k]
	})
	st, err := s3store.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}
