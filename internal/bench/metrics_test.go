package bench

import (
	"math"
	"slices"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-4 || (math.IsNaN(a) && math.IsNaN(b)) }

// Three accepted and five rejected papers; the figures below are worked
// out by hand.
var (
	handTruth = []bool{true, true, true, false, false, false, false, false}
	handScore = []float64{8, 6, 5, 6, 4, 3, 3, 2}
)

func TestConfusionMetrics(t *testing.T) {
	tests := []struct {
		name                  string
		pred                  []bool
		acc, ba, f1, fpr, fnr float64
	}{
		// TP 2, FN 1, FP 1, TN 4.
		{"mixed", []bool{true, true, false, true, false, false, false, false}, 0.75, (2.0/3 + 0.8) / 2, 4.0 / 6, 0.2, 1.0 / 3},
		// Always reject: the majority's accuracy, balanced accuracy 0.5.
		{"always reject", make([]bool, 8), 5.0 / 8, 0.5, 0, 0, 1},
		{"always accept", []bool{true, true, true, true, true, true, true, true}, 3.0 / 8, 0.5, 6.0 / 11, 1, 0},
		{"perfect", handTruth, 1, 1, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Confuse(tt.pred, handTruth)
			got := []float64{c.Accuracy(), c.BalancedAccuracy(), c.F1(), c.FPR(), c.FNR()}
			want := []float64{tt.acc, tt.ba, tt.f1, tt.fpr, tt.fnr}
			for i := range got {
				if !near(got[i], want[i]) {
					t.Errorf("accuracy, BA, F1, FPR, FNR = %v, want %v", got, want)
					break
				}
			}
		})
	}
	if c := Confuse([]bool{false}, []bool{false}); !math.IsNaN(c.FNR()) || !math.IsNaN(c.F1()) {
		t.Errorf("without accepted papers FNR and F1 are undefined, got %v %v", c.FNR(), c.F1())
	}
}

func TestAUCAndCorrelation(t *testing.T) {
	// Pairs won by the accepted papers: 8 beats all 5, 6 beats 4 and ties
	// 1, 5 beats 4: 13.5 of 15.
	if got := AUC(handScore, handTruth); !near(got, 0.9) {
		t.Errorf("AUC = %v, want 0.9", got)
	}
	if got := AUC([]float64{1, 1}, []bool{true, false}); !near(got, 0.5) {
		t.Errorf("AUC of a tie = %v, want 0.5", got)
	}
	if got := AUC([]float64{1, 2}, []bool{true, true}); !math.IsNaN(got) {
		t.Errorf("AUC of one class = %v, want NaN", got)
	}
	if got := Pearson([]float64{1, 2, 3}, []float64{2, 4, 7}); !near(got, 5/math.Sqrt(2*114.0/9)) {
		t.Errorf("Pearson = %v", got)
	}
	if got := Spearman([]float64{1, 2, 3}, []float64{2, 4, 7}); !near(got, 1) {
		t.Errorf("Spearman = %v, want 1", got)
	}
	if got := Pearson([]float64{1, 1, 1}, []float64{2, 4, 7}); !math.IsNaN(got) {
		t.Errorf("Pearson of a constant = %v, want NaN", got)
	}
	if got := averageRanks([]float64{3, 1, 3, 2}); !slices.Equal(got, []float64{3.5, 1, 3.5, 2}) {
		t.Errorf("ranks = %v", got)
	}
}

func TestBootstrapIsStratifiedAndFixedBySeed(t *testing.T) {
	a := Resamples(handTruth, 50, 7)
	b := Resamples(handTruth, 50, 7)
	c := Resamples(handTruth, 50, 8)
	if len(a) != 50 || !slices.EqualFunc(a, b, func(x, y Sample) bool { return slices.Equal(x, y) }) {
		t.Fatal("the same seed gave other resamples")
	}
	if slices.EqualFunc(a, c, func(x, y Sample) bool { return slices.Equal(x, y) }) {
		t.Fatal("another seed gave the same resamples")
	}
	for _, s := range a {
		pos := 0
		for _, i := range s {
			if handTruth[i] {
				pos++
			}
		}
		if len(s) != 8 || pos != 3 {
			t.Fatalf("resample %v: %d papers, %d accepted; want 8 and 3", s, len(s), pos)
		}
	}
	acc := func(s Sample) float64 { return Confuse(pick(handTruth, s), pick(handTruth, s)).Accuracy() }
	if iv := Interval(a, acc); iv != [2]float64{1, 1} {
		t.Errorf("interval of a constant statistic = %v", iv)
	}
	if got := quantile([]float64{0, 10}, 0.25); got != 2.5 {
		t.Errorf("quantile = %v, want 2.5", got)
	}
}

func TestThresholds(t *testing.T) {
	// ≥5 accepts the three and one rejected paper: BA 0.9, the best.
	if got := BestThreshold(handScore, handTruth); got != 5 {
		t.Errorf("best threshold = %v, want 5", got)
	}
	// Separable at 5 (accepted papers score 5 or 6, rejected 3 or 4):
	// every fold must choose 5 and judge its papers perfectly.
	var score []float64
	var truth []bool
	for i := range 40 {
		score, truth = append(score, float64(5+i%2)), append(truth, true)
		score, truth = append(score, float64(3+i%2)), append(truth, false)
		score, truth = append(score, float64(3+(i+1)%2)), append(truth, false)
	}
	ts, pred := CrossValidated(score, truth, 5, 1)
	if !slices.Equal(ts, []float64{5, 5, 5, 5, 5}) {
		t.Errorf("fold thresholds = %v, want 5 each", ts)
	}
	if ba := Confuse(pred, truth).BalancedAccuracy(); ba != 1 {
		t.Errorf("out-of-fold balanced accuracy = %v, want 1", ba)
	}
	ts2, pred2 := CrossValidated(score, truth, 5, 1)
	if !slices.Equal(ts, ts2) || !slices.Equal(pred, pred2) {
		t.Error("cross-validation is not fixed by its seed")
	}
}
