package paper

import (
	"strings"
	"testing"
)

func TestParseIdea(t *testing.T) {
	tests := []struct {
		name, js, wantName, wantErr string
	}{
		{"valid", `{"Name":"wd_sweep","Title":"T","Experiment":"E","Interestingness":7,"Feasibility":8,"Novelty":5}`, "wd_sweep", ""},
		{"normalized name", `{"Name":"Weight Decay-Sweep!","Title":"T","Experiment":"E","Interestingness":7,"Feasibility":8,"Novelty":5}`, "weight_decay_sweep", ""},
		{"score out of range", `{"Name":"x","Title":"T","Experiment":"E","Interestingness":11,"Feasibility":8,"Novelty":5}`, "", "Interestingness must be an integer from 1 to 10"},
		{"missing title", `{"Name":"x","Experiment":"E","Interestingness":1,"Feasibility":1,"Novelty":1}`, "", "Title is empty"},
		{"not json", `{"Name":`, "", "idea JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIdea(tt.js)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Name != tt.wantName {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

func TestParseFinalInfo(t *testing.T) {
	fi, err := ParseFinalInfo([]byte(`{"x_plus_y": {"means": {"final_val_acc": 0.98, "a": 1}, "stderrs": {"final_val_acc": 0.01}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Summary(); got != "x_plus_y: a=1 final_val_acc=0.98\n" {
		t.Fatalf("Summary = %q", got)
	}
	for _, bad := range []string{`{}`, `{"d": {"stderrs": {}}}`, `[1]`, `nope`} {
		if _, err := ParseFinalInfo([]byte(bad)); err == nil {
			t.Errorf("ParseFinalInfo(%s) accepted", bad)
		}
	}
}

func TestParseReview(t *testing.T) {
	good := `{"Summary":"s","Strengths":"one strength","Weaknesses":["w"],"Originality":2,"Quality":3,"Clarity":3,"Significance":2,
	"Questions":[],"Limitations":["l"],"Ethical Concerns":false,"Soundness":3,"Presentation":3,"Contribution":2,"Overall":5,"Confidence":4,"Decision":"Reject"}`
	r, err := ParseReview(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Strengths) != 1 || r.Strengths[0] != "one strength" || r.Overall != 5 || r.Decision != "Reject" {
		t.Fatalf("review = %+v", r)
	}
	bad := strings.Replace(good, `"Overall":5`, `"Overall":12`, 1)
	bad = strings.Replace(bad, `"Reject"`, `"Maybe"`, 1)
	_, err = ParseReview(bad)
	if err == nil || !strings.Contains(err.Error(), "Overall") || !strings.Contains(err.Error(), "Decision") {
		t.Fatalf("want Overall and Decision errors, got %v", err)
	}
}

func TestSameIdea(t *testing.T) {
	base := Idea{Name: "weight_decay_grokking", Title: "How Weight Decay Strength Shifts the Onset of Grokking"}
	tests := []struct {
		name string
		b    Idea
		want bool
	}{
		{"same name", Idea{Name: "weight_decay_grokking", Title: "Something else entirely"}, true},
		{"same title, other case and punctuation", Idea{Name: "wd2", Title: "how weight-decay strength shifts the onset of grokking!"}, true},
		{"one word changed", Idea{Name: "wd3", Title: "How Weight Decay Strength Delays the Onset of Grokking"}, true},
		{"reordered words", Idea{Name: "wd4", Title: "The Onset of Grokking: How Weight Decay Strength Shifts"}, true},
		{"related but different", Idea{Name: "lr", Title: "How Learning Rate Warmup Shifts the Onset of Grokking"}, false},
		{"different", Idea{Name: "data", Title: "Less Data, Later Insight: Training Fraction and Grokking"}, false},
		{"empty title", Idea{Name: "x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameIdea(base, tt.b); got != tt.want {
				t.Errorf("SameIdea = %v, want %v", got, tt.want)
			}
		})
	}
}
