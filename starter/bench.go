package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/aiscientist/aiscientist/internal/bench"
)

func benchReviewCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench-review",
		Short: "Measure a reviewer against human accept/reject decisions",
	}
	cmd.AddCommand(benchScoreCmd())
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
