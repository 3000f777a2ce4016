package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/aiscientist/aiscientist/internal/bench"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/store"
	"github.com/aiscientist/aiscientist/internal/store/s3store"
)

// A reviewer benchmark (starter bench-review run) keeps each paper in its
// own workspace, <Key>/<paper id>, reviewed as a standalone review is
// (review.json there when done), so concurrent reviews never share a
// workspace; the reviews table is <Key>/_results/reviews.csv.

// BenchResultsKey is where a benchmark's reviews table is stored.
func BenchResultsKey(key string) string { return key + "/_results" }

// BenchReviewsFile is the reviews table in that workspace.
const BenchReviewsFile = "reviews.csv"

// BenchInput names a benchmark's papers.
type BenchInput struct {
	Key string
	IDs []string
	// Errors: why a paper has no review (one per ID, "" when reviewed),
	// for the table's Error column.
	Errors []string `json:",omitempty"`
}

// BenchDone lists the papers that have their review already (an earlier
// run of the benchmark reviewed them), so a restarted run skips them.
func (a *Activities) BenchDone(ctx context.Context, in BenchInput) ([]string, error) {
	dir, err := a.benchPull(ctx, in.Key)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, id := range in.IDs {
		if _, ok := benchReview(dir, id); ok {
			done = append(done, id)
		}
	}
	return done, nil
}

// BenchTable is the written reviews table.
type BenchTable struct {
	Path     string // on this worker
	Reviewed int
	Missing  int // rows without a review (their Error says why)
}

// WriteBenchReviews writes every paper's review into the reviews table,
// one row per paper in the given order; a paper without a review gets a
// row with its error and empty fields, so score counts it.
func (a *Activities) WriteBenchReviews(ctx context.Context, in BenchInput) (_ BenchTable, err error) {
	dir, err := a.benchPull(ctx, in.Key)
	if err != nil {
		return BenchTable{}, err
	}
	var rows []bench.Row
	var t BenchTable
	for i, id := range in.IDs {
		r := bench.Row{ID: id}
		if rv, ok := benchReview(dir, id); ok {
			r.Review = &rv
			t.Reviewed++
		} else {
			t.Missing++
			r.Error = "no review"
			if i < len(in.Errors) && in.Errors[i] != "" {
				r.Error = in.Errors[i]
			}
		}
		rows = append(rows, r)
	}
	var buf bytes.Buffer
	if err := bench.WriteReviews(&buf, rows); err != nil {
		return BenchTable{}, err
	}
	s, err := a.paperScope(ctx, PaperRef{Key: BenchResultsKey(in.Key)}, true)
	if err != nil {
		return BenchTable{}, err
	}
	defer s.close(ctx, &err)
	t.Path = filepath.Join(s.dir, BenchReviewsFile)
	if err := store.WriteFile(t.Path, buf.Bytes()); err != nil {
		return BenchTable{}, fmt.Errorf("write the reviews table: %w", err)
	}
	return t, nil
}

// benchPull brings every paper of the benchmark into this worker's folder
// (without deletions: other workers may be writing reviews meanwhile).
func (a *Activities) benchPull(ctx context.Context, key string) (string, error) {
	dir, err := a.Store.PaperDir(key)
	if err != nil {
		return "", badInput("%v", err)
	}
	if a.Remote != nil {
		if _, err := a.Remote.Pull(ctx, "papers/"+key, dir); err != nil && !errors.Is(err, s3store.ErrNotFound) {
			return "", storageError(fmt.Errorf("fetch benchmark %s: %w", key, err))
		}
	}
	return dir, nil
}

// benchReview reads a paper's finished review.
func benchReview(dir, id string) (paper.Review, bool) {
	var r paper.Review
	if err := readJSON(filepath.Join(dir, id, "review.json"), &r); err != nil || r.Validate() != nil {
		return paper.Review{}, false
	}
	return r, true
}
