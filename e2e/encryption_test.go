package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/codec"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestEncryptedPayloads: with AISCI_CODEC_KEY set, a campaign's paper (on
// the reference-style fixture, the cheapest) runs as usual, its history
// replays with the key, and Temporal's database files hold nothing
// readable of the idea, its prompts or its review.
func TestEncryptedPayloads(t *testing.T) {
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	t.Setenv(codec.KeyEnv, base64.StdEncoding.EncodeToString(key))
	templates, _ := filepath.Abs("../templates")
	extra, _ := filepath.Abs("testdata/refstyle")
	dataDir := t.TempDir()
	a, err := app.Start(ctx, app.Config{Dev: true, DataDir: dataDir, Port: -1, UIPort: freePort(t), Templates: templates,
		TemplatesDirs: []string{extra}, Python: os.Getenv("AISCI_PYTHON")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	if a.Server.CodecURL() == "" {
		t.Error("worker --dev with a key serves no codec endpoint for the Web UI")
	}
	id, err := app.StartCampaign(ctx, a.Client, workflows.CampaignInput{
		Template: "walks", Model: "scripted", NumIdeas: 1, Quick: true, ResultsDir: t.TempDir(), MaxRuns: 1, RunTimeout: 5 * time.Minute,
		SkipNoveltyCheck: true, SkipCitations: true, Review: activities.ReviewSpec{Ensemble: 1, Reflections: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	var prog workflows.CampaignProgress
	if err := a.Client.GetWorkflow(ctx, id, "").Get(ctx, &prog); err != nil || len(prog.Ideas) != 1 || prog.Ideas[0].State != workflows.StateCompleted {
		t.Fatalf("encrypted campaign: %v, %+v", err, prog)
	}
	cdc, err := app.CodecFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: cdc.DataConverter(), FailureConverter: cdc.FailureConverter()})
	if err != nil {
		t.Fatal(err)
	}
	workflows.RegisterWorkflows(replayer)
	if err := replayer.ReplayWorkflowHistory(nil, history(ctx, t, a.Client, prog.Ideas[0].PaperID)); err != nil {
		t.Errorf("encrypted paper history does not replay with the key: %v", err)
	}
	// The memo that fetch reads (the workspace key) is encrypted too, and
	// the starter's converter reads it with the key.
	desc, err := a.Client.DescribeWorkflowExecution(ctx, prog.Ideas[0].PaperID, "")
	if err != nil {
		t.Fatal(err)
	}
	memo := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()["workspace_key"]
	dc, err := app.DataConverter()
	var wsKey string
	if memo == nil || err != nil || dc.FromPayload(memo, &wsKey) != nil || !strings.HasPrefix(wsKey, "walks/") {
		t.Errorf("the paper's workspace memo does not decode with the key: %v %q", err, wsKey)
	}
	a.Stop() // the database files are complete once the server has stopped

	b, err := os.ReadFile(filepath.Join(prog.Ideas[0].Result, "idea.json"))
	var idea paper.Idea
	if err != nil || json.Unmarshal(b, &idea) != nil || idea.Title == "" {
		t.Fatalf("idea.json: %v", err)
	}
	review, _ := os.ReadFile(filepath.Join(prog.Ideas[0].Result, "review.txt"))
	var r paper.Review
	_ = json.Unmarshal(review, &r)
	// The scan reads the database: workflow IDs (which name the idea) are
	// not payloads and stay readable.
	if fileHolding(dataDir, "artifacts", "paper/walks/"+idea.Name) == "" {
		t.Fatalf("no file under %s names the paper's workflow ID: the scan reads nothing", dataDir)
	}
	for _, secret := range []string{idea.Title, idea.Experiment[:min(40, len(idea.Experiment))], r.Summary[:min(40, len(r.Summary))]} {
		if secret == "" {
			continue
		}
		if f := fileHolding(dataDir, "artifacts", secret); f != "" {
			t.Errorf("%s holds %q in plain text despite %s", f, secret, codec.KeyEnv)
		}
	}
}

// fileHolding names the first file under root (skipping folders named
// skip) that holds s, or "".
func fileHolding(root, skip, s string) string {
	found := ""
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || found != "" {
			return nil
		}
		if d.IsDir() && d.Name() == skip {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(s)) {
				found = path
			}
		}
		return nil
	})
	return found
}
