package activities_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	openai "github.com/sashabaranov/go-openai"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/gpu"
	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/scripted"
	"github.com/aiscientist/aiscientist/internal/store"
)

const fakeModelName = "fake-model"

// countingDoer counts the calls that reach the in-process scripted model.
type countingDoer struct {
	next  openai.HTTPDoer
	calls atomic.Int32
}

func (c *countingDoer) Do(r *http.Request) (*http.Response, error) {
	c.calls.Add(1)
	return c.next.Do(r)
}

// fakeReply is one answer of the fake model: a completion with Content, or
// an error response when Status is set.
type fakeReply struct {
	Status  int
	Header  http.Header
	Content string
	Finish  openai.FinishReason // empty: stop
	Message string              // an error's message (with Status)
}

// fakeModel is an OpenAI-compatible server with canned replies.
type fakeModel struct {
	srv   *httptest.Server
	mu    sync.Mutex
	reqs  []openai.ChatCompletionRequest
	reply func(n int, req openai.ChatCompletionRequest) fakeReply
}

func newFakeModel(t *testing.T, reply func(n int, req openai.ChatCompletionRequest) fakeReply) *fakeModel {
	t.Helper()
	f := &fakeModel{reply: reply}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/chat/completions") {
			http.NotFound(w, r)
			return
		}
		var req openai.ChatCompletionRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		n := len(f.reqs)
		f.mu.Unlock()
		rep := f.reply(n, req)
		for k, vs := range rep.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if rep.Status != 0 && rep.Status != http.StatusOK {
			w.WriteHeader(rep.Status)
			msg := rep.Message
			if msg == "" {
				msg = fmt.Sprintf("fake error %d", rep.Status)
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": msg, "type": "fake"}})
			return
		}
		finish := rep.Finish
		if finish == "" {
			finish = openai.FinishReasonStop
		}
		_ = json.NewEncoder(w).Encode(openai.ChatCompletionResponse{
			ID: "fake", Object: "chat.completion", Model: req.Model,
			Choices: []openai.ChatCompletionChoice{{Message: openai.ChatCompletionMessage{Role: "assistant", Content: rep.Content}, FinishReason: finish}},
			Usage:   openai.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15},
		})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// constant returns a fake model that always replies content.
func constant(t *testing.T, content string) *fakeModel {
	return newFakeModel(t, func(int, openai.ChatCompletionRequest) fakeReply { return fakeReply{Content: content} })
}

func (f *fakeModel) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

func (f *fakeModel) request(i int) openai.ChatCompletionRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reqs[i]
}

// env is one test's worker: activities, their store root and the models.
type env struct {
	t        *testing.T
	acts     *activities.Activities
	run      *activities.Runner // scripts run on one CPU slot of no host
	root     string
	scripted *countingDoer
	fake     *fakeModel
}

type envOption func(*env)

// withTemplates points the activities at another templates folder.
func withTemplates(dir string) envOption {
	return func(e *env) { e.acts.Templates = dir }
}

// withFake routes every non-scripted model name to the fake server.
func withFake(f *fakeModel) envOption {
	return func(e *env) {
		e.fake = f
		// The fake answers as an OpenAI-compatible server under its own name.
		e.acts.LLM.Catalog = llm.NewCatalog(llm.ModelInfo{Name: fakeModelName, Provider: llm.ProviderOpenAI}, llm.ModelInfo{Name: "reviewer-x", Provider: llm.ProviderOpenAI})
		e.acts.LLM.Getenv = func(k string) string {
			switch k {
			case "OPENAI_BASE_URL":
				return f.srv.URL + "/v1"
			case "OPENAI_API_KEY":
				return "sk-fake"
			}
			return ""
		}
	}
}

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	templates, err := filepath.Abs("../templates")
	if err != nil {
		t.Fatal(err)
	}
	cd := &countingDoer{next: scripted.NewInProcess()}
	e := &env{t: t, root: t.TempDir(), scripted: cd}
	py := ""
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		py = "/usr/bin/python3"
	}
	e.acts = &activities.Activities{
		Store:     store.Local{Root: e.root},
		Templates: templates,
		LLM:       &llm.Registry{Scripted: cd, Getenv: func(string) string { return "" }},
		Python:    py,
		LaTeX:     latex.Compiler{},
	}
	e.run = activities.NewRunner(e.acts, &activities.Device{Slot: gpu.CPUSlots(1)[0]})
	for _, o := range opts {
		o(e)
	}
	return e
}

var quietLogger = log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// execute runs one activity in Temporal's test activity environment, so
// heartbeats and error conversion behave as on a worker.
func execute[T any](t *testing.T, e *env, fn any, in any) (T, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quietLogger)
	te := s.NewTestActivityEnvironment()
	te.RegisterActivity(e.acts)
	te.RegisterActivity(e.run)
	var out T
	val, err := te.ExecuteActivity(fn, in)
	if err != nil {
		return out, err
	}
	if err := val.Get(&out); err != nil {
		t.Fatalf("decode activity result: %v", err)
	}
	return out, nil
}

// mustExecute is execute that fails the test on an error.
func mustExecute[T any](t *testing.T, e *env, fn any, in any) T {
	t.Helper()
	out, err := execute[T](t, e, fn, in)
	if err != nil {
		t.Fatalf("activity failed: %v", err)
	}
	return out
}

// appError extracts the application error of a failed activity.
func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	if err == nil {
		t.Fatal("activity succeeded, want an error")
	}
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *temporal.ApplicationError", err, err)
	}
	return ae
}

// wantFinal asserts a non-retryable application error of type typ.
func wantFinal(t *testing.T, err error, typ string) *temporal.ApplicationError {
	t.Helper()
	ae := appError(t, err)
	if !ae.NonRetryable() {
		t.Errorf("error %v is retryable, want non-retryable", err)
	}
	if ae.Type() != typ {
		t.Errorf("error type = %q, want %q (error: %v)", ae.Type(), typ, err)
	}
	return ae
}

func needPython(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("/usr/bin/python3 is not installed")
	}
}

func needTeX(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"pdflatex", "bibtex", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// tinyPNG returns a valid 8x8 PNG.
func tinyPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := 0; x < 8; x++ {
		for y := 0; y < 8; y++ {
			img.Set(x, y, color.RGBA{uint8(30 * x), uint8(30 * y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// grokkingFinalInfo is a final_info.json in the shape experiment.py writes.
func grokkingFinalInfo(valAcc float64) string {
	info := map[string]any{}
	for _, d := range []string{"x_div_y", "x_minus_y", "x_plus_y", "permutation"} {
		info[d] = map[string]any{
			"means":   map[string]float64{"final_train_loss": 0.01, "final_val_loss": 0.2, "final_train_acc": 1, "final_val_acc": valAcc, "step_val_acc_99": 2450},
			"stderrs": map[string]float64{"final_train_loss": 0.001, "final_val_loss": 0.02, "final_train_acc": 0, "final_val_acc": 0.01, "step_val_acc_99": 50},
		}
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	return string(b)
}

// testIdea is a valid idea that the scripted model recognises as its own
// weight-decay sweep.
var testIdea = paper.Idea{
	Name:            "weight_decay_grokking",
	Title:           "How Weight Decay Strength Shifts the Onset of Grokking",
	Experiment:      "Sweep the constant WEIGHT_DECAY in experiment.py over the values 0.1, 1.0 (one run per value) and compare validation accuracy with the baseline.",
	Interestingness: 5, Feasibility: 9, Novelty: 3,
}

// grokkingPaper prepares a workspace from the real grokking template.
func grokkingPaper(t *testing.T, e *env, key, model string) (activities.PaperRef, string) {
	t.Helper()
	ref := activities.PaperRef{Key: "grokking/" + key, Name: key, Template: "grokking", Model: model}
	dir := mustExecute[string](t, e, e.acts.PreparePaper, activities.PaperSetup{Paper: ref, Idea: testIdea})
	return ref, dir
}

// miniTemplate writes a small template whose scripts import only the
// standard library, so the interpreter check is cheap; it returns the
// templates root.
func miniTemplate(t *testing.T, tex string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "mini")
	writeFile(t, filepath.Join(dir, "experiment.py"), "import json\nimport sys\nprint('baseline')\n")
	writeFile(t, filepath.Join(dir, "plot.py"), "import os\nprint('plot')\n")
	writeFile(t, filepath.Join(dir, "prompt.json"), `{"system": "You are a tester.", "task_description": "A tiny template for tests."}`)
	writeFile(t, filepath.Join(dir, "seed_ideas.json"), `[{"Name": "mini_seed", "Title": "Mini Seed", "Experiment": "Do little.", "Interestingness": 2, "Feasibility": 10, "Novelty": 1}]`)
	if tex == "" {
		tex = cleanTex
	}
	writeFile(t, filepath.Join(dir, "latex", "template.tex"), tex)
	return root
}

// cleanTex compiles without warnings with pdflatex + bibtex.
const cleanTex = `\begin{filecontents*}[overwrite]{references.bib}
@article{knuth1984,
  title   = {Literate Programming},
  author  = {Knuth, Donald E.},
  journal = {The Computer Journal},
  year    = {1984}
}
\end{filecontents*}
\documentclass{article}
\begin{document}
Hello world, as shown by \cite{knuth1984}.
\bibliographystyle{plain}
\bibliography{references}
\end{document}
`

// miniPaper prepares a workspace from the mini template.
func miniPaper(t *testing.T, e *env, key string) (activities.PaperRef, string) {
	t.Helper()
	ref := activities.PaperRef{Key: "mini/" + key, Name: key, Template: "mini", Model: llm.ScriptedModel}
	dir := mustExecute[string](t, e, e.acts.PreparePaper, activities.PaperSetup{Paper: ref, Idea: testIdea})
	return ref, dir
}
