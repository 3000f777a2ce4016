package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The hand table of metrics_test.go as files in the reference's formats:
// ratings TSV (empty cells, an Unknown paper, a repeated row) and reviews
// CSV (quoted fields with commas and newlines, one failed review).
const handRatings = "paper_id\t0\t1\t2\tdecision\n" +
	"p1\t8\t6\t\tAccept (Oral)\n" +
	"p2\t6\t6\t7\tAccept (Poster)\n" +
	"p3\t5\t\t\tAccept (Spotlight)\n" +
	"n1\t5\t6\t\tReject\n" +
	"n2\t4\t4\t\tReject\n" +
	"n3\t3\t\t\tReject\n" +
	"n4\t\t\t\tReject\n" +
	"n5\t2\t3\t\tReject\n" +
	"n5\t2\t3\t\tReject\n" +
	"u1\t5\t5\t\tUnknown\n"

const handReviews = `paper_id,Summary,Overall,Decision
p1,"A paper, with a comma",8,Accept
p2,"Two
lines",6,Accept
p3,plain,5,Reject
n1,x,6,Accept
n2,x,4,Reject
n3,x,3,Reject.
n4,x,3,reject
n5,x,2,Reject
u1,x,7,Accept
`

func write(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScoreHandTable(t *testing.T) {
	r, err := ReadRatings(write(t, "ratings.tsv", handRatings))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Papers) != 8 || len(r.Undecided) != 1 {
		t.Fatalf("%d papers, %d undecided; want 8 and 1", len(r.Papers), len(r.Undecided))
	}
	if h, _ := r.Paper("p1"); h.Mean != 7 || !h.Accept {
		t.Errorf("p1 = %+v", h)
	}
	if h, _ := r.Paper("n4"); !math.IsNaN(h.Mean) {
		t.Errorf("n4 without ratings has mean %v", h.Mean)
	}
	rv, err := ReadReviews(write(t, "reviews.csv", handReviews), r)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Score(r, rv, Options{Threshold: 6, Bootstrap: 200})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scored != 8 || rep.Accepted != 3 || rep.UndecidedPapers != 1 {
		t.Errorf("scored %d, accepted %d, undecided %d", rep.Scored, rep.Accepted, rep.UndecidedPapers)
	}
	// Overall ≥ 6: TP 2, FN 1, FP 1, TN 4 (the "mixed" case by hand).
	at := rep.AtThreshold
	if at.Confusion != (Confusion{TP: 2, FP: 1, TN: 4, FN: 1}) || !near(at.Accuracy.Value, 0.75) || !near(at.BalancedAccuracy.Value, (2.0/3+0.8)/2) {
		t.Errorf("at threshold: %+v", at)
	}
	// The Decision field rejects p3 and accepts n1: the same confusion.
	if rep.Decision == nil || rep.Decision.Confusion != at.Confusion {
		t.Errorf("decision: %+v", rep.Decision)
	}
	if !near(rep.AlwaysReject.Accuracy.Value, 5.0/8) || !near(rep.AlwaysReject.BalancedAccuracy.Value, 0.5) {
		t.Errorf("always reject: %+v", rep.AlwaysReject)
	}
	if !near(rep.AUC.Value, 0.9) || rep.BestInSample != 5 || !near(rep.BestInSampleBA, 0.9) {
		t.Errorf("AUC %v, best threshold %v (BA %v)", rep.AUC.Value, rep.BestInSample, rep.BestInSampleBA)
	}
	if rep.Correlated != 7 || !(rep.Pearson.Value > 0.8) {
		t.Errorf("correlation over %d papers: %v", rep.Correlated, rep.Pearson.Value)
	}
	lo, hi := at.BalancedAccuracy.CI95[0], at.BalancedAccuracy.CI95[1]
	if !(lo <= at.BalancedAccuracy.Value && at.BalancedAccuracy.Value <= hi) {
		t.Errorf("interval [%v, %v] misses %v", lo, hi, at.BalancedAccuracy.Value)
	}
	again, _ := Score(r, rv, Options{Threshold: 6, Bootstrap: 200})
	if again.AtThreshold.BalancedAccuracy.CI95 != at.BalancedAccuracy.CI95 {
		t.Error("the intervals change between two runs with the same seed")
	}

	var js bytes.Buffer
	if err := json.NewEncoder(&js).Encode(rep); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	ba := back["at_threshold"].(map[string]any)["balanced_accuracy"].(map[string]any)
	if !near(ba["value"].(float64), (2.0/3+0.8)/2) || len(ba["ci95"].([]any)) != 2 {
		t.Errorf("JSON balanced_accuracy = %v", ba)
	}
	for _, k := range []string{"decision", "always_reject", "cross_validated", "cv_thresholds", "auc", "pearson", "spearman", "sweep"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Decision field", "Overall ≥ 6", "always reject", "0.75 [", "ranking AUC of Overall: 0.90", "1 reviews of papers whose decision is Unknown"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	files, err := Plot(rep, filepath.Join(t.TempDir(), "plots"))
	if err != nil || len(files) != 2 {
		t.Fatalf("plots %v: %v", files, err)
	}
	for _, f := range files {
		if b, err := os.ReadFile(f); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s is not a PNG: %v", f, err)
		}
	}
}

func TestReviewsWithoutUsableScores(t *testing.T) {
	r, err := ReadRatings(write(t, "ratings.tsv", handRatings))
	if err != nil {
		t.Fatal(err)
	}
	body := "paper_id,Overall,Decision\np1,8,Accept\np2,,Accept\np3,n/a,maybe\nn1,\"4 (borderline reject)\",Reject\n"
	rv, err := ReadReviews(write(t, "reviews.csv", body), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(rv.Rows) != 4 || len(rv.NoOverall) != 2 || rv.NoOverall[0] != 3 || rv.NoOverall[1] != 4 || len(rv.NoDecision) != 1 || rv.NoDecision[0] != 4 {
		t.Fatalf("rows %d, no Overall on lines %v, no Decision on %v", len(rv.Rows), rv.NoOverall, rv.NoDecision)
	}
	rep, err := Score(r, rv, Options{Bootstrap: 20})
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	_ = rep.WriteTable(&table)
	if rep.Scored != 2 || !strings.Contains(table.String(), "2 review rows without a usable Overall") || !strings.Contains(table.String(), "lines 3, 4") {
		t.Errorf("scored %d:\n%s", rep.Scored, table.String())
	}
	none := "paper_id,Overall,Decision\np1,,Accept\n"
	rv, _ = ReadReviews(write(t, "none.csv", none), r)
	if _, err := Score(r, rv, Options{}); err == nil || !strings.Contains(err.Error(), "no row has a usable Overall") {
		t.Errorf("want an error for reviews without any score, got %v", err)
	}
}

func TestBadInput(t *testing.T) {
	good := write(t, "good.tsv", handRatings)
	tests := []struct {
		name, ratings, reviews, want string
	}{
		{name: "ratings without decision", ratings: "paper_id\t0\nx\t5\n", want: ":1: needs columns paper_id and decision"},
		{name: "ratings row too short", ratings: "paper_id\t0\tdecision\nx\t5\n", want: ":2: wrong number of fields"},
		{name: "rating not a number", ratings: "paper_id\t0\tdecision\nx\tgood\tReject\n", want: `:2: column 0: "good" is not a rating`},
		{name: "unknown decision word", ratings: "paper_id\t0\tdecision\nx\t5\tWithdrawn\n", want: `:2: decision "Withdrawn" is neither Accept`},
		{name: "paper rated twice differently", ratings: "paper_id\t0\tdecision\nx\t5\tReject\nx\t6\tReject\n", want: ":3: paper x is rated differently on line 2"},
		{name: "empty ratings", ratings: "", want: "the file is empty"},
		{name: "reviews without Overall column", reviews: "paper_id,Decision\np1,Accept\n", want: `:1: needs columns paper_id, Overall and Decision`},
		{name: "review of an unknown paper", reviews: "paper_id,Overall,Decision\np1,5,Reject\nzz,5,Reject\n", want: ":3: paper zz is not in the ratings"},
		{name: "malformed review row", reviews: "paper_id,Overall,Decision\np1,5\n", want: ":2: wrong number of fields"},
		{name: "paper reviewed twice", reviews: "paper_id,Overall,Decision\np1,5,Reject\np1,6,Accept\n", want: ":3: paper p1 is reviewed twice (also on line 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rpath := good
			if tt.ratings != "" || tt.reviews == "" {
				rpath = write(t, "ratings.tsv", tt.ratings)
			}
			r, err := ReadRatings(rpath)
			if tt.reviews != "" && err == nil {
				_, err = ReadReviews(write(t, "reviews.csv", tt.reviews), r)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), ".tsv") && !strings.Contains(err.Error(), ".csv") {
				t.Errorf("error %v does not name the file", err)
			}
		})
	}
}
