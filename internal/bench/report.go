package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Options of a score. Zero values are the defaults.
type Options struct {
	Threshold float64 // accept iff Overall ≥ Threshold (default 6, the reference's)
	Bootstrap int     // resamples for the intervals (default 2000)
	Seed      uint64  // of the resamples and the folds (default 1)
	Folds     int     // of the cross-validated threshold (default 5)
}

func (o *Options) defaults() {
	if o.Threshold == 0 {
		o.Threshold = 6
	}
	if o.Bootstrap <= 0 {
		o.Bootstrap = 2000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Folds < 2 {
		o.Folds = 5
	}
}

// Value is a statistic with its 95% bootstrap interval; NaN (undefined,
// e.g. an FPR without rejected papers) is null in JSON.
type Value struct {
	Value float64
	CI95  [2]float64
}

// MarshalJSON writes {"value": v, "ci95": [lo, hi]}, NaN as null.
func (v Value) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Value *float64   `json:"value"`
		CI95  []*float64 `json:"ci95"`
	}{num(v.Value), []*float64{num(v.CI95[0]), num(v.CI95[1])}})
}

func num(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// Rule is how one accept/reject rule does.
type Rule struct {
	Name             string    `json:"rule"`
	Papers           int       `json:"papers"`
	Accuracy         Value     `json:"accuracy"`
	BalancedAccuracy Value     `json:"balanced_accuracy"`
	F1               Value     `json:"f1"`
	FPR              Value     `json:"fpr"`
	FNR              Value     `json:"fnr"`
	Confusion        Confusion `json:"confusion"`
}

// SweepPoint is accept iff Overall ≥ Threshold, over every threshold.
type SweepPoint struct {
	Threshold        float64 `json:"threshold"`
	AcceptRate       float64 `json:"accept_rate"`
	BalancedAccuracy float64 `json:"balanced_accuracy"`
}

// Report is the whole score of one reviews table.
type Report struct {
	RatingsFile string `json:"ratings_file"`
	ReviewsFile string `json:"reviews_file"`
	RatedPapers int    `json:"rated_papers"`
	Reviewed    int    `json:"reviewed"`
	// Scored: reviews with a usable Overall, and how many of those
	// papers were accepted.
	Scored     int     `json:"scored"`
	Accepted   int     `json:"accepted"`
	AcceptRate float64 `json:"accept_rate"`
	// Lines of review rows without a usable Overall or Decision, and
	// reviews of papers the ratings leave out (decision Unknown).
	RowsWithoutOverall  []int `json:"rows_without_overall"`
	RowsWithoutDecision []int `json:"rows_without_decision"`
	UndecidedPapers     int   `json:"undecided_papers"`

	Threshold    float64 `json:"threshold"`
	Decision     *Rule   `json:"decision"` // nil: no row has a Decision
	AtThreshold  Rule    `json:"at_threshold"`
	AlwaysReject Rule    `json:"always_reject"`
	// CrossValidated: the threshold chosen on the other folds, judged on
	// each fold (out-of-fold); Thresholds are the folds' choices.
	CrossValidated Rule      `json:"cross_validated"`
	CVThresholds   []float64 `json:"cv_thresholds"`
	// BestInSample is the threshold best on all the papers at once: what
	// choosing it on the test set gives, optimistic by construction.
	BestInSample   float64 `json:"best_in_sample_threshold"`
	BestInSampleBA float64 `json:"best_in_sample_balanced_accuracy"`

	AUC Value `json:"auc"` // ranking AUC of Overall
	// Correlation of Overall with the mean human rating, over the papers
	// that have human ratings.
	Pearson    Value `json:"pearson"`
	Spearman   Value `json:"spearman"`
	Correlated int   `json:"correlated_papers"`

	Sweep     []SweepPoint `json:"sweep"`
	Bootstrap int          `json:"bootstrap_resamples"`
	Seed      uint64       `json:"seed"`
	Folds     int          `json:"folds"`

	// For plots: Overall and the mean human rating per scored paper.
	Points []Point `json:"-"`
}

// Point is one scored paper.
type Point struct {
	Overall, HumanMean float64
	Accept             bool
}

// Score measures the reviews against the ratings.
func Score(r *Ratings, rv *Reviews, o Options) (*Report, error) {
	o.defaults()
	rep := &Report{RatingsFile: r.File, ReviewsFile: rv.File, RatedPapers: len(r.Papers), Reviewed: len(rv.Rows),
		RowsWithoutOverall: nonNil(rv.NoOverall), RowsWithoutDecision: nonNil(rv.NoDecision), UndecidedPapers: rv.Undecided,
		Threshold: o.Threshold, Bootstrap: o.Bootstrap, Seed: o.Seed, Folds: o.Folds}

	var score []float64
	var truth []bool
	var dpred, dtruth []bool
	for _, x := range rv.Rows {
		h, _ := r.Paper(x.ID)
		if x.Decision != "" {
			dpred, dtruth = append(dpred, x.Decision == "Accept"), append(dtruth, h.Accept)
		}
		if !x.HasOverall {
			continue
		}
		score, truth = append(score, x.Overall), append(truth, h.Accept)
		rep.Points = append(rep.Points, Point{Overall: x.Overall, HumanMean: h.Mean, Accept: h.Accept})
	}
	if len(score) == 0 {
		return nil, fmt.Errorf("reviews %s: no row has a usable Overall score", rv.File)
	}
	rep.Scored = len(score)
	for _, t := range truth {
		if t {
			rep.Accepted++
		}
	}
	rep.AcceptRate = float64(rep.Accepted) / float64(rep.Scored)

	samples := Resamples(truth, o.Bootstrap, o.Seed)
	if len(dpred) > 0 {
		d := rule("Decision field", dpred, dtruth, Resamples(dtruth, o.Bootstrap, o.Seed))
		rep.Decision = &d
	}
	at := make([]bool, len(score))
	for i, s := range score {
		at[i] = s >= o.Threshold
	}
	rep.AtThreshold = rule("Overall ≥ "+fmtNum(o.Threshold), at, truth, samples)
	rep.AlwaysReject = rule("always reject", make([]bool, len(score)), truth, samples)
	rep.CVThresholds, at = CrossValidated(score, truth, o.Folds, o.Seed)
	rep.CrossValidated = rule(fmt.Sprintf("Overall ≥ threshold chosen by %d-fold cross-validation", o.Folds), at, truth, samples)
	rep.BestInSample = BestThreshold(score, truth)
	for i, s := range score {
		at[i] = s >= rep.BestInSample
	}
	rep.BestInSampleBA = Confuse(at, truth).BalancedAccuracy()

	rep.AUC = Value{AUC(score, truth), Interval(samples, func(s Sample) float64 { return AUC(pick(score, s), pick(truth, s)) })}

	var cs, ch []float64
	var ct []bool
	for _, p := range rep.Points {
		if !math.IsNaN(p.HumanMean) {
			cs, ch, ct = append(cs, p.Overall), append(ch, p.HumanMean), append(ct, p.Accept)
		}
	}
	rep.Correlated = len(cs)
	rep.Pearson, rep.Spearman = Value{math.NaN(), [2]float64{math.NaN(), math.NaN()}}, Value{math.NaN(), [2]float64{math.NaN(), math.NaN()}}
	if len(cs) >= 3 {
		cSamples := Resamples(ct, o.Bootstrap, o.Seed)
		rep.Pearson = Value{Pearson(cs, ch), Interval(cSamples, func(s Sample) float64 { return Pearson(pick(cs, s), pick(ch, s)) })}
		rep.Spearman = Value{Spearman(cs, ch), Interval(cSamples, func(s Sample) float64 { return Spearman(pick(cs, s), pick(ch, s)) })}
	}

	ts := slices.Clone(score)
	slices.Sort(ts)
	for _, t := range slices.Compact(ts) {
		for i, s := range score {
			at[i] = s >= t
		}
		c := Confuse(at, truth)
		rep.Sweep = append(rep.Sweep, SweepPoint{Threshold: t, AcceptRate: ratio(c.TP+c.FP, len(score)), BalancedAccuracy: c.BalancedAccuracy()})
	}
	return rep, nil
}

func nonNil(x []int) []int {
	if x == nil {
		return []int{}
	}
	return x
}

// rule measures pred against truth, with intervals over samples.
func rule(name string, pred, truth []bool, samples []Sample) Rule {
	c := Confuse(pred, truth)
	val := func(f func(Confusion) float64) Value {
		return Value{f(c), Interval(samples, func(s Sample) float64 { return f(Confuse(pick(pred, s), pick(truth, s))) })}
	}
	return Rule{Name: name, Papers: len(pred), Confusion: c,
		Accuracy: val(Confusion.Accuracy), BalancedAccuracy: val(Confusion.BalancedAccuracy),
		F1: val(Confusion.F1), FPR: val(Confusion.FPR), FNR: val(Confusion.FNR)}
}

func fmtNum(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// WriteTable prints the report for people: the rules side by side with
// their intervals, then the ranking and correlation figures, then what
// was left out.
func (rep *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "ratings %s: %d papers with a decision; reviews %s: %d of them reviewed, %d with a usable Overall (%d accepted by humans, %.1f%%)\n",
		rep.RatingsFile, rep.RatedPapers, rep.ReviewsFile, rep.Reviewed, rep.Scored, rep.Accepted, 100*rep.AcceptRate)
	fmt.Fprintf(w, "95%% intervals: %d bootstrap resamples stratified by class, seed %d\n\n", rep.Bootstrap, rep.Seed)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tPAPERS\tACCURACY\tBALANCED ACC\tF1\tFPR\tFNR")
	rules := []Rule{}
	if rep.Decision != nil {
		rules = append(rules, *rep.Decision)
	}
	cv := rep.CrossValidated
	cv.Name = fmt.Sprintf("Overall ≥ cross-validated (folds chose %s)", joinNums(rep.CVThresholds))
	rules = append(rules, rep.AtThreshold, cv, rep.AlwaysReject)
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Papers, ci(r.Accuracy), ci(r.BalancedAccuracy), ci(r.F1), ci(r.FPR), ci(r.FNR))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nranking AUC of Overall: %s (an \"AUC\" of yes/no predictions equals their balanced accuracy)\n", ci(rep.AUC))
	fmt.Fprintf(w, "Overall vs mean human rating (%d papers): Pearson %s, Spearman %s\n", rep.Correlated, ci(rep.Pearson), ci(rep.Spearman))
	fmt.Fprintf(w, "best threshold in sample: Overall ≥ %s, balanced accuracy %.2f (chosen on the papers it is judged on: optimistic)\n",
		fmtNum(rep.BestInSample), rep.BestInSampleBA)
	fmt.Fprintf(w, "accept rate by threshold: %s\n", sweepLine(rep.Sweep))
	if n := len(rep.RowsWithoutOverall); n > 0 {
		fmt.Fprintf(w, "left out: %d review rows without a usable Overall (%s lines %s)\n", n, rep.ReviewsFile, lines(rep.RowsWithoutOverall))
	}
	if n := len(rep.RowsWithoutDecision); n > 0 {
		fmt.Fprintf(w, "left out of the Decision row: %d review rows without a readable Decision (%s lines %s)\n", n, rep.ReviewsFile, lines(rep.RowsWithoutDecision))
	}
	if rep.UndecidedPapers > 0 {
		fmt.Fprintf(w, "left out: %d reviews of papers whose decision is Unknown in %s\n", rep.UndecidedPapers, rep.RatingsFile)
	}
	return nil
}

func ci(v Value) string {
	if math.IsNaN(v.Value) {
		return "n/a"
	}
	if math.IsNaN(v.CI95[0]) {
		return fmt.Sprintf("%.2f", v.Value)
	}
	return fmt.Sprintf("%.2f [%.2f, %.2f]", v.Value, v.CI95[0], v.CI95[1])
}

func joinNums(x []float64) string {
	s := make([]string, len(x))
	for i, v := range x {
		s[i] = fmtNum(v)
	}
	return strings.Join(s, ", ")
}

func sweepLine(sw []SweepPoint) string {
	s := make([]string, len(sw))
	for i, p := range sw {
		s[i] = fmt.Sprintf("≥%s %.0f%% (BA %.2f)", fmtNum(p.Threshold), 100*p.AcceptRate, p.BalancedAccuracy)
	}
	return strings.Join(s, ", ")
}

// lines lists up to ten line numbers.
func lines(x []int) string {
	s := make([]string, 0, 10)
	for i, n := range x {
		if i == 10 {
			s = append(s, fmt.Sprintf("and %d more", len(x)-10))
			break
		}
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, ", ")
}
