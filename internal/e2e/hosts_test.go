package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiscientist/aiscientist/internal/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestHostDiesMidRun runs a paper on an orchestrating worker with two
// experiment hosts in one test server. The host running the paper's
// experiment is stopped mid-run: its queued retry is never picked up, so
// the paper moves to the other host and finishes there.
func TestHostDiesMidRun(t *testing.T) {
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	templates, _ := filepath.Abs("../../templates")
	cfg := app.Config{Dev: true, DataDir: t.TempDir(), Port: -1, UIPort: -1, Templates: templates,
		Python: os.Getenv("AISCI_PYTHON"), NoExperiments: true}
	a, err := app.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	hosts := map[string]*app.HostWorkers{}
	for _, name := range []string{"alpha-host", "beta-host"} {
		h, err := a.AddHost(name, 1)
		if err != nil {
			t.Fatal(err)
		}
		hosts[name] = h
	}

	id, err := app.StartCampaign(ctx, a.Client, workflows.CampaignInput{
		Template: "grokking", Model: "scripted", NumIdeas: 1, Quick: true, ResultsDir: t.TempDir(), MaxRuns: 1,
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
	if len(prog.Ideas) != 1 || prog.Ideas[0].State != "completed" {
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
}
