// Package bench measures a reviewer against human decisions: it reads the
// tables the reference system publishes its reviewer benchmark in (the
// human ratings and decisions per paper, and a model's reviews per paper)
// and computes what a reader needs to judge the reviewer, with intervals
// and the baselines beside it.
package bench

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/aiscientist/aiscientist/internal/paper"
)

// Human is one paper's human verdict: the reviewers' ratings and the
// decision (any "Accept (…)" is an accept).
type Human struct {
	ID       string
	Line     int
	Decision string // as written
	Accept   bool
	Ratings  []float64
	Mean     float64 // NaN without ratings
}

// Ratings is the human table, in file order.
type Ratings struct {
	File   string
	Papers []Human
	byID   map[string]int
	// Undecided are papers whose decision is Unknown or empty: left out,
	// as the reference leaves them out.
	Undecided map[string]int
}

// Paper finds a rated paper.
func (r *Ratings) Paper(id string) (Human, bool) {
	i, ok := r.byID[id]
	if !ok {
		return Human{}, false
	}
	return r.Papers[i], true
}

// ReadRatings reads a TSV with a paper_id column, a decision column and
// any number of rating columns in between (empty cells: no rating), like
// the reference's review_iclr_bench/ratings_subset.tsv.
func ReadRatings(path string) (*Ratings, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ratings: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.Comma = '\t'
	cr.LazyQuotes = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("ratings %w", locate(path, err))
	}
	idCol, decCol := column(head, "paper_id"), column(head, "decision")
	if idCol < 0 || decCol < 0 {
		return nil, fmt.Errorf("ratings %s:1: needs columns paper_id and decision (tab-separated), found %s", path, quoteAll(head))
	}
	var rateCols []int
	for i := range head {
		if i != idCol && i != decCol {
			rateCols = append(rateCols, i)
		}
	}
	r := &Ratings{File: path, byID: map[string]int{}, Undecided: map[string]int{}}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("ratings %w", locate(path, err))
		}
		id := strings.TrimSpace(rec[idCol])
		if id == "" {
			return nil, fmt.Errorf("ratings %s:%d: empty paper_id", path, line)
		}
		h := Human{ID: id, Line: line, Decision: strings.TrimSpace(rec[decCol]), Mean: math.NaN()}
		for _, c := range rateCols {
			cell := strings.TrimSpace(rec[c])
			if cell == "" || strings.EqualFold(cell, "nan") {
				continue
			}
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				return nil, fmt.Errorf("ratings %s:%d: column %s: %q is not a rating (a number, or empty for none)", path, line, head[c], cell)
			}
			h.Ratings = append(h.Ratings, v)
		}
		if len(h.Ratings) > 0 {
			s := 0.0
			for _, v := range h.Ratings {
				s += v
			}
			h.Mean = s / float64(len(h.Ratings))
		}
		w := strings.ToLower(h.Decision)
		switch {
		case w == "" || w == "unknown":
			r.Undecided[id] = line
			continue
		case strings.HasPrefix(w, "accept"):
			h.Accept = true
		case strings.HasPrefix(w, "reject"):
		default:
			return nil, fmt.Errorf("ratings %s:%d: decision %q is neither Accept (…) nor Reject (write Unknown to leave the paper out)", path, line, h.Decision)
		}
		if j, dup := r.byID[id]; dup {
			o := r.Papers[j]
			if o.Decision == h.Decision && slices.Equal(o.Ratings, h.Ratings) {
				continue // the same row twice (the reference drops duplicates too)
			}
			return nil, fmt.Errorf("ratings %s:%d: paper %s is rated differently on line %d", path, line, id, o.Line)
		}
		r.byID[id] = len(r.Papers)
		r.Papers = append(r.Papers, h)
	}
	if len(r.Papers) == 0 {
		return nil, fmt.Errorf("ratings %s: no paper with a decision", path)
	}
	return r, nil
}

// Review is one model review's verdict.
type Review struct {
	ID   string
	Line int
	// Overall is the 1–10 score; HasOverall is false when the row has no
	// number there (a failed review).
	Overall    float64
	HasOverall bool
	Decision   string // "Accept" or "Reject"; "" when unreadable
}

// Reviews is the model's table.
type Reviews struct {
	File string
	Rows []Review
	// NoOverall and NoDecision are the lines of rows without a usable
	// Overall or Decision: counted, reported, left out of what needs them.
	NoOverall, NoDecision []int
	// Undecided are reviews of papers the ratings leave out (Unknown).
	Undecided int
}

// ReadReviews reads a CSV with a header naming paper_id, Overall and
// Decision among the review's fields, like the reference's
// review_iclr_bench/llm_reviews/*.csv; every paper_id must be in ratings.
func ReadReviews(path string, ratings *Ratings) (*Reviews, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reviews: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reviews %w", locate(path, err))
	}
	idCol, ovCol, decCol := column(head, "paper_id"), column(head, "Overall"), column(head, "Decision")
	if idCol < 0 || ovCol < 0 || decCol < 0 {
		return nil, fmt.Errorf("reviews %s:1: needs columns paper_id, Overall and Decision (comma-separated, quoted as CSV), found %s", path, quoteAll(head))
	}
	out := &Reviews{File: path}
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reviews %w", locate(path, err))
		}
		line, _ := cr.FieldPos(0)
		id := strings.TrimSpace(rec[idCol])
		if id == "" {
			return nil, fmt.Errorf("reviews %s:%d: empty paper_id", path, line)
		}
		if _, ok := ratings.Undecided[id]; ok {
			out.Undecided++
			continue
		}
		if _, ok := ratings.Paper(id); !ok {
			return nil, fmt.Errorf("reviews %s:%d: paper %s is not in the ratings %s", path, line, id, ratings.File)
		}
		if prev, dup := seen[id]; dup {
			return nil, fmt.Errorf("reviews %s:%d: paper %s is reviewed twice (also on line %d)", path, line, id, prev)
		}
		seen[id] = line
		rv := Review{ID: id, Line: line}
		if v, ok := paper.ScoreText(rec[ovCol]); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			rv.Overall, rv.HasOverall = v, true
		} else {
			out.NoOverall = append(out.NoOverall, line)
		}
		if d, ok := paper.DecisionText(rec[decCol]); ok {
			rv.Decision = d
		} else {
			out.NoDecision = append(out.NoDecision, line)
		}
		out.Rows = append(out.Rows, rv)
	}
	if len(out.Rows) == 0 {
		return nil, fmt.Errorf("reviews %s: no review of a rated paper", path)
	}
	return out, nil
}

// column finds a header name, case and surrounding space ignored.
func column(head []string, name string) int {
	for i, h := range head {
		if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), name) {
			return i
		}
	}
	return -1
}

func quoteAll(head []string) string {
	q := make([]string, len(head))
	for i, h := range head {
		q[i] = strconv.Quote(h)
	}
	return strings.Join(q, ", ")
}

// locate writes a read error as "FILE:LINE: what" (an empty file: FILE is empty).
func locate(path string, err error) error {
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		return fmt.Errorf("%s:%d: %v", path, pe.Line, pe.Err)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%s: the file is empty", path)
	}
	return fmt.Errorf("%s: %w", path, err)
}
