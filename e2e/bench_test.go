package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestBenchReviewResume: `starter bench-review run` reviews a benchmark's
// papers (text and Markdown, testdata/bench, written here) with the
// scripted double on the embedded server and writes the reviews table;
// run again it skips every finished paper (no model call), and `score`
// reads the table.
func TestBenchReviewResume(t *testing.T) {
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	templates, _ := filepath.Abs("../templates")
	dataDir := t.TempDir()
	a, err := app.Start(ctx, app.Config{Dev: true, DataDir: dataDir, Port: -1, UIPort: freePort(t), Templates: templates})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	out := filepath.Join(t.TempDir(), "scripted.csv")
	run := func() (string, string) {
		o, e := runStarter(ctx, t, "bench-review", "run", "--papers", "testdata/bench/papers", "--ratings", "testdata/bench/ratings.tsv",
			"--model", "scripted", "--ensemble", "2", "--reflections", "1", "--fewshot", "0", "--concurrency", "2",
			"--out", out, "--address", a.Server.HostPort(), "--data-dir", dataDir)
		return string(o), e
	}
	calls := regexp.MustCompile(`4 papers reviewed, 0 without a review; (\d+) model calls`)
	first, stderr := run()
	if m := calls.FindStringSubmatch(first); m == nil || m[1] == "0" {
		t.Fatalf("first run printed:\n%s\n%s", first, stderr)
	}
	if !strings.Contains(stderr, "benchmark started: bench-review/scripted (4 papers") {
		t.Errorf("first run said: %s", stderr)
	}
	hist := history(ctx, t, a.Client, workflows.BenchWorkflowID("scripted"))
	replayer := worker.NewWorkflowReplayer()
	workflows.RegisterWorkflows(replayer)
	if err := replayer.ReplayWorkflowHistory(nil, hist); err != nil {
		t.Errorf("benchmark history does not replay: %v", err)
	}
	if out := os.Getenv("AISCI_RECORD_HISTORY"); out != "" {
		save(t, filepath.Join(out, "bench.json"), hist)
	}
	again, stderr := run()
	if m := calls.FindStringSubmatch(again); m == nil || m[1] != "0" {
		t.Fatalf("second run printed (want no model call):\n%s\n%s", again, stderr)
	}
	table, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(table), "paper_id,Summary,Questions") {
		t.Fatalf("reviews table: %v\n%.300s", err, table)
	}
	js, _ := runStarter(ctx, t, "bench-review", "score", "--ratings", "testdata/bench/ratings.tsv", "--reviews", out, "--json", "--bootstrap", "100")
	var rep struct {
		Scored   int `json:"scored"`
		Accepted int `json:"accepted"`
	}
	if err := json.Unmarshal(js, &rep); err != nil || rep.Scored != 4 || rep.Accepted != 2 {
		t.Errorf("score printed %v:\n%.500s", err, js)
	}
}
