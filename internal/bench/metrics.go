package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Confusion counts yes/no predictions against the truth (accept = positive).
type Confusion struct{ TP, FP, TN, FN int }

// Confuse counts pred against truth.
func Confuse(pred, truth []bool) Confusion {
	var c Confusion
	for i, p := range pred {
		switch {
		case p && truth[i]:
			c.TP++
		case p:
			c.FP++
		case truth[i]:
			c.FN++
		default:
			c.TN++
		}
	}
	return c
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// Accuracy is the share of right answers.
func (c Confusion) Accuracy() float64 { return ratio(c.TP+c.TN, c.TP+c.TN+c.FP+c.FN) }

// BalancedAccuracy is the mean of the true positive and true negative
// rates: 0.5 for any constant answer, whatever the classes' sizes.
func (c Confusion) BalancedAccuracy() float64 {
	return (ratio(c.TP, c.TP+c.FN) + ratio(c.TN, c.TN+c.FP)) / 2
}

// F1 of the accept class (0 when nothing is accepted and nothing should be
// is undefined: NaN).
func (c Confusion) F1() float64 { return ratio(2*c.TP, 2*c.TP+c.FP+c.FN) }

// FPR is the share of rejected papers the rule accepts.
func (c Confusion) FPR() float64 { return ratio(c.FP, c.FP+c.TN) }

// FNR is the share of accepted papers the rule rejects.
func (c Confusion) FNR() float64 { return ratio(c.FN, c.FN+c.TP) }

// AUC is the ranking AUC of score for the positives: the chance that a
// random accepted paper scores above a random rejected one, ties counting
// half (Mann-Whitney U over n_pos·n_neg). NaN without both classes.
func AUC(score []float64, truth []bool) float64 {
	ranks := averageRanks(score)
	var pos, neg int
	var sum float64
	for i, t := range truth {
		if t {
			pos++
			sum += ranks[i]
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (sum - float64(pos)*float64(pos+1)/2) / (float64(pos) * float64(neg))
}

// averageRanks ranks x from 1, ties sharing their mean rank.
func averageRanks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		mean := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = mean
		}
		i = j + 1
	}
	return r
}

// Pearson is the linear correlation of x and y (NaN when either is constant).
func Pearson(x, y []float64) float64 {
	n := float64(len(x))
	if n < 2 {
		return math.NaN()
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// Spearman is the rank correlation of x and y (ties: mean ranks).
func Spearman(x, y []float64) float64 { return Pearson(averageRanks(x), averageRanks(y)) }

// Sample is one bootstrap resample: indices into the papers.
type Sample []int

// Resamples draws n stratified bootstrap resamples of the papers: the
// accepted and the rejected ones each resampled with replacement to their
// own count, so every resample keeps the class balance. The seed fixes
// them (PCG), so a report is reproducible.
func Resamples(truth []bool, n int, seed uint64) []Sample {
	var pos, neg []int
	for i, t := range truth {
		if t {
			pos = append(pos, i)
		} else {
			neg = append(neg, i)
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Sample, n)
	for b := range out {
		s := make(Sample, 0, len(truth))
		for _, class := range [][]int{pos, neg} {
			for range class {
				s = append(s, class[rng.IntN(len(class))])
			}
		}
		out[b] = s
	}
	return out
}

// Interval is the central 95% of a statistic over the resamples
// (percentiles, linear between order statistics); NaN values are left out.
func Interval(samples []Sample, stat func(Sample) float64) [2]float64 {
	vals := make([]float64, 0, len(samples))
	for _, s := range samples {
		if v := stat(s); !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return [2]float64{math.NaN(), math.NaN()}
	}
	slices.Sort(vals)
	return [2]float64{quantile(vals, 0.025), quantile(vals, 0.975)}
}

func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}

// pick gathers x at the sample's indices.
func pick[T any](x []T, s Sample) []T {
	out := make([]T, len(s))
	for i, j := range s {
		out[i] = x[j]
	}
	return out
}

// BestThreshold is the t among the distinct scores (accept iff score ≥ t)
// with the highest balanced accuracy on these papers; ties go to the
// lowest such t. NaN when there are no scores.
func BestThreshold(score []float64, truth []bool) float64 {
	cands := slices.Clone(score)
	slices.Sort(cands)
	cands = slices.Compact(cands)
	best, bestBA := math.NaN(), math.Inf(-1)
	pred := make([]bool, len(score))
	for _, t := range cands {
		for i, s := range score {
			pred[i] = s >= t
		}
		if ba := Confuse(pred, truth).BalancedAccuracy(); ba > bestBA {
			best, bestBA = t, ba
		}
	}
	return best
}

// CrossValidated chooses the threshold by k-fold cross-validation,
// stratified by class with a fixed seed: each fold's papers are judged
// with the threshold best on the other folds. It returns each fold's
// threshold and the out-of-fold predictions, which measure a threshold
// chosen without looking at the papers it judges.
func CrossValidated(score []float64, truth []bool, k int, seed uint64) (thresholds []float64, pred []bool) {
	fold := make([]int, len(score))
	rng := rand.New(rand.NewPCG(seed, seed^0x51ed2701a3c2b6f5))
	for _, want := range []bool{true, false} {
		var idx []int
		for i, t := range truth {
			if t == want {
				idx = append(idx, i)
			}
		}
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for j, i := range idx {
			fold[i] = j % k
		}
	}
	pred = make([]bool, len(score))
	for f := range k {
		var ts []float64
		var tt []bool
		for i := range score {
			if fold[i] != f {
				ts, tt = append(ts, score[i]), append(tt, truth[i])
			}
		}
		t := BestThreshold(ts, tt)
		thresholds = append(thresholds, t)
		for i := range score {
			if fold[i] == f {
				pred[i] = score[i] >= t
			}
		}
	}
	return thresholds, pred
}
