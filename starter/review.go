package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/paper/fewshot"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// reviewFlags are the reviewer's settings, for launch (--review-*) and
// for review itself. Defaults are the reference system's.
type reviewFlags struct {
	model                          string
	ensemble, reflections, fewshot int
}

func (r *reviewFlags) flags(f *pflag.FlagSet, prefix string) {
	modelHelp := "reviewer model (default: the paper's model; the reference system recommends gpt-4o-2024-05-13, as other models review too positively)"
	if prefix == "" {
		modelHelp = "reviewer model (the reference system recommends gpt-4o-2024-05-13, as other models review too positively; 'scripted' is the offline test double)"
	}
	f.StringVar(&r.model, prefix+"model", r.model, modelHelp)
	f.IntVar(&r.ensemble, prefix+"ensemble", 5, "independent reviews, combined by an area chair's meta-review (scores: their rounded means)")
	f.IntVar(&r.reflections, prefix+"reflections", 5, "rounds in which the reviewer checks its review (\"I am done\" ends them early)")
	f.IntVar(&r.fewshot, prefix+"fewshot", 1, fmt.Sprintf("example reviews shown to the reviewer (0 to %d)", fewshot.Count()))
}

func (r reviewFlags) check(prefix string) error {
	switch {
	case r.ensemble < 1 || r.ensemble > 20:
		return fmt.Errorf("--%sensemble %d: between 1 and 20 reviews", prefix, r.ensemble)
	case r.reflections < 0 || r.reflections > 10:
		return fmt.Errorf("--%sreflections %d: between 0 and 10 rounds", prefix, r.reflections)
	case r.fewshot < 0 || r.fewshot > fewshot.Count():
		return fmt.Errorf("--%sfewshot %d: between 0 and %d examples", prefix, r.fewshot, fewshot.Count())
	}
	return nil
}

// spec maps the flags onto the workflow's settings, where 0 means the
// default and a negative value none.
func (r reviewFlags) spec() activities.ReviewSpec {
	s := activities.ReviewSpec{Model: r.model, Ensemble: r.ensemble, Reflections: r.reflections, FewShot: r.fewshot}
	if s.Reflections == 0 {
		s.Reflections = -1
	}
	if s.FewShot == 0 {
		s.FewShot = -1
	}
	return s
}

func reviewCmd(g *globals) *cobra.Command {
	r := reviewFlags{model: "gpt-4o-2024-05-13"}
	var pdf, dataDir, artifacts string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "review --pdf FILE",
		Short: "Review any PDF like a conference reviewer, as a durable workflow on the server",
		Long: `Reviews a PDF outside a campaign: its text (pdftotext) goes to an ensemble of
reviewers with the review form and example reviews, an area chair writes the
meta-review (scores: the members' rounded means), and the reviewer reflects on
it. It runs as a workflow on the server (visible in the Web UI); the PDF is put
in the artifact store the workers use. It prints the review, or with --json
exactly the review JSON (what review.txt holds).`,
		Example: `  starter review --pdf paper.pdf --model gpt-4o-2024-05-13
  starter review --pdf paper.pdf --model scripted --ensemble 1 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := r.check(""); err != nil {
				return err
			}
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				return reviewPDF(ctx, cmd, c, g, pdf, r, dataDir, artifacts, asJSON)
			})
		},
	}
	cmd.Flags().StringVar(&pdf, "pdf", "", "the PDF to review (required)")
	_ = cmd.MarkFlagRequired("pdf")
	r.flags(cmd.Flags(), "")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print only the review JSON")
	cmd.Flags().StringVar(&dataDir, "data-dir", app.DefaultDataDir(), "the worker's --data-dir")
	cmd.Flags().StringVar(&artifacts, "artifacts", "", "the worker's artifact store (default <data-dir>/artifacts; with AISCI_S3_BUCKET set and no --artifacts, the bucket)")
	return cmd
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

func reviewPDF(ctx context.Context, cmd *cobra.Command, c client.Client, g *globals, pdf string, r reviewFlags, dataDir, artifacts string, asJSON bool) error {
	b, err := os.ReadFile(pdf)
	if err != nil {
		return fmt.Errorf("--pdf: %w", err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		return fmt.Errorf("--pdf %s is not a PDF (it does not start with %%PDF-)", pdf)
	}
	if _, err := exec.LookPath("pdftotext"); err == nil {
		// Fail here, not on the server, for a PDF without text.
		if _, _, err := activities.PaperText(ctx, pdf); err != nil {
			return err
		}
	}
	name := strings.Trim(unsafeName.ReplaceAllString(strings.TrimSuffix(filepath.Base(pdf), filepath.Ext(pdf)), "_"), "_")
	if name == "" {
		name = "paper"
	}
	stamp := time.Now().UTC().Format("20060102_150405")
	key := workflows.ReviewKey(stamp, name)
	st, err := openArtifacts(ctx, dataDir, artifacts)
	if err != nil {
		return err
	}
	if err := st.put(ctx, key, map[string]string{name + ".pdf": pdf}); err != nil {
		return err
	}
	in := workflows.ReviewWorkflowInput{Review: activities.ReviewInput{
		Paper: activities.PaperRef{Key: key, Name: name, Model: r.model}, PDF: name + ".pdf", Spec: r.spec(), WithForm: true}}
	id, err := app.StartReview(ctx, c, stamp, in)
	if err != nil {
		return err
	}
	w := cmd.ErrOrStderr()
	fmt.Fprintf(w, "review started: %s (model %s, %d reviews, up to %d reflections, %d example reviews)\nweb UI: %s\n",
		id, r.model, r.ensemble, r.reflections, r.fewshot, uiLink(uiBase(g.ui, g.address), g.namespace, id))
	var res workflows.ReviewWorkflowResult
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		return fmt.Errorf("review %s: %w", id, err)
	}
	if res.Result.Form == nil {
		return fmt.Errorf("review %s finished without a review", id)
	}
	js, err := res.Result.Form.JSON()
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		_, err := out.Write(js)
		return err
	}
	printReview(out, *res.Result.Form)
	fmt.Fprintf(out, "\nreviews: %d (meta-review by an area chair when more than one), reflections: %d\n", res.Result.Reviews, res.Result.Reflections)
	for _, n := range res.Progress.Notes {
		fmt.Fprintf(out, "note: %s\n", n)
	}
	t := res.Progress.Tokens
	fmt.Fprintf(out, "tokens: prompt %d, completion %d, calls %d, cost $%.4f\n", t.PromptTokens, t.CompletionTokens, t.Calls, t.CostUSD)
	fmt.Fprintf(out, "files: review.txt, review.json and reviews/review/ in the workspace %s\n", key)
	return nil
}

// putReviewPDF places the PDF where the workers read workspaces: the
// bucket when the workers use one, else the local artifact folder.
func printReview(w io.Writer, r paper.Review) {
	fmt.Fprintf(w, "Decision: %s   Overall %d/10   Confidence %d/5\n", r.Decision, r.Overall, r.Confidence)
	fmt.Fprintf(w, "Originality %d  Quality %d  Clarity %d  Significance %d  Soundness %d  Presentation %d  Contribution %d (each of 4)\n\n",
		r.Originality, r.Quality, r.Clarity, r.Significance, r.Soundness, r.Presentation, r.Contribution)
	fmt.Fprintf(w, "Summary: %s\n", r.Summary)
	for _, l := range []struct {
		name  string
		items []string
	}{{"Strengths", r.Strengths}, {"Weaknesses", r.Weaknesses}, {"Questions", r.Questions}, {"Limitations", r.Limitations}} {
		if len(l.items) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", l.name)
		for _, it := range l.items {
			fmt.Fprintf(w, "  - %s\n", it)
		}
	}
}
