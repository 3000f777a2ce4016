package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/gpu"
	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/scripted"
	"github.com/aiscientist/aiscientist/internal/store"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestFlakyProviderPaysOnce measures what a provider that fails every
// other request (HTTP 503, the mix real providers show on a bad day) costs
// a paper: the same quick paper runs once against the scripted model as
// it is and once behind a proxy that fails half of all requests; every
// failure fails its activity, which Temporal retries, and the retry
// replays the replies its earlier attempts already had. The paid calls
// must stay within 1.2× the fault-free paper's. Both run in Temporal's
// test environment (retry delays skipped) with the real activities.
func TestFlakyProviderPaysOnce(t *testing.T) {
	requireTools(t)
	clean := flakyPaper(t, 0)
	flaky := flakyPaper(t, 2)
	ratio := float64(flaky.paid) / float64(clean.paid)
	t.Logf("paid model calls: %d fault-free, %d with every 2nd request failing (%.2f×); the flaky paper sent %d requests, %d failed, %d replies were replayed free",
		clean.paid, flaky.paid, ratio, flaky.requests, flaky.failed, flaky.replayed)
	if clean.paid == 0 || ratio > 1.2 {
		t.Errorf("paid calls %d against %d fault-free: more than 1.2×", flaky.paid, clean.paid)
	}
	if flaky.failed == 0 || flaky.replayed == 0 {
		t.Errorf("the proxy failed %d requests and %d replies were replayed: the scenario did not happen", flaky.failed, flaky.replayed)
	}
	if flaky.cost > clean.cost*1.2 {
		t.Errorf("cost $%.4f against $%.4f fault-free", flaky.cost, clean.cost)
	}
}

type payCount struct {
	paid, replayed   int
	requests, failed int64
	cost             float64
}

// flakyPaper runs one quick grokking paper whose model requests fail with
// 503 every failEvery-th time (0: never).
func flakyPaper(t *testing.T, failEvery int64) payCount {
	t.Helper()
	var requests, failed atomic.Int64
	model := scripted.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := requests.Add(1); failEvery > 0 && n%failEvery == 0 {
			failed.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error": {"message": "overloaded, try again", "type": "server_error"}}`))
			return
		}
		model.ServeHTTP(w, r)
	}))
	defer srv.Close()

	templates, _ := filepath.Abs("../templates")
	root := t.TempDir()
	reg := &llm.Registry{
		Catalog: llm.NewCatalog(llm.ModelInfo{Name: "flaky-scripted", Provider: llm.ProviderOpenAI, APIModel: "scripted",
			BaseURL: srv.URL + "/v1", InputPerM: 1, OutputPerM: 2, OutputCap: 4096}),
		Getenv: func(k string) string {
			if k == "OPENAI_API_KEY" {
				return "sk-test"
			}
			return ""
		},
	}
	sb := app.SandboxConfig(false, root)
	if sb.Check() != nil {
		sb.Disabled = true // what is measured here is the model calls
	}
	acts := &activities.Activities{Store: store.Local{Root: root}, Templates: templates, LLM: reg,
		Python: os.Getenv("AISCI_PYTHON"), LaTeX: latex.Compiler{}, Sandbox: sb}
	host := activities.NewHost("flaky-host", gpu.Inventory{Devices: gpu.CPUSlots(1)})
	runner := activities.NewRunner(acts, &activities.Device{Host: host, Slot: gpu.CPUSlots(1)[0]})

	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(20 * time.Minute)
	workflows.RegisterWorkflows(env)
	env.RegisterActivity(acts)
	env.RegisterActivity(host)
	env.RegisterActivity(runner)
	ref := activities.PaperRef{Key: "grokking/20261201_000000_weight_decay_grokking", Name: "weight_decay_grokking", Template: "grokking", Model: "flaky-scripted"}
	idea := paper.Idea{Name: "weight_decay_grokking", Title: "How Weight Decay Strength Shifts the Onset of Grokking",
		Experiment:      "Sweep the constant WEIGHT_DECAY in experiment.py over the values 0.1, 1.0 (one run per value) and compare validation accuracy with the baseline.",
		Interestingness: 5, Feasibility: 9, Novelty: 3}
	env.ExecuteWorkflow(workflows.PaperWorkflow, workflows.PaperInput{Paper: ref, Idea: idea, Quick: true, MaxRuns: 2, RunTimeout: 10 * time.Minute, SkipCitations: true})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("paper (fail every %d): %v", failEvery, env.GetWorkflowError())
	}
	var res workflows.PaperResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	c := payCount{requests: requests.Load(), failed: failed.Load(), cost: res.Progress.Tokens.CostUSD}
	f, err := os.Open(filepath.Join(root, "papers", ref.Key, activities.LedgerFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var e struct {
			Usage    llm.Usage `json:"usage"`
			Replayed bool      `json:"replayed"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		c.paid += e.Usage.Calls
		if e.Replayed {
			c.replayed++
		}
	}
	if c.paid != res.Progress.Tokens.Calls {
		t.Errorf("the ledger counts %d paid calls, the paper %d", c.paid, res.Progress.Tokens.Calls)
	}
	return c
}
