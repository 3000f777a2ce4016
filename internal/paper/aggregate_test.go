package paper

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// member is a valid review whose every numeric score is v (Confidence at
// most 5, the 1–4 scores at most 4), with Overall overall.
func member(v, overall int) Review {
	return Review{
		Summary: "s", Strengths: []string{"a"}, Weaknesses: []string{"b"}, Questions: []string{"c"}, Limitations: []string{"d"},
		Originality: v, Quality: v, Clarity: v, Significance: v, Soundness: v, Presentation: v, Contribution: v,
		Overall: overall, Confidence: min(v+1, 5), Decision: "Reject",
	}
}

func withOveralls(overalls ...int) []Review {
	rs := make([]Review, len(overalls))
	for i, o := range overalls {
		rs[i] = member(2, o)
	}
	return rs
}

func TestMeanScoresOverall(t *testing.T) {
	tests := []struct {
		name         string
		overalls     []int
		metaDecision string
		wantOverall  int
		wantDecision string
	}{
		{"3,4,4,6 → 4.25 → 4", []int{3, 4, 4, 6}, "", 4, "Reject"},
		{"2,3 → 2.5 rounds to even: 2", []int{2, 3}, "", 2, "Reject"},
		{"3,4 → 3.5 rounds to even: 4", []int{3, 4}, "", 4, "Reject"},
		{"5,6 → 5.5 rounds up to 6, so Accept", []int{5, 6}, "", 6, "Accept"},
		{"4,5 → 4.5 rounds to even: 4", []int{4, 5}, "", 4, "Reject"},
		{"6,6,7 → 6.33 → 6, Accept", []int{6, 6, 7}, "", 6, "Accept"},
		{"one member", []int{8}, "", 8, "Accept"},
		{"meta's decision is kept though the mean says Accept", []int{6, 8}, "Reject", 7, "Reject"},
		{"meta's decision is kept though the mean says Reject", []int{3, 4}, "Accept", 4, "Accept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta := Review{Summary: "meta", Overall: 9, Decision: tt.metaDecision}
			got := MeanScores(meta, withOveralls(tt.overalls...))
			if got.Overall != tt.wantOverall || got.Decision != tt.wantDecision {
				t.Fatalf("Overall %d, Decision %q; want %d, %q", got.Overall, got.Decision, tt.wantOverall, tt.wantDecision)
			}
			if got.Summary != "meta" {
				t.Errorf("Summary = %q, want meta's", got.Summary)
			}
		})
	}
}

func TestMeanScoresEveryField(t *testing.T) {
	meta := Review{Summary: "meta", Strengths: []string{"meta strength"}, Originality: 4, Quality: 4, Clarity: 4, Significance: 4,
		Soundness: 4, Presentation: 4, Contribution: 4, Overall: 10, Confidence: 5}
	reviews := []Review{member(1, 2), member(2, 3), member(2, 5)} // 1,2,2 → 1.67 → 2; confidence 2,3,3 → 3; overall 3.33 → 3
	got := MeanScores(meta, reviews)
	want := meta
	want.Originality, want.Quality, want.Clarity, want.Significance = 2, 2, 2, 2
	want.Soundness, want.Presentation, want.Contribution = 2, 2, 2
	want.Overall, want.Confidence, want.Decision = 3, 3, "Reject"
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if reviews[0].Originality != 1 || meta.Overall != 10 {
		t.Error("MeanScores changed its arguments")
	}
}

func TestMeanScoresMissingScores(t *testing.T) {
	a, b := member(2, 4), member(3, 6)
	b.Soundness = 0 // a member without this score: left out of the mean
	got := MeanScores(Review{Soundness: 1}, []Review{a, b})
	if got.Soundness != 2 || got.Overall != 5 || got.Quality != 2 {
		t.Fatalf("Soundness %d (want 2), Overall %d (want 5), Quality %d (want 2: 2.5 to even)", got.Soundness, got.Overall, got.Quality)
	}
	a.Clarity, b.Clarity = 0, 0 // no member scored it: meta's value stays
	if got := MeanScores(Review{Clarity: 4}, []Review{a, b}); got.Clarity != 4 {
		t.Fatalf("Clarity %d, want meta's 4", got.Clarity)
	}
}

func TestMeanScoresEthicalConcerns(t *testing.T) {
	yes := member(2, 4)
	yes.EthicalConcerns = true
	no := member(2, 4)
	tests := []struct {
		name    string
		meta    bool
		reviews []Review
		want    bool
	}{
		{"none", false, []Review{no, no}, false},
		{"one of three", false, []Review{no, yes, no}, true},
		{"all", false, []Review{yes, yes}, true},
		{"meta's own concern is kept", true, []Review{no}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MeanScores(Review{EthicalConcerns: tt.meta}, tt.reviews).EthicalConcerns; got != tt.want {
				t.Fatalf("Ethical Concerns = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMeanScoresNoReviews(t *testing.T) {
	meta := member(3, 7)
	meta.Decision = ""
	for _, reviews := range [][]Review{nil, {}} {
		if got := MeanScores(meta, reviews); !reflect.DeepEqual(got, meta) {
			t.Fatalf("got %+v, want meta unchanged", got)
		}
	}
}

func TestScoreSpread(t *testing.T) {
	a, b, c := member(1, 3), member(3, 5), member(2, 4)
	c.Soundness = 0
	tests := []struct {
		name    string
		reviews []Review
		want    map[string][2]int
	}{
		{"none", nil, map[string][2]int{}},
		{"one", []Review{b}, map[string][2]int{
			"Originality": {3, 3}, "Quality": {3, 3}, "Clarity": {3, 3}, "Significance": {3, 3}, "Soundness": {3, 3},
			"Presentation": {3, 3}, "Contribution": {3, 3}, "Overall": {5, 5}, "Confidence": {4, 4}}},
		{"three, one without Soundness", []Review{c, a, b}, map[string][2]int{
			"Originality": {1, 3}, "Quality": {1, 3}, "Clarity": {1, 3}, "Significance": {1, 3}, "Soundness": {1, 3},
			"Presentation": {1, 3}, "Contribution": {1, 3}, "Overall": {3, 5}, "Confidence": {2, 4}}},
		{"Soundness from one member only", []Review{c}, map[string][2]int{
			"Originality": {2, 2}, "Quality": {2, 2}, "Clarity": {2, 2}, "Significance": {2, 2},
			"Presentation": {2, 2}, "Contribution": {2, 2}, "Overall": {4, 4}, "Confidence": {3, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ScoreSpread(tt.reviews); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestScoreSpreadNamesAreJSONNames(t *testing.T) {
	b, err := json.Marshal(member(2, 4))
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	for name := range ScoreSpread([]Review{member(2, 4)}) {
		if _, ok := keys[name].(float64); !ok {
			t.Errorf("%q is not a numeric JSON field of the form", name)
		}
	}
}

func TestReviewJSON(t *testing.T) {
	full := member(3, 6)
	full.Summary = "Uses <b> & \"quotes\"\nand a second line: x < y."
	full.Strengths = []string{"one", "two"}
	full.EthicalConcerns = true
	full.Decision = "Accept"
	empty := member(2, 4)
	empty.Questions, empty.Limitations = nil, nil
	tests := []struct {
		name string
		r    Review
		want Review // after a round trip through ParseReview
	}{
		{"full", full, full},
		{"nil lists", empty, func() Review { w := empty; w.Questions, w.Limitations = []string{}, []string{}; return w }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.r.JSON()
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			if !strings.HasSuffix(s, "}\n") || strings.HasSuffix(s, "\n\n") {
				t.Errorf("want one trailing newline: %q", s[max(0, len(s)-10):])
			}
			if !strings.HasPrefix(s, "{\n    \"Summary\": ") {
				t.Errorf("want 4-space indentation, Summary first: %q", s[:min(40, len(s))])
			}
			if strings.Contains(s, "null") || strings.Contains(s, `\u003c`) {
				t.Errorf("null list or HTML escaping in %s", s)
			}
			got, err := ParseReview(s)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("round trip:\ngot  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReviewJSONKeyOrder(t *testing.T) {
	b, err := member(2, 4).JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Summary", "Strengths", "Weaknesses", "Originality", "Quality", "Clarity", "Significance", "Questions",
		"Limitations", "Ethical Concerns", "Soundness", "Presentation", "Contribution", "Overall", "Confidence", "Decision"}
	if got := topLevelKeys(t, b); !reflect.DeepEqual(got, want) {
		t.Fatalf("keys %q\nwant %q", got, want)
	}
}

// topLevelKeys lists a JSON object's keys in the order they are written.
func topLevelKeys(t *testing.T, b []byte) []string {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(string(b)))
	if _, err := d.Token(); err != nil { // {
		t.Fatal(err)
	}
	var keys []string
	for d.More() {
		k, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
