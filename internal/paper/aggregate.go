package paper

import (
	"bytes"
	"encoding/json"
	"math"
)

// Combining an ensemble of reviews of one paper, as the reference system
// does: the numeric scores are the members' rounded means, the text
// fields come from an area chair's meta-review (written elsewhere).

// scoreFields are the form's numeric fields, by JSON name, in form order.
var scoreFields = []struct {
	name string
	ptr  func(*Review) *int
}{
	{"Originality", func(r *Review) *int { return &r.Originality }},
	{"Quality", func(r *Review) *int { return &r.Quality }},
	{"Clarity", func(r *Review) *int { return &r.Clarity }},
	{"Significance", func(r *Review) *int { return &r.Significance }},
	{"Soundness", func(r *Review) *int { return &r.Soundness }},
	{"Presentation", func(r *Review) *int { return &r.Presentation }},
	{"Contribution", func(r *Review) *int { return &r.Contribution }},
	{"Overall", func(r *Review) *int { return &r.Overall }},
	{"Confidence", func(r *Review) *int { return &r.Confidence }},
}

// MeanScores returns meta with every numeric field (Originality, Quality,
// Clarity, Significance, Soundness, Presentation, Contribution, Overall,
// Confidence) replaced by the mean over reviews, rounded half to even as
// the reference does (Python's round of a NumPy mean: 2.5 → 2, 3.5 → 4). A member's 0 is a missing score and is left
// out of that field's mean; a field no member scored keeps meta's value.
// Decision is kept as meta has it unless it is empty; then it is "Accept"
// iff the mean Overall rounds to AcceptThreshold or more. Ethical Concerns
// is true if any member (or meta) says true. With no reviews meta is
// returned unchanged. The lists of meta are shared, not copied.
func MeanScores(meta Review, reviews []Review) Review {
	if len(reviews) == 0 {
		return meta
	}
	out := meta
	for _, f := range scoreFields {
		sum, n := 0, 0
		for i := range reviews {
			if v := *f.ptr(&reviews[i]); v != 0 {
				sum += v
				n++
			}
		}
		if n > 0 {
			*f.ptr(&out) = int(math.RoundToEven(float64(sum) / float64(n)))
		}
	}
	for _, r := range reviews {
		out.EthicalConcerns = out.EthicalConcerns || r.EthicalConcerns
	}
	if out.Decision == "" {
		out.Decision = "Reject"
		if out.Overall >= AcceptThreshold {
			out.Decision = "Accept"
		}
	}
	return out
}

// ScoreSpread reports, for each numeric field by its JSON name
// ("Overall"), the lowest and highest score over the reviews, for the
// meta-review prompt and the status line ("Overall 3–5 over 4 reviews").
// Missing scores (0) are left out; a field no review scored is absent, so
// no reviews give an empty map.
func ScoreSpread(reviews []Review) map[string][2]int {
	spread := map[string][2]int{}
	for _, f := range scoreFields {
		for i := range reviews {
			v := *f.ptr(&reviews[i])
			if v == 0 {
				continue
			}
			mm, ok := spread[f.name]
			if !ok {
				mm = [2]int{v, v}
			}
			mm[0], mm[1] = min(mm[0], v), max(mm[1], v)
			spread[f.name] = mm
		}
	}
	return spread
}

// JSON is the review as review.txt holds it: the form's keys in form
// order, indented by four spaces, a trailing newline, lists never null
// (an empty list is []) and no HTML escaping of <, > and &. Python's
// json.load and ParseReview read it back.
func (r Review) JSON() ([]byte, error) {
	for _, l := range []*[]string{&r.Strengths, &r.Weaknesses, &r.Questions, &r.Limitations} {
		if *l == nil {
			*l = []string{}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(r); err != nil { // Encode ends with a newline
		return nil, err
	}
	return b.Bytes(), nil
}
