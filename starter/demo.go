package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/logging"
	"github.com/aiscientist/aiscientist/internal/numbers"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/scholar"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

func demoCmd() *cobra.Command {
	var out, dataDir, templates, python, tmpl string
	var templatesDirs []string
	var port int
	cmd := &cobra.Command{
		Use:   "demo --out DIR",
		Short: "Write one complete paper offline: embedded server, worker, scripted model, quick grokking",
		Long: `Starts an embedded Temporal server, the Web UI and a worker in this process, then runs
one campaign with the scripted test-double model on a template's quick configuration
(grokking unless --template says otherwise): a novelty
check against a test double of the literature engines, a real Python experiment, real
plots, a real pdflatex build and a review. Exits 0 only when DIR/<template>/<paper>/ holds
the PDF, with every number matching a run and no undefined reference or citation,
and review.txt.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			w := cmd.OutOrStdout()
			absOut, err := filepath.Abs(out)
			if err != nil {
				return err
			}
			if dataDir == "" {
				if dataDir, err = os.MkdirTemp("", "aisci-demo-"); err != nil {
					return err
				}
			}
			logger, err := logging.New("warn")
			if err != nil {
				return err
			}
			if python == "" {
				python = os.Getenv("AISCI_PYTHON")
			}
			// Offline: the novelty check searches a test double of the
			// literature engines (a few real grokking papers, written here).
			lit, err := scholar.StartFake()
			if err != nil {
				return err
			}
			defer lit.Stop()
			a, err := app.Start(ctx, app.Config{Dev: true, DataDir: dataDir, Port: port, UIPort: 0, Templates: templates, TemplatesDirs: templatesDirs, Python: python, Logger: logger,
				Literature: scholar.FakeConfig(lit.URL)})
			if err != nil {
				return err
			}
			defer a.Stop()
			fmt.Fprintf(w, "embedded Temporal at %s, Web UI at %s (data in %s)\n", a.Server.HostPort(), a.Server.UIURL(), dataDir)
			start := time.Now()
			id, err := app.StartCampaign(ctx, a.Client, workflows.CampaignInput{
				Template: tmpl, Model: "scripted", NumIdeas: 1, Quick: true, ResultsDir: absOut,
				Stamp: start.UTC().Format("20060102_150405"), RunTimeout: 20 * time.Minute,
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "campaign %s\nweb UI: %s\n", id, uiLink(a.Server.UIURL(), a.Server.Namespace(), id))
			final, err := follow(ctx, a.Client, id, w)
			if err != nil {
				return err
			}
			if err := checkDemo(cmd.Context(), w, final, time.Since(start)); err != nil {
				return err
			}
			// What `starter status <paper>` shows: stages, runs, tokens, cost.
			for _, i := range final.Ideas {
				var pp workflows.PaperProgress
				if i.State == workflows.StateCompleted && query(ctx, a.Client, i.PaperID, &pp) == nil {
					fmt.Fprintf(w, "\n$ starter status %s\n", i.PaperID)
					_ = printProgress(w, &pp)
					fmt.Fprintln(w, "(the scripted test double costs nothing; a priced model shows its cost here, and the call ledger is in logs/calls.jsonl)")
				}
			}
			req := lit.Requests()
			fmt.Fprintf(w, "literature searches (a test double of the engines): %d to Semantic Scholar, %d to OpenAlex, %d to arXiv; answers cached in %s\n",
				req[scholar.SemanticScholar], req[scholar.OpenAlex], req[scholar.ArXiv], filepath.Join(dataDir, "artifacts", "literature"))
			fmt.Fprintf(w, "browse this run later in the Web UI: go run ./worker --dev --data-dir %s\n", dataDir)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "results folder (required)")
	f.StringVar(&tmpl, "template", "grokking", "research template to write the paper on (its quick configuration; the scripted model sweeps one of its settings)")
	f.StringVar(&dataDir, "data-dir", "", "embedded server data (default: a new temporary folder)")
	f.StringVar(&templates, "templates", "templates", "folder holding the research templates")
	f.StringSliceVar(&templatesDirs, "templates-dir", nil, "more folders of templates, searched first; repeatable")
	f.StringVar(&python, "python", "", "Python interpreter for experiments (default $AISCI_PYTHON, else discovered)")
	f.IntVar(&port, "port", -1, "gRPC port of the embedded server (-1: any free port; Web UI on port+1000)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// undefinedRe finds LaTeX's warnings about undefined citations and references.
var undefinedRe = regexp.MustCompile("(Citation|Reference) `[^']*' on page [0-9]+ undefined|There were undefined (references|citations)")

// checkDemo checks the exported paper: a PDF without undefined references
// or citations, every number matching a run, and review.txt holding a
// valid review JSON.
func checkDemo(ctx context.Context, w io.Writer, final workflows.CampaignProgress, took time.Duration) error {
	for _, i := range final.Ideas {
		if i.State != workflows.StateCompleted || i.Result == "" {
			continue
		}
		pdf := filepath.Join(i.Result, i.Name+".pdf")
		pages, err := latex.PDFPages(ctx, pdf)
		if err != nil {
			return fmt.Errorf("demo: %s: %w", pdf, err)
		}
		b, err := os.ReadFile(filepath.Join(i.Result, "review.txt"))
		if err != nil {
			return fmt.Errorf("demo: review.txt: %w", err)
		}
		var r paper.Review
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("demo: review.txt is not the review JSON: %w", err)
		}
		if err := r.Validate(); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		rep, err := numbers.CheckDir(i.Result)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if rep.Unmatched > 0 {
			return fmt.Errorf("demo: %d numbers in the paper match no run (starter verify %s)", rep.Unmatched, i.Result)
		}
		undefined := 0
		if log, err := os.ReadFile(filepath.Join(i.Result, "latex", "template.log")); err == nil {
			undefined = len(undefinedRe.FindAllString(string(log), -1))
		}
		if undefined > 0 {
			return fmt.Errorf("demo: the LaTeX log has %d undefined references or citations (latex/template.log)", undefined)
		}
		fmt.Fprintf(w, "\npaper: %s (%d pages; 0 undefined references or citations)\nnumbers: %d checked against the runs, 0 unmatched (starter verify %s)\nreview: %s, overall %d/10 (review.txt)\nfolder: %s\ntook %s\n",
			pdf, pages, rep.Checked, i.Result, r.Decision, r.Overall, i.Result, took.Round(time.Second))
		return nil
	}
	return fmt.Errorf("demo: no completed paper was exported")
}
