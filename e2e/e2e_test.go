// Package e2e runs one complete paper on the embedded Temporal server with
// the scripted model, the quick grokking template, a real Python run and a
// real pdflatex build.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/numbers"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/scholar"
	"github.com/aiscientist/aiscientist/internal/scripted"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

func requireTools(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end paper skipped in -short mode")
	}
	for _, tool := range []string{"pdflatex", "bibtex", "pdftotext", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (see README set-up)", tool)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startOrchestrator starts an embedded server and an orchestration worker
// without experiment slots (a test adds its own hosts or stand-ins); the
// context ends, and the server stops, with the test.
func startOrchestrator(t *testing.T, timeout time.Duration) (context.Context, *app.App) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	templates, _ := filepath.Abs("../templates")
	a, err := app.Start(ctx, app.Config{Dev: true, DataDir: t.TempDir(), Port: -1, UIPort: -1, Templates: templates, NoExperiments: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	return ctx, a
}

func TestOnePaperEndToEnd(t *testing.T) {
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	dataDir, results := t.TempDir(), t.TempDir()
	templates, _ := filepath.Abs("../templates")
	uiPort := freePort(t)
	// The scripted model is free; priced here (per million tokens: $1 in,
	// $2 out) so the campaign's budget runs out mid-paper for real.
	models := filepath.Join(t.TempDir(), "models.json")
	if err := os.WriteFile(models, []byte(`[{"name": "scripted", "provider": "scripted", "input_per_m": 1, "output_per_m": 2, "output_cap": 4096}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The novelty check searches a test double of the literature engines.
	lit, err := scholar.StartFake()
	if err != nil {
		t.Fatal(err)
	}
	defer lit.Stop()
	cfg := app.Config{Dev: true, DataDir: dataDir, Port: -1, UIPort: uiPort, Templates: templates, Python: os.Getenv("AISCI_PYTHON"), ModelsFile: models,
		Literature: scholar.FakeConfig(lit.URL), MetricsAddr: "127.0.0.1:0"}
	a, err := app.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			a.Stop()
		}
	}()

	id, err := app.StartCampaign(ctx, a.Client, workflows.CampaignInput{
		Template: "grokking", Model: "scripted", NumIdeas: 1, Quick: true, ResultsDir: results, MaxRuns: 2, RunTimeout: 15 * time.Minute,
		BudgetUSD: 0.05, Improvement: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	waiting := awaitBudgetStop(ctx, t, a.Client, id)
	// The stop is visible to Web UI filters on State, with the stage it
	// stopped in still in Stage.
	stopQuery := fmt.Sprintf("WorkflowId = '%s' AND State = 'budget exhausted' AND Stage = '%s'", waiting.Paper, waiting.Stage)
	awaitVisible(ctx, t, a.Client, stopQuery)
	if !strings.Contains(waiting.Budget.Note, "starter budget "+id+" --usd N") || waiting.Budget.SpentUSD > 0.05 || waiting.Budget.SpentUSD == 0 {
		t.Errorf("paper stopped at its budget with %+v", waiting.Budget)
	}
	raise, err := a.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.BudgetUpdate,
		Args: []any{workflows.BudgetChange{LimitUSD: 5}}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		t.Fatalf("raise the campaign's budget: %v", err)
	}
	var raised workflows.BudgetStatus
	if err := raise.Get(ctx, &raised); err != nil || raised.LimitUSD != 5 {
		t.Fatalf("raise the campaign's budget: %+v, %v", raised, err)
	}
	var prog workflows.CampaignProgress
	if err := a.Client.GetWorkflow(ctx, id, "").Get(ctx, &prog); err != nil {
		t.Fatalf("campaign failed: %v", err)
	}
	if prog.State != workflows.StateCompleted || len(prog.Ideas) != 1 || prog.Ideas[0].State != workflows.StateCompleted {
		t.Fatalf("campaign progress = %+v", prog)
	}
	idea := prog.Ideas[0]
	if want := "paper/grokking/" + idea.Name; idea.PaperID != want {
		t.Errorf("paper ID = %q, want %q", idea.PaperID, want)
	}
	// The idea was checked against the (fake) literature: a query, the
	// papers seen and the decision, kept beside the idea.
	if !strings.HasPrefix(idea.Novelty, "novel; closest: ") || !strings.HasPrefix(prog.NoveltyCheck, "on (") {
		t.Errorf("novelty = %q, check %q", idea.Novelty, prog.NoveltyCheck)
	}
	nov, err := os.ReadFile(filepath.Join(dataDir, "artifacts", "campaigns", strings.TrimPrefix(id, "campaign/"), "ideas", idea.Name, "novelty.json"))
	if err != nil || !strings.Contains(string(nov), `"query"`) || !strings.Contains(string(nov), `"novel": true`) || !strings.Contains(string(nov), "Grokking") {
		t.Errorf("novelty.json: %v\n%.600s", err, nov)
	}
	// One search for the novelty check, one for the citation: each once.
	if got := lit.Requests(); got[scholar.SemanticScholar] != 2 || len(got) != 1 {
		t.Errorf("literature requests %v, want 2 to Semantic Scholar only", got)
	}

	// The exported folder holds a real multi-page PDF and a valid review.
	dir := idea.Result
	if !strings.HasPrefix(dir, filepath.Join(results, "grokking")+string(filepath.Separator)) || !strings.HasSuffix(dir, "_"+idea.Name) {
		t.Errorf("result dir %q is not <out>/grokking/<timestamp>_<name>", dir)
	}
	pdf := filepath.Join(dir, idea.Name+".pdf")
	pages, err := latex.PDFPages(ctx, pdf)
	if err != nil || pages < 2 {
		t.Fatalf("PDF pages = %d, %v", pages, err)
	}
	text, err := latex.PDFText(ctx, pdf)
	if err != nil {
		t.Fatal(err)
	}
	text = strings.Join(strings.Fields(text), " ") // lines wrap anywhere
	// A reference found by the citation search (in the fake literature),
	// cited in the text: no undefined citation is left.
	for _, want := range []string{idea.Title, "Introduction", "Results", "References", "scripted test model", "Explaining Grokking Through Circuit Efficiency", "analysed by Varma et al."} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "review.json"))
	if err != nil {
		t.Fatal(err)
	}
	rev, err := paper.ParseReview(string(b))
	if err != nil {
		t.Fatalf("review.json: %v", err)
	}
	if rev.Overall != idea.Overall || rev.Decision != idea.Decision {
		t.Errorf("review %d/%s, progress says %d/%s", rev.Overall, rev.Decision, idea.Overall, idea.Decision)
	}
	if problems, err := os.ReadFile(filepath.Join(dir, "latex", "problems.txt")); err == nil && strings.Contains(string(problems), "itation") {
		t.Errorf("citation problems remain:\n%s", problems)
	}
	checkWriteup(t, dir, idea.Name)
	for _, f := range []string{"latex/citations.json", "run_0/final_info.json", "run_1/final_info.json", "run_1.py", "notes.txt", "latex/template.tex", "review.txt", "ideas.json", "chat_transcript.md", "logs/executions.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if pngs, _ := filepath.Glob(filepath.Join(dir, "*.png")); len(pngs) == 0 {
		t.Error("no figures in the paper folder")
	}
	// The scripted model really edited the hyperparameter for run 1.
	if run1, _ := os.ReadFile(filepath.Join(dir, "run_1.py")); !strings.Contains(string(run1), "WEIGHT_DECAY = 0.1") {
		t.Error("run_1.py does not carry the scripted edit WEIGHT_DECAY = 0.1")
	}

	// Progress query of the finished paper.
	v, err := a.Client.QueryWorkflow(ctx, idea.PaperID, "", workflows.ProgressQuery)
	if err != nil {
		t.Fatal(err)
	}
	var pp workflows.PaperProgress
	if err := v.Get(&pp); err != nil {
		t.Fatal(err)
	}
	if pp.Stage != workflows.StageDone || pp.Tokens.Calls == 0 || pp.Tokens.Total() == 0 || len(pp.Runs) < 2 {
		t.Errorf("paper progress = %+v", pp)
	}
	// Every cost figure is backed by the call ledger, and the total stayed
	// within the raised budget.
	ledgerCost, ledgerCalls := ledgerTotal(t, filepath.Join(dir, "logs", "calls.jsonl"))
	t.Logf("paper: %d calls, %d tokens, $%.4f (ledger: %d calls, $%.4f); campaign spent $%.4f", pp.Tokens.Calls, pp.Tokens.Total(), pp.Tokens.CostUSD, ledgerCalls, ledgerCost, prog.Budget.SpentUSD)
	if pp.Tokens.CostUSD <= 0.05 || math.Abs(ledgerCost-pp.Tokens.CostUSD) > 1e-9 || ledgerCalls != pp.Tokens.Calls {
		t.Errorf("paper cost $%.6f over %d calls, ledger $%.6f over %d calls", pp.Tokens.CostUSD, pp.Tokens.Calls, ledgerCost, ledgerCalls)
	}
	if prog.Budget.LimitUSD != 5 || prog.Budget.SpentUSD > 5 || math.Abs(prog.Budget.SpentUSD-prog.Tokens.CostUSD-pp.Tokens.CostUSD) > 1e-9 {
		t.Errorf("campaign budget %+v, ideation $%.6f, paper $%.6f", prog.Budget, prog.Tokens.CostUSD, pp.Tokens.CostUSD)
	}

	// Small history: references, never file contents.
	hist := history(ctx, t, a.Client, idea.PaperID)
	var largest int
	for _, e := range hist.GetEvents() {
		if n := len(protojson.Format(e)); n > largest {
			largest = n
		}
	}
	t.Logf("paper history: %d events, largest event %d bytes", len(hist.GetEvents()), largest)
	if len(hist.GetEvents()) > 2000 || largest > 64<<10 {
		t.Errorf("history too large: %d events, largest %d bytes", len(hist.GetEvents()), largest)
	}
	// Determinism: the recorded histories replay against today's code.
	replayer := worker.NewWorkflowReplayer()
	workflows.RegisterWorkflows(replayer)
	if err := replayer.ReplayWorkflowHistory(nil, hist); err != nil {
		t.Errorf("paper history does not replay: %v", err)
	}
	campaignHist := history(ctx, t, a.Client, id)
	if err := replayer.ReplayWorkflowHistory(nil, campaignHist); err != nil {
		t.Errorf("campaign history does not replay: %v", err)
	}
	if out := os.Getenv("AISCI_RECORD_HISTORY"); out != "" {
		save(t, filepath.Join(out, "paper.json"), hist)
		save(t, filepath.Join(out, "campaign.json"), campaignHist)
	}

	// Search attributes make papers filterable, in the server and the Web UI.
	list, err := a.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("IdeaName = '%s' AND Template = 'grokking' AND Stage = 'done' AND State = 'completed' AND CostUSD >= 0 AND ReviewOverall >= 1", idea.Name)})
	if err != nil || len(list.GetExecutions()) != 1 {
		t.Errorf("visibility query by search attributes: %v, %d results", err, len(list.GetExecutions()))
	}
	campaigns, err := a.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = '%s' AND Stage = 'done' AND CostUSD > 0.05", id)})
	if err != nil || len(campaigns.GetExecutions()) != 1 {
		t.Errorf("campaign by CostUSD: %v, %d results", err, len(campaigns.GetExecutions()))
	}
	uiBody := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/api/v1/namespaces/default/workflows?query=%s", uiPort, url.QueryEscape("WorkflowType='PaperWorkflow'")))
	if !strings.Contains(uiBody, idea.PaperID) || !strings.Contains(uiBody, "IdeaName") {
		t.Errorf("Web UI API does not list the paper with its search attributes: %.300s", uiBody)
	}

	// The worker's Prometheus endpoint has our series, the SDK's and the server's.
	checkMetrics(t, "http://"+a.MetricsAddr+"/metrics")

	// `starter review --pdf` reviews a PDF this project did not write, as a
	// workflow on this server, and prints exactly the review JSON.
	reviewForeignPDF(ctx, t, a.Server.HostPort(), dataDir)

	// A restart of the embedded server keeps finished workflows.
	a.Stop()
	stopped = true
	b2, err := app.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer b2.Stop()
	d, err := b2.Client.DescribeWorkflowExecution(ctx, idea.PaperID, "")
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if got := d.GetWorkflowExecutionInfo().GetStatus(); got != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Errorf("after restart the paper is %s", got)
	}
	// The restarted worker answers the progress query of a closed paper
	// (it replays the stored history), at once: membership is static.
	qctx, qcancel := context.WithTimeout(ctx, 15*time.Second)
	defer qcancel()
	v, err = b2.Client.QueryWorkflow(qctx, idea.PaperID, "", workflows.ProgressQuery)
	if err != nil {
		t.Fatalf("progress query after restart: %v", err)
	}
	var after workflows.PaperProgress
	if err := v.Get(&after); err != nil || after.Stage != workflows.StageDone || after.Decision != idea.Decision {
		t.Errorf("progress after restart = %+v, %v", after, err)
	}
}

// awaitVisible waits until a visibility query finds exactly one workflow
// (visibility follows the upserts by a moment).
func awaitVisible(ctx context.Context, t *testing.T, c client.Client, query string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		list, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err == nil && len(list.GetExecutions()) == 1 {
			return
		}
	}
	t.Errorf("no workflow matches %s", query)
}

// awaitBudgetStop polls the campaign until its paper stops at its share of
// the budget, and returns the paper's progress then.
func awaitBudgetStop(ctx context.Context, t *testing.T, c client.Client, id string) workflows.PaperProgress {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		var cp workflows.CampaignProgress
		if v, err := c.QueryWorkflow(ctx, id, "", workflows.ProgressQuery); err == nil && v.Get(&cp) == nil {
			for _, i := range cp.Ideas {
				if i.State != workflows.StateBudgetExhausted {
					continue
				}
				v, err := c.QueryWorkflow(ctx, i.PaperID, "", workflows.ProgressQuery)
				if err != nil {
					t.Fatalf("query the stopped paper: %v", err)
				}
				var pp workflows.PaperProgress
				if err := v.Get(&pp); err != nil {
					t.Fatal(err)
				}
				if pp.State != workflows.StateBudgetExhausted {
					t.Fatalf("campaign says %s waits for budget, the paper says %q", i.PaperID, pp.State)
				}
				t.Logf("paper stopped at its budget in stage %s: %s", pp.Stage, pp.Budget.Note)
				return pp
			}
			if cp.State == workflows.StateCompleted || cp.State == workflows.StateFailed {
				t.Fatalf("campaign ended without stopping at its budget: %+v", cp)
			}
		}
		time.Sleep(time.Second)
	}
	t.Fatal("the paper never stopped at its budget")
	return workflows.PaperProgress{}
}

// ledgerTotal sums a call ledger.
func ledgerTotal(t *testing.T, path string) (float64, int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("call ledger: %v", err)
	}
	var cost float64
	var calls int
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e struct {
			Usage struct {
				Calls   int     `json:"calls"`
				CostUSD float64 `json:"cost_usd"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("ledger line %q: %v", line, err)
		}
		cost += e.Usage.CostUSD
		calls += e.Usage.Calls
	}
	return cost, calls
}

func history(ctx context.Context, t *testing.T, c client.Client, id string) *historypb.History {
	t.Helper()
	it := c.GetWorkflowHistory(ctx, id, "", false, 0)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

func save(t *testing.T, path string, h *historypb.History) {
	t.Helper()
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func httpGet(t *testing.T, u string) string {
	t.Helper()
	var last error
	for i := 0; i < 20; i++ {
		resp, err := http.Get(u)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b)
			}
			last = fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
		} else {
			last = err
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", u, last)
	return ""
}

// checkWriteup checks what the write-up and review left in an exported
// paper folder: true numbers, no undefined reference or citation, the
// scripted draft's two deliberate errors fixed by the loops, the review
// ensemble, and the improved paper.
func checkWriteup(t *testing.T, dir, name string) {
	t.Helper()
	rep, err := numbers.CheckDir(dir)
	if err != nil || rep.Unmatched != 0 || rep.Checked < 5 {
		t.Errorf("numbers: %d checked, %d unmatched, %v", rep.Checked, rep.Unmatched, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "writeup", "numbers.json")); err != nil || !strings.Contains(string(b), `"unmatched": 0`) {
		t.Errorf("writeup/numbers.json: %v\n%.300s", err, b)
	}
	// One number changed: the check finds it.
	tex, err := os.ReadFile(filepath.Join(dir, "latex", "template.tex"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(tex), scripted.FlawLatex) || strings.Contains(string(tex), "0.8642") {
		t.Error("the scripted draft's deliberate errors are still in the paper")
	}
	var changed string
	for _, n := range rep.Numbers {
		if n.Where == "Results table" && n.How == numbers.HowRounded {
			changed = strings.Replace(string(tex), " & "+n.Text+" ", " & 0.8642 ", 1)
			break
		}
	}
	if changed == "" || changed == string(tex) {
		t.Error("no table number to change")
	} else if r := numbers.Check(changed, mustValues(t, dir)); r.Unmatched != 1 {
		t.Errorf("a changed number: %d unmatched, want 1", r.Unmatched)
	}
	logText, err := os.ReadFile(filepath.Join(dir, "latex", "template.log"))
	if err != nil || strings.Contains(string(logText), "undefined") || strings.Contains(string(logText), "Undefined") {
		t.Errorf("the LaTeX log reports undefined references or citations (%v)", err)
	}
	// The loops fixed the draft: a numbers round and a LaTeX round.
	if chat, err := os.ReadFile(filepath.Join(dir, "chat_transcript.md")); err != nil ||
		!strings.Contains(string(chat), "## Numbers check round 1") || !strings.Contains(string(chat), "## LaTeX problems") ||
		!strings.Contains(string(chat), "## Improve the paper") {
		t.Errorf("the writer's conversation lacks the numbers, LaTeX or improvement turns (%v)", err)
	}
	for _, f := range []string{"writeup/transcript_final_results.md", "reviews/review/member_4.json", "reviews/review/transcript.md", name + "_improved.pdf"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	var info activities.ReviewInfo
	if b, err := os.ReadFile(filepath.Join(dir, "reviews", "review", "summary.json")); err != nil || json.Unmarshal(b, &info) != nil ||
		info.Reviews != 5 || !info.Meta || info.FewShot != 1 || info.Reflections < 1 {
		t.Errorf("reviews/review/summary.json: %+v, %v", info, err)
	}
	// review.txt and review_improved.txt are exactly the review JSON.
	for _, f := range []string{"review.txt", "review_improved.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		var r paper.Review
		if err != nil || json.Unmarshal(b, &r) != nil || r.Validate() != nil {
			t.Errorf("%s is not the review JSON: %v\n%.200s", f, err, b)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "failure.txt")); err == nil {
		t.Error("a finished paper has failure.txt")
	}
}

func mustValues(t *testing.T, dir string) []numbers.Value {
	t.Helper()
	v, err := numbers.LoadValues(dir)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// reviewForeignPDF runs `starter review --pdf` on a manual from TeX Live.
func reviewForeignPDF(ctx context.Context, t *testing.T, address, dataDir string) {
	t.Helper()
	const pdf = "/usr/share/doc/texlive-doc/bibtex/base/btxdoc.pdf"
	if _, err := os.Stat(pdf); err != nil {
		t.Logf("%s not installed: starter review not tried", pdf)
		return
	}
	out, stderr := runStarter(ctx, t, "review", "--pdf", pdf, "--model", "scripted", "--ensemble", "2",
		"--address", address, "--data-dir", dataDir, "--json")
	var r paper.Review
	if err := json.Unmarshal(out, &r); err != nil || r.Validate() != nil || !strings.Contains(r.Summary, "BIBTEXing") {
		t.Errorf("starter review printed %v %v:\n%.400s", err, r.Validate(), out)
	}
	if !strings.Contains(stderr, "review started: review/") {
		t.Errorf("starter review said: %s", stderr)
	}
}

// runStarter runs the starter command line and returns what it printed
// on stdout and stderr; a failure ends the test.
func runStarter(ctx context.Context, t *testing.T, args ...string) ([]byte, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "go", append([]string{"run", "../starter"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("starter %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, stderr.String()
}
