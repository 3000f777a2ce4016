package numbers

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Derived matches (difference, relative change, ratio between two runs)
// are many: every pair of runs for every metric. A number with one
// significant digit ("2\%", "0.05") would match one of them by chance, so
// it must carry at least minDerivedSig digits; one with more than
// maxDerivedSig digits is not a rounded derived figure.
const (
	minDerivedSig = 2
	maxDerivedSig = 4
)

// Check finds the numbers in tex (the abstract, the Results section and
// every tabular) and matches each against values. A number matches when
// one of these holds, tried in this order and recorded as Number.How:
//
//  1. rounded: it equals a run's result rounded, or truncated, to the
//     digits written (0.953 and 0.95 for 0.95312; a round integer such as
//     7,500 to two significant digits). A percent-written number is
//     compared so only with results above 1 (already percents).
//  2. percent: it equals 100 × a result, so rounded; it is written as a
//     percent, or it is above 1 and the result at most 1 (95.3 in an
//     "Acc. (%)" column).
//  3. code setting: it equals, directly or as a percent, a number of the
//     code (experiment.py, run_<i>.py), named or not: "99\%" for
//     `va >= 0.99`.
//  4. mean over datasets: the mean of one metric over the datasets of one
//     run.
//  5. difference: |a − b| for one metric of one dataset in two runs, or
//     100 × |a − b| (percentage points) when both are fractions.
//  6. relative change: 100 × |a − b| / |b|, a percent (or a number above
//     1).
//  7. ratio: a / b, only for numbers written as ratios ("1.5\times",
//     "3.2x", "2.5-fold").
//
// Rules 5–7 need 2 to 4 significant digits. A ± value ("\pm 0.01") is
// matched against standard errors only (rules 1–2, How "uncertainty"); one
// that matches none is kept with Match UncheckedUncertainty and not
// counted, since it may be a standard deviation. Signs count for rules
// 1–4; derived differences are compared in absolute value.
func Check(tex string, values []Value) Report {
	m := newMatcher(values)
	starts := lineStarts(tex)
	r := Report{Numbers: []Number{}}
	prevPercent := false // the last number (not a ± value) was a percent
	for _, f := range extract(tex) {
		n := Number{Text: cleanText(tex[f.start:f.end]), Value: f.value, Line: lineOf(starts, f.start), Where: f.where}
		st := f.stated
		if st.pm && prevPercent {
			st.percent = true // "99.8 $\pm$ 0.1" in an accuracy-in-percent column
		}
		desc, how, scaled := m.match(st)
		if !f.pm {
			prevPercent = f.percent || scaled
		}
		switch {
		case desc != "":
			n.Match, n.How = desc, how
		case f.pm:
			n.Match, n.How = UncheckedUncertainty, HowUncertainty
		case yearLike(f.stated):
			continue
		default:
			n.Match = NoMatch
			n.Closest = m.closest(f.stated, 3)
		}
		if n.Match != UncheckedUncertainty {
			r.Checked++
		}
		if n.Match == NoMatch {
			r.Unmatched++
		}
		r.Numbers = append(r.Numbers, n)
	}
	return r
}

// cleanText drops math shifts and unbalanced braces from a number as
// written ("\textbf{95.3}\%" → "95.3\%"), keeping "7{,}500" and
// "10^{-3}" whole.
func cleanText(t string) string {
	var b strings.Builder
	depth := 0
	for i := 0; i < len(t); i++ {
		switch c := t[i]; c {
		case '$':
			continue
		case '{':
			if !strings.Contains(t[i:], "}") {
				continue
			}
			depth++
		case '}':
			if depth == 0 {
				continue
			}
			depth--
		}
		b.WriteByte(t[i])
	}
	return strings.TrimSpace(b.String())
}

// matcher holds the true values arranged for the rules of Check.
type matcher struct {
	results []Value            // run means and standard errors
	stderrs []Value            // run standard errors
	code    []Value            // code numbers, named first
	means   []datasetMean      // mean over datasets per run and metric
	byPath  map[string][]Value // means by "dataset.means.metric", in run order
	paths   []string           // keys of byPath, sorted
}

type datasetMean struct {
	run, metric string
	n           int
	x           float64
}

func newMatcher(values []Value) *matcher {
	m := &matcher{byPath: map[string][]Value{}}
	type key struct{ run, metric string }
	sums := map[key][]float64{}
	var order []key
	for _, v := range values {
		if v.Run == CodeRun {
			m.code = append(m.code, v)
			continue
		}
		m.results = append(m.results, v)
		if strings.Contains(v.Path, stderrsSep) {
			m.stderrs = append(m.stderrs, v)
			continue
		}
		if m.byPath[v.Path] == nil {
			m.paths = append(m.paths, v.Path)
		}
		m.byPath[v.Path] = append(m.byPath[v.Path], v)
		if i := strings.Index(v.Path, meansSep); i >= 0 {
			k := key{v.Run, v.Path[i+len(meansSep):]}
			if sums[k] == nil {
				order = append(order, k)
			}
			sums[k] = append(sums[k], v.Value)
		}
	}
	sort.Strings(m.paths)
	for _, k := range order {
		xs := sums[k]
		if len(xs) < 2 {
			continue
		}
		total := 0.0
		for _, x := range xs {
			total += x
		}
		m.means = append(m.means, datasetMean{k.run, k.metric, len(xs), total / float64(len(xs))})
	}
	return m
}

// within reports whether v, written to the unit ulp, states x: x rounded
// to that unit (half a unit either way) or truncated to it (up to a unit
// further from zero), with a tiny tolerance for binary floating point.
func within(v, ulp, x float64) bool {
	eps := 1e-9*math.Max(math.Abs(v), math.Abs(x)) + 1e-12
	d := x - v
	if math.Abs(d) <= ulp/2+eps {
		return true
	}
	if v >= 0 && d > 0 {
		return d < ulp-eps
	}
	if v <= 0 && d < 0 {
		return -d < ulp-eps
	}
	return false
}

// direct reports whether s states x as it is. A percent states a result
// directly only when the result is above 1, i.e. already a percent.
func (s stated) direct(x float64) bool {
	if s.percent && math.Abs(x) <= 1 {
		return false
	}
	return within(s.value, s.ulp, x)
}

// percentOf reports whether s states x as a percent: s is written as a
// percent, or s is above 1 and x at most 1.
func (s stated) percentOf(x float64) bool {
	if !percentEligible(s, x) {
		return false
	}
	return within(s.value, s.ulp, 100*x)
}

func percentEligible(s stated, x float64) bool {
	if s.ratio {
		return false
	}
	return s.percent || (math.Abs(s.value) > 1 && math.Abs(x) <= 1)
}

// closeness orders candidates: how far x is from s, in units of s's last
// digit.
func closeness(s stated, x float64) float64 {
	return math.Abs(x-s.value) / s.ulp
}

func fmtNum(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }

func describe(v Value) string { return v.Run + " " + v.Path + " = " + fmtNum(v.Value) }

// bestOf returns the candidate of vs that test accepts and that lies
// closest to s (the first of equals), or -1.
func bestOf(s stated, vs []Value, test func(float64) bool, scale float64) int {
	best, bestD := -1, math.Inf(1)
	for i, v := range vs {
		if test(v.Value) {
			if d := closeness(s, scale*v.Value); d < bestD {
				best, bestD = i, d
			}
		}
	}
	return best
}

// match returns the description of the true value s follows from and the
// rule (see Check), or "" when there is none.
//
// scaled is true when the match reads s as a percent of the true value.
func (m *matcher) match(s stated) (desc, how string, scaled bool) {
	if s.pm {
		if i := bestOf(s, m.stderrs, s.direct, 1); i >= 0 {
			return describe(m.stderrs[i]), HowUncertainty, false
		}
		if i := bestOf(s, m.stderrs, s.percentOf, 100); i >= 0 {
			return describe(m.stderrs[i]) + " (" + fmtNum(100*m.stderrs[i].Value) + "%)", HowUncertainty, true
		}
		return "", "", false
	}
	if i := bestOf(s, m.results, s.direct, 1); i >= 0 {
		return describe(m.results[i]), HowRounded, false
	}
	if i := bestOf(s, m.results, s.percentOf, 100); i >= 0 {
		return describe(m.results[i]) + " (" + fmtNum(100*m.results[i].Value) + "%)", HowPercent, true
	}
	if i := bestOf(s, m.code, s.direct, 1); i >= 0 {
		return describe(m.code[i]), HowCode, false
	}
	if i := bestOf(s, m.code, s.percentOf, 100); i >= 0 {
		return describe(m.code[i]) + " (" + fmtNum(100*m.code[i].Value) + "%)", HowCode, true
	}
	if d, pct := m.mean(s); d != "" {
		return d, HowMean, pct
	}
	if s.sig < minDerivedSig || s.sig > maxDerivedSig {
		return "", "", false
	}
	if d := m.difference(s); d != "" {
		return d, HowDifference, false
	}
	if d := m.relative(s); d != "" {
		return d, HowRelative, false
	}
	if d := m.ratio(s); d != "" {
		return d, HowRatio, false
	}
	return "", "", false
}

func (m *matcher) mean(s stated) (string, bool) {
	best, bestD, pct := -1, math.Inf(1), false
	for i, dm := range m.means {
		for _, p := range []bool{false, true} {
			ok, x := s.direct(dm.x), dm.x
			if p {
				ok, x = s.percentOf(dm.x), 100*dm.x
			}
			if d := closeness(s, x); ok && d < bestD {
				best, bestD, pct = i, d, p
			}
		}
	}
	if best < 0 {
		return "", false
	}
	dm := m.means[best]
	d := fmt.Sprintf("%s mean of %s over %d datasets = %s", dm.run, dm.metric, dm.n, fmtNum(dm.x))
	if pct {
		d += " (" + fmtNum(100*dm.x) + "%)"
	}
	return d, pct
}

// pairs calls f for every ordered pair of runs holding the same metric.
func (m *matcher) pairs(f func(path string, a, b Value)) {
	for _, p := range m.paths {
		vs := m.byPath[p]
		for i := range vs {
			for j := range vs {
				if i != j && vs[i].Run != vs[j].Run {
					f(p, vs[i], vs[j])
				}
			}
		}
	}
}

// difference: |a − b|, or 100 × |a − b| in percentage points when both
// are fractions. A percent-written number is a difference of percents
// (metrics above 1) or in points.
func (m *matcher) difference(s stated) string {
	if s.ratio {
		return ""
	}
	v := math.Abs(s.value)
	abs := s
	abs.value = v
	var best string
	bestD := math.Inf(1)
	m.pairs(func(p string, a, b Value) {
		if a.Value <= b.Value { // each unordered pair once, larger first
			return
		}
		d := a.Value - b.Value
		fractions := math.Abs(a.Value) <= 1 && math.Abs(b.Value) <= 1
		x, unit := d, ""
		if fractions && (s.percent || v > 1) {
			x, unit = 100*d, " percentage points"
		}
		if !within(v, s.ulp, x) {
			return
		}
		if c := closeness(abs, x); c < bestD {
			bestD = c
			best = fmt.Sprintf("%s - %s %s = %s - %s = %s%s", a.Run, b.Run, p, fmtNum(a.Value), fmtNum(b.Value), fmtNum(x), unit)
		}
	})
	return best
}

// relative: 100 × |a − b| / |b|, b the reference run.
func (m *matcher) relative(s stated) string {
	if s.ratio || !(s.percent || math.Abs(s.value) > 1) {
		return ""
	}
	v := math.Abs(s.value)
	abs := s
	abs.value = v
	var best string
	bestD := math.Inf(1)
	m.pairs(func(p string, a, b Value) {
		if b.Value == 0 || a.Value == b.Value {
			return
		}
		x := 100 * math.Abs(a.Value-b.Value) / math.Abs(b.Value)
		if !within(v, s.ulp, x) {
			return
		}
		if c := closeness(abs, x); c < bestD {
			bestD = c
			best = fmt.Sprintf("(%s - %s) / %s %s = (%s - %s) / %s = %s%%", a.Run, b.Run, b.Run, p,
				fmtNum(a.Value), fmtNum(b.Value), fmtNum(b.Value), fmtNum(100*(a.Value-b.Value)/math.Abs(b.Value)))
		}
	})
	return best
}

// ratio: a / b, for numbers written as ratios.
func (m *matcher) ratio(s stated) string {
	if !s.ratio {
		return ""
	}
	v := math.Abs(s.value)
	abs := s
	abs.value = v
	var best string
	bestD := math.Inf(1)
	m.pairs(func(p string, a, b Value) {
		if a.Value == 0 || b.Value == 0 {
			return
		}
		x := math.Abs(a.Value / b.Value)
		if !within(v, s.ulp, x) {
			return
		}
		if c := closeness(abs, x); c < bestD {
			bestD = c
			best = fmt.Sprintf("%s / %s %s = %s / %s = %s", a.Run, b.Run, p, fmtNum(a.Value), fmtNum(b.Value), fmtNum(x))
		}
	})
	return best
}

// closest returns up to k true values nearest to s (run results and named
// code settings, as a percent where s could be one), for the writer.
func (m *matcher) closest(s stated, k int) []string {
	type cand struct {
		desc string
		d    float64
	}
	var cs []cand
	add := func(v Value) {
		x, desc := v.Value, describe(v)
		if percentEligible(s, v.Value) && (s.percent && math.Abs(v.Value) <= 1 || math.Abs(100*v.Value-s.value) < math.Abs(v.Value-s.value)) {
			x, desc = 100*v.Value, desc+" ("+fmtNum(100*v.Value)+"%)"
		}
		den := math.Max(math.Max(math.Abs(x), math.Abs(s.value)), 1e-12)
		cs = append(cs, cand{desc, math.Abs(x-s.value) / den})
	}
	if s.ratio {
		// A ratio is best explained by the ratios between runs.
		m.pairs(func(p string, a, b Value) {
			if a.Value != 0 && b.Value != 0 {
				x := math.Abs(a.Value / b.Value)
				den := math.Max(math.Max(x, math.Abs(s.value)), 1e-12)
				cs = append(cs, cand{fmt.Sprintf("%s / %s %s = %s", a.Run, b.Run, p, fmtNum(x)), math.Abs(x-math.Abs(s.value)) / den})
			}
		})
	}
	for _, v := range m.results {
		add(v)
	}
	for _, v := range m.code {
		if isNamedCode(v) {
			add(v)
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	seen := map[string]bool{}
	for _, c := range cs {
		if len(out) == k {
			break
		}
		if !seen[c.desc] {
			seen[c.desc] = true
			out = append(out, c.desc)
		}
	}
	return out
}
