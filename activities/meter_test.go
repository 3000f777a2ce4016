package activities_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
)

// withOutputPrice prices the fake model by output alone, so every call's
// worst case is the same ($0.001 × 100 tokens = $0.10) whatever the prompt,
// and each real call (5 completion tokens) costs $0.005.
func withOutputPrice() envOption {
	return func(e *env) {
		e.acts.LLM.Catalog = llm.NewCatalog(llm.ModelInfo{Name: fakeModelName, Provider: llm.ProviderOpenAI, MaxOutput: 100, OutputPerM: 1000})
	}
}

func ledger(t *testing.T, dir string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, activities.LedgerFile))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("ledger line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestCoderTurnBudget(t *testing.T) {
	const noBlocks = "THOUGHT: I would rather not." // every reply asks for a reflection
	tests := []struct {
		name      string
		limit     float64
		spent     float64
		wantCalls int
		refused   bool
	}{
		{name: "no budget", wantCalls: activities.MaxEditReflections + 1},
		{name: "enough budget", limit: 10, wantCalls: activities.MaxEditReflections + 1},
		{name: "refused before any call", limit: 1, spent: 0.95, wantCalls: 0, refused: true},
		{name: "refused mid-turn", limit: 0.104, wantCalls: 1, refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := constant(t, noBlocks)
			e := newEnv(t, withFake(f), withOutputPrice())
			ref, dir := grokkingPaper(t, e, "budget", fakeModelName)
			writeRun(t, dir, 0, 0.9)
			before := readFile(t, filepath.Join(dir, "experiment.py"))
			res, err := execute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, activities.CoderTurnInput{
				Paper: ref, Conversation: activities.ConvCoder, TurnID: "t1", Kind: activities.KindImplement, Run: 1, Attempt: 1,
				MaxAttempts: 4, MaxRuns: 5, Budgeted: activities.Budgeted{Budget: llm.Budget{LimitUSD: tt.limit, SpentUSD: tt.spent}},
			})
			if f.calls() != tt.wantCalls {
				t.Errorf("model calls = %d, want %d", f.calls(), tt.wantCalls)
			}
			wantCost := 0.005 * float64(tt.wantCalls)
			usage := res.Usage
			if tt.refused {
				wantFinal(t, err, activities.ErrTypeBudget)
				if !activities.IsBudgetExhausted(err) {
					t.Error("IsBudgetExhausted = false")
				}
				usage = activities.UsageOf(err)
			} else if err != nil {
				t.Fatalf("CoderTurn: %v", err)
			}
			if usage.Calls != tt.wantCalls || usage.CostUSD < wantCost-1e-9 || usage.CostUSD > wantCost+1e-9 {
				t.Errorf("usage = %+v, want %d calls costing $%.3f", usage, tt.wantCalls, wantCost)
			}
			if got := readFile(t, filepath.Join(dir, "experiment.py")); got != before {
				t.Error("experiment.py changed")
			}
			lines := ledger(t, dir)
			if len(lines) != tt.wantCalls {
				t.Fatalf("ledger has %d lines, want %d", len(lines), tt.wantCalls)
			}
			for _, l := range lines {
				if l["model"] != fakeModelName || l["activity"] == "" || l["attempt"] != float64(1) {
					t.Errorf("ledger line %v lacks model, activity or attempt", l)
				}
			}
		})
	}
}

// A call that fails after others were paid for still reports their cost,
// and stays retryable.
func TestFailedActivityReportsUsage(t *testing.T) {
	f := newFakeModel(t, func(n int, _ openai.ChatCompletionRequest) fakeReply {
		if n == 1 {
			return fakeReply{Content: "THOUGHT: no edits yet."}
		}
		return fakeReply{Status: 500}
	})
	e := newEnv(t, withFake(f), withOutputPrice())
	ref, dir := grokkingPaper(t, e, "fails", fakeModelName)
	writeRun(t, dir, 0, 0.9)
	_, err := execute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, activities.CoderTurnInput{
		Paper: ref, Conversation: activities.ConvCoder, TurnID: "t1", Kind: activities.KindImplement, Run: 1, Attempt: 1, MaxAttempts: 4, MaxRuns: 5,
	})
	ae := appError(t, err)
	if ae.NonRetryable() {
		t.Errorf("a 500 must stay retryable: %v", err)
	}
	if u := activities.UsageOf(err); u.Calls != 1 || u.CostUSD < 0.005-1e-9 {
		t.Errorf("usage in the error = %+v, want the first call", u)
	}
	if lines := ledger(t, dir); len(lines) != 2 || lines[1]["error"] == nil {
		t.Errorf("ledger = %v, want the paid call and the failed one", lines)
	}
}
