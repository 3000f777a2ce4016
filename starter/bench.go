package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/aiscientist/aiscientist/internal/bench"
	"github.com/aiscientist/aiscientist/worker/app"
)

func benchReviewCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench-review",
		Short: "Measure a reviewer against human accept/reject decisions",
	}
	cmd.AddCommand(benchScoreCmd(), benchRunCmd(g))
	return cmd
}

func benchScoreCmd() *cobra.Command {
	var ratings, reviews, plots string
	var o bench.Options
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "score --ratings FILE --reviews FILE",
		Short: "Score a table of model reviews against human ratings and decisions",
		Long: `Reads the human table (TSV: paper_id, rating columns, decision, where any
"Accept (…)" is an accept and Unknown leaves a paper out) and the model's reviews
(CSV with paper_id and the review fields, Overall and Decision among them), the
formats of the reference system's review_iclr_bench/ratings_subset.tsv and
llm_reviews/*.csv, and prints for the model's Decision field, for "accept iff
Overall ≥ T", for a threshold chosen by cross-validation and for always answering
reject: accuracy, balanced accuracy, F1, FPR and FNR with 95% bootstrap intervals
(stratified by class, fixed seed); the ranking AUC of Overall; its correlation with
the mean human rating; and the accept rate by threshold. Rows without a usable
Overall are counted and named, not dropped silently.`,
		Example: `  starter bench-review score --ratings review_iclr_bench/ratings_subset.tsv \
    --reviews review_iclr_bench/llm_reviews/gpt-4o-2024-05-13_temp_0_1_fewshot_1_reflect_5_ensemble_5_pages_all.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := bench.ReadRatings(ratings)
			if err != nil {
				return err
			}
			rv, err := bench.ReadReviews(reviews, r)
			if err != nil {
				return err
			}
			rep, err := bench.Score(r, rv, o)
			if err != nil {
				return err
			}
			if plots != "" {
				files, err := bench.Plot(rep, plots)
				if err != nil {
					return err
				}
				for _, f := range files {
					fmt.Fprintln(cmd.ErrOrStderr(), "plot:", f)
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return rep.WriteTable(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&ratings, "ratings", "", "human ratings and decisions per paper (TSV, required)")
	f.StringVar(&reviews, "reviews", "", "model reviews per paper (CSV, required)")
	_ = cmd.MarkFlagRequired("ratings")
	_ = cmd.MarkFlagRequired("reviews")
	f.Float64Var(&o.Threshold, "threshold", 6, "accept iff Overall ≥ this (the reference's 6)")
	f.IntVar(&o.Bootstrap, "bootstrap", 2000, "bootstrap resamples for the 95% intervals")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the resamples and the cross-validation folds")
	f.IntVar(&o.Folds, "folds", 5, "folds of the cross-validated threshold")
	f.StringVar(&plots, "plots", "", "also write PNG plots into this folder (Overall vs mean human rating; accept rate and balanced accuracy by threshold)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON (keys named for the metric, e.g. balanced_accuracy)")
	return cmd
}

func benchRunCmd(g *globals) *cobra.Command {
	r := reviewFlags{model: "gpt-4o-2024-05-13"}
	var o benchRunOpts
	cmd := &cobra.Command{
		Use:   "run --papers DIR --ratings FILE --model M --out FILE",
		Short: "Review every paper of a benchmark as one durable workflow, writing the reviews table score reads",
		Long: `Reviews every paper in DIR (<paper_id>.txt, .md or .pdf; a text file is used
as it is, a PDF through pdftotext) that the ratings table has a decision for, with
the same reviewer as a paper's review: an ensemble, the area chair's meta-review
and reflections. It runs as one workflow on the server (bench-review/<name>, in
the Web UI and in starter status), several papers at once within the worker's
--llm-concurrency, each review stored as it completes. Started again with the
same --out (or --name), it skips the papers already reviewed and retries the ones
that failed. Spending goes through the budget: at --budget-usd it waits for
starter budget bench-review/<name> --usd N. At the end the reviews table (the
reference's llm_reviews CSV columns, plus Error for papers without a review) is
written to --out; score it with starter bench-review score.`,
		Example: `  starter bench-review run --papers review_iclr_bench/iclr_parsed --ratings review_iclr_bench/ratings_subset.tsv \
    --model gpt-4o-2024-05-13 --ensemble 5 --reflections 5 --fewshot 1 --budget-usd 100 --out gpt4o.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := r.check(""); err != nil {
				return err
			}
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				return benchRun(ctx, cmd, c, g, r, o)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.papers, "papers", "", "folder of papers: <paper_id>.txt, .md or .pdf (required)")
	f.StringVar(&o.ratings, "ratings", "", "human ratings and decisions (TSV, required): which papers to review")
	f.StringVar(&o.out, "out", "", "reviews table to write (CSV, required)")
	for _, n := range []string{"papers", "ratings", "out"} {
		_ = cmd.MarkFlagRequired(n)
	}
	r.flags(f, "")
	// launch's spellings too (--review-model, --review-ensemble, ...).
	r.flags(f, "review-")
	for _, n := range []string{"model", "ensemble", "reflections", "fewshot"} {
		_ = f.MarkHidden("review-" + n)
	}
	f.StringVar(&o.name, "name", "", "names the run and its workspaces (default: --out's file name); the same name resumes it")
	f.IntVar(&o.concurrency, "concurrency", 4, "papers reviewed at once")
	f.Float64Var(&o.budget, "budget-usd", 0, "stop spending at this many US dollars, until raised with starter budget (0: no limit)")
	f.IntVar(&o.limit, "limit", 0, "review only the first N papers of the ratings (0: all)")
	f.StringVar(&o.dataDir, "data-dir", app.DefaultDataDir(), "the worker's --data-dir")
	f.StringVar(&o.artifacts, "artifacts", "", "the worker's artifact store (default <data-dir>/artifacts; with AISCI_S3_BUCKET set and no --artifacts, the bucket)")
	return cmd
}

type benchRunOpts struct {
	papers, ratings, out, name, dataDir, artifacts string
	concurrency, limit                             int
	budget                                         float64
}
