package fewshot

import (
	"encoding/json"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"github.com/aiscientist/aiscientist/internal/paper"
)

func TestExamplesLength(t *testing.T) {
	for _, tt := range []struct{ k, want int }{{-1, 0}, {0, 0}, {1, 1}, {2, 2}, {3, 3}, {10, 3}} {
		if got := len(Examples(tt.k)); got != tt.want {
			t.Errorf("len(Examples(%d)) = %d, want %d", tt.k, got, tt.want)
		}
	}
	if Count() != 3 {
		t.Errorf("Count() = %d, want 3", Count())
	}
}

func TestOrder(t *testing.T) {
	// Borderline (Reject, Overall 4 or 5) first, then the clear reject, then the accept.
	var got []string
	for _, e := range Examples(Count()) {
		r, err := paper.ParseReview(string(e.Review))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Decision)
		switch len(got) {
		case 1:
			if r.Overall != 4 && r.Overall != 5 {
				t.Errorf("first example %s has Overall %d, want a borderline 4 or 5", e.Name, r.Overall)
			}
		case 2:
			if r.Overall > 3 {
				t.Errorf("second example %s has Overall %d, want a clear reject", e.Name, r.Overall)
			}
		}
	}
	if want := []string{"Reject", "Reject", "Accept"}; !reflect.DeepEqual(got, want) {
		t.Errorf("decisions %q, want %q", got, want)
	}
}

var formKeys = []string{"Summary", "Strengths", "Weaknesses", "Originality", "Quality", "Clarity", "Significance", "Questions",
	"Limitations", "Ethical Concerns", "Soundness", "Presentation", "Contribution", "Overall", "Confidence", "Decision"}

func TestReviews(t *testing.T) {
	for _, e := range Examples(Count()) {
		t.Run(e.Name, func(t *testing.T) {
			r, err := paper.ParseReview(string(e.Review))
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			if accept := r.Overall >= paper.AcceptThreshold; accept != (r.Decision == "Accept") {
				t.Errorf("Overall %d with Decision %q", r.Overall, r.Decision)
			}
			for name, l := range map[string][]string{"Strengths": r.Strengths, "Weaknesses": r.Weaknesses,
				"Questions": r.Questions, "Limitations": r.Limitations} {
				if len(l) < 3 || len(l) > 6 {
					t.Errorf("%s has %d points, want 3 to 6", name, len(l))
				}
			}
			if got := keys(t, e.Review); !reflect.DeepEqual(got, formKeys) {
				t.Errorf("keys %q\nwant %q", got, formKeys)
			}
			// Stored exactly as Review.JSON writes it, so what the model sees
			// is what the system writes to review.txt.
			b, err := r.JSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != string(e.Review) {
				t.Errorf("stored JSON differs from Review.JSON():\n%s", b)
			}
		})
	}
}

func TestTexts(t *testing.T) {
	for _, e := range Examples(Count()) {
		t.Run(e.Name, func(t *testing.T) {
			if strings.TrimSpace(e.Text) == "" {
				t.Fatal("empty text")
			}
			if len(e.Text) >= 12000 {
				t.Errorf("text has %d characters, want fewer than 12,000", len(e.Text))
			}
			if n := len(strings.Fields(e.Text)); n < 900 || n > 1700 {
				t.Errorf("text has %d words, want about 900 to 1,600", n)
			}
			for _, s := range []string{"Anonymous authors", "Abstract", "1 Introduction", "References", "[1] "} {
				if !strings.Contains(e.Text, s) {
					t.Errorf("text lacks %q", s)
				}
			}
		})
	}
}

// Every embedded file belongs to an example, so none is forgotten.
func TestEveryFileUsed(t *testing.T) {
	used := map[string]bool{}
	for _, e := range Examples(Count()) {
		used["papers/"+e.Name+".txt"], used["papers/"+e.Name+".json"] = true, true
	}
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !used[path] {
			t.Errorf("%s is embedded but not in the order", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestExamplesAreCopies(t *testing.T) {
	a := Examples(1)
	a[0].Review[0] = 'x'
	if b := Examples(1); b[0].Review[0] != '{' {
		t.Fatal("changing one result changed the next")
	}
}

func keys(t *testing.T, b []byte) []string {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(string(b)))
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
	var out []string
	for d.More() {
		k, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
