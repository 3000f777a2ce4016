package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/bench"
	"github.com/aiscientist/aiscientist/internal/store"
	"github.com/aiscientist/aiscientist/workflows"
)

// paperExts are the paper files a benchmark reads, text first: a text
// file is what the reviewer reads, a PDF goes through pdftotext.
var paperExts = []string{".txt", ".md", ".pdf"}

// benchPapers finds the papers of dir that ratings has a decision for, in
// the ratings' order (at most limit, 0: all), and says what it left out.
func benchPapers(dir string, ratings *bench.Ratings, limit int) ([]workflows.BenchPaper, map[string]string, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--papers: %w", err)
	}
	found := map[string]string{} // id → file name
	var unrated []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		rank := indexOf(paperExts, ext)
		if e.IsDir() || rank < 0 {
			continue
		}
		id := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		if _, ok := ratings.Paper(id); !ok {
			if _, undecided := ratings.Undecided[id]; !undecided {
				unrated = append(unrated, e.Name())
			}
			continue
		}
		if prev, ok := found[id]; !ok || rank < indexOf(paperExts, strings.ToLower(filepath.Ext(prev))) {
			found[id] = e.Name()
		}
	}
	var papers []workflows.BenchPaper
	files := map[string]string{}
	var notes []string
	missing := 0
	for _, h := range ratings.Papers {
		name, ok := found[h.ID]
		if !ok {
			missing++
			continue
		}
		if limit > 0 && len(papers) == limit {
			break
		}
		file := "paper" + strings.ToLower(filepath.Ext(name))
		papers = append(papers, workflows.BenchPaper{ID: h.ID, File: file})
		files[h.ID+"/"+file] = filepath.Join(dir, name)
	}
	if len(papers) == 0 {
		return nil, nil, nil, fmt.Errorf("--papers %s holds no <paper_id>.txt, .md or .pdf of a paper rated in %s", dir, ratings.File)
	}
	if missing > 0 {
		notes = append(notes, fmt.Sprintf("%d papers of %s have no file in %s", missing, ratings.File, dir))
	}
	if len(unrated) > 0 {
		notes = append(notes, fmt.Sprintf("%d files of %s are not papers of %s and are left out (e.g. %s)", len(unrated), dir, ratings.File, unrated[0]))
	}
	return papers, files, notes, nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func benchRun(ctx context.Context, cmd *cobra.Command, c client.Client, g *globals, r reviewFlags, o benchRunOpts) error {
	ratings, err := bench.ReadRatings(o.ratings)
	if err != nil {
		return err
	}
	papers, files, notes, err := benchPapers(o.papers, ratings, o.limit)
	if err != nil {
		return err
	}
	name := o.name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(o.out), filepath.Ext(o.out))
	}
	if name = strings.Trim(unsafeName.ReplaceAllString(name, "_"), "_"); name == "" {
		return fmt.Errorf("--name: give the run a name of letters, digits, '_' or '-'")
	}
	w := cmd.ErrOrStderr()
	for _, n := range notes {
		fmt.Fprintln(w, "note:", n)
	}
	st, err := openArtifacts(ctx, o.dataDir, o.artifacts)
	if err != nil {
		return err
	}
	key := workflows.BenchKey(name)
	if err := st.put(ctx, key, files); err != nil {
		return err
	}
	in := workflows.BenchInput{Name: name, Papers: papers, Review: r.spec(), Concurrency: o.concurrency, BudgetUSD: o.budget}
	id := workflows.BenchWorkflowID(name)
	_, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue, WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary: fmt.Sprintf("reviewer benchmark %s: %d papers with %s", name, len(papers), r.model),
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.StageKey.ValueSet(string(workflows.StageReview)),
			workflows.StateKey.ValueSet(string(workflows.StateRunning))),
		Memo: map[string]any{"workspace_key": key},
	}, workflows.BenchReviewWorkflow, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started):
		fmt.Fprintf(w, "%s is running already: following it\n", id)
	case err != nil:
		return fmt.Errorf("start the benchmark: %w", err)
	default:
		fmt.Fprintf(w, "benchmark started: %s (%d papers, model %s, %d reviews each, up to %d reflections, %d example reviews)\n",
			id, len(papers), r.model, r.ensemble, r.reflections, r.fewshot)
	}
	fmt.Fprintf(w, "web UI: %s\n(interrupting this command leaves it running; the same command follows it again)\n", uiLink(uiBase(g.ui, g.address), g.namespace, id))

	done := make(chan error, 1)
	var res workflows.BenchResult
	go func() { done <- c.GetWorkflow(ctx, id, "").Get(ctx, &res) }()
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	last := ""
	for {
		select {
		case err := <-done:
			if err != nil {
				var ae *temporal.ApplicationError
				if errors.As(err, &ae) && ae.Message() != "" {
					return fmt.Errorf("benchmark %s failed: %s", id, ae.Message())
				}
				return fmt.Errorf("benchmark %s: %w", id, err)
			}
			return benchFinish(ctx, cmd, st, key, o, res)
		case <-tick.C:
			var p workflows.BenchProgress
			if v, err := c.QueryWorkflow(ctx, id, "", workflows.ProgressQuery); err == nil && v.Get(&p) == nil {
				line := benchLine(p)
				if line != last {
					fmt.Fprintln(w, line)
					last = line
				}
			}
		}
	}
}

func benchLine(p workflows.BenchProgress) string {
	s := fmt.Sprintf("%d of %d reviewed, %d failed, %d in progress, $%.4f spent", p.Reviewed, p.Total, p.Failed, p.Running, p.Tokens.CostUSD)
	if p.Budget.Note != "" {
		s += " — " + p.Budget.Note
	}
	return s
}

func benchFinish(ctx context.Context, cmd *cobra.Command, st *artifactStore, key string, o benchRunOpts, res workflows.BenchResult) error {
	b, err := st.read(ctx, activities.BenchResultsKey(key), activities.BenchReviewsFile)
	if err != nil {
		return fmt.Errorf("the reviews table in %s: %w", st, err)
	}
	if err := store.WriteFile(o.out, b); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	p := res.Progress
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "%s: %d papers reviewed, %d without a review; %d model calls, $%.4f\n", o.out, res.Table.Reviewed, res.Table.Missing, p.Tokens.Calls, p.Tokens.CostUSD)
	for _, e := range p.Errors {
		fmt.Fprintf(out, "  not reviewed: %s\n", e)
	}
	fmt.Fprintf(out, "score it: starter bench-review score --ratings %s --reviews %s\n", o.ratings, o.out)
	return nil
}
