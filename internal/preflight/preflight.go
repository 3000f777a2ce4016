// Package preflight checks, before any money is spent, everything a paper
// will need: the template, the TeX tools, a Python that imports the
// template's packages, the model's configuration and, optionally, one
// minimal real call to the model.
package preflight

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/pyrun"
	"github.com/aiscientist/aiscientist/internal/template"
)

// Problem kinds.
const (
	KindSetup = "setup" // template, tools, Python: fix the machine
	KindModel = "model" // unknown model, missing key, refused call
)

// Problem is one thing that would make a paper fail.
type Problem struct {
	Kind    string
	Message string
}

// Options says what to check.
type Options struct {
	Templates    string // templates folder
	Template     string
	Model        string
	Python       string // explicit interpreter, or empty to discover
	Registry     *llm.Registry
	NeedBaseline bool // papers use the template's run_0
	// Call makes one minimal real request to the model.
	Call bool
	// Budget: the run has a budget, which needs the model's price.
	Budget bool
}

// Report is the outcome; no Problems means ready.
type Report struct {
	Python   string
	Model    llm.ModelInfo
	Problems []Problem
	// Filled when Call succeeded.
	Latency time.Duration
	Usage   llm.Usage
}

// Tools every paper needs on PATH, with the Debian package that has them.
var Tools = []struct{ Name, Package string }{
	{"pdflatex", "texlive-latex-base"}, {"bibtex", "texlive-binaries"},
	{"chktex", "chktex"}, {"pdftotext", "poppler-utils"},
}

// Run performs the checks; it never stops at the first problem.
func Run(ctx context.Context, o Options) Report {
	var r Report
	add := func(kind, format string, args ...any) {
		r.Problems = append(r.Problems, Problem{Kind: kind, Message: fmt.Sprintf(format, args...)})
	}
	t, err := template.Load(o.Templates, o.Template)
	if err != nil {
		add(KindSetup, "%v", err)
	} else {
		if o.NeedBaseline {
			if _, err := os.Stat(filepath.Join(t.Dir, "run_0", "final_info.json")); err != nil {
				add(KindSetup, "template %s has no baseline run_0/final_info.json: produce it on this host with `python experiment.py --out_dir=run_0` in the template folder, or leave out --template-baseline (each host then computes its own), or use --quick", t.Name)
			}
		}
		if r.Python, err = pyrun.ForTemplate(ctx, o.Python, t.Dir); err != nil {
			add(KindSetup, "template %s: %v", t.Name, err)
		}
	}
	for _, tool := range Tools {
		if _, err := exec.LookPath(tool.Name); err != nil {
			add(KindSetup, "%s is not on PATH (Debian: apt-get install %s)", tool.Name, tool.Package)
		}
	}
	if r.Model, err = o.Registry.Model(o.Model); err != nil {
		add(KindModel, "%v", err)
		return r
	}
	if o.Budget && r.Model.Unpriced {
		add(KindModel, "model %s has no known price, so a budget cannot limit what it spends: %s, or launch without --budget-usd/--paper-budget-usd", o.Model, llm.UnpricedHint)
	}
	client, err := o.Registry.Client(o.Model)
	if err != nil {
		add(KindModel, "%v", err)
		return r
	}
	if !o.Call {
		return r
	}
	resp, latency, err := call(ctx, client, o.Model)
	if err != nil {
		add(KindModel, "test call to %s failed: %v", o.Model, err)
		return r
	}
	r.Latency, r.Usage = latency, resp.Usage
	return r
}

// callAttempts bounds the test call's retries of transient failures.
const callAttempts = 5

// call makes the minimal request, retrying rate limits and server errors
// (waiting as long as the provider asks) but not permanent refusals.
func call(ctx context.Context, c llm.Client, model string) (llm.Response, time.Duration, error) {
	backoff := time.Second
	var err error
	for attempt := 1; ; attempt++ {
		start := time.Now()
		var resp llm.Response
		resp, err = c.Chat(ctx, llm.Request{Model: model, MaxTokens: 16,
			Messages: []llm.Message{{Role: "user", Content: "Reply with the single word OK."}}})
		if err == nil {
			return resp, time.Since(start), nil
		}
		if llm.IsPermanent(err) || attempt == callAttempts {
			return llm.Response{}, 0, err
		}
		wait := llm.RetryAfter(err)
		if wait <= 0 {
			wait, backoff = backoff, backoff*2
		}
		select {
		case <-ctx.Done():
			return llm.Response{}, 0, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Summary joins the problems, one per line.
func (r Report) Summary() string {
	lines := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		lines[i] = p.Message
	}
	return strings.Join(lines, "\n")
}
