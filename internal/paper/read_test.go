package paper

import (
	"reflect"
	"strings"
	"testing"
)

// A review form as a model writes it, with one field replaced per case.
const reviewForm = `{"Summary": "The paper sweeps weight decay.", "Strengths": ["clear"], "Weaknesses": ["small"],
 "Originality": 2, "Quality": 3, "Clarity": 3, "Significance": 2, "Questions": ["why?"], "Limitations": ["one model"],
 "Ethical Concerns": false, "Soundness": 3, "Presentation": 3, "Contribution": 2, "Overall": 5, "Confidence": 4,
 "Decision": "Reject"}`

func TestParseReviewShapes(t *testing.T) {
	tests := []struct {
		name, from, to string
		check          func(Review) bool
		wantErr        string
	}{
		{name: "decision with a full stop", from: `"Decision": "Reject"`, to: `"Decision": "Reject."`, check: func(r Review) bool { return r.Decision == "Reject" }},
		{name: "decision in lower case", from: `"Decision": "Reject"`, to: `"Decision": "accept"`, check: func(r Review) bool { return r.Decision == "Accept" }},
		{name: "weak accept", from: `"Decision": "Reject"`, to: `"Decision": "Weak Accept"`, check: func(r Review) bool { return r.Decision == "Accept" }},
		{name: "borderline reject in bold", from: `"Decision": "Reject"`, to: `"Decision": "**Borderline reject**"`, check: func(r Review) bool { return r.Decision == "Reject" }},
		{name: "a half rounds to even (5.5 → 6)", from: `"Overall": 5`, to: `"Overall": 5.5`, check: func(r Review) bool { return r.Overall == 6 }},
		{name: "a half rounds to even (4.5 → 4)", from: `"Overall": 5`, to: `"Overall": 4.5`, check: func(r Review) bool { return r.Overall == 4 }},
		{name: "a score as a string", from: `"Confidence": 4`, to: `"Confidence": "4"`, check: func(r Review) bool { return r.Confidence == 4 }},
		{name: "a score with words", from: `"Overall": 5`, to: `"Overall": "4 (borderline reject)"`, check: func(r Review) bool { return r.Overall == 4 }},
		{name: "a score out of", from: `"Quality": 3`, to: `"Quality": "3/4"`, check: func(r Review) bool { return r.Quality == 3 }},
		{name: "ethical concerns as No", from: `"Ethical Concerns": false`, to: `"Ethical Concerns": "No"`, check: func(r Review) bool { return !r.EthicalConcerns }},
		{name: "ethical concerns as Yes, with words", from: `"Ethical Concerns": false`, to: `"Ethical Concerns": "Yes, the data."`, check: func(r Review) bool { return r.EthicalConcerns }},
		{name: "a paragraph for a list", from: `"Weaknesses": ["small"]`, to: `"Weaknesses": "Only one dataset."`, check: func(r Review) bool { return reflect.DeepEqual(r.Weaknesses, []string{"Only one dataset."}) }},
		{name: "null list", from: `"Questions": ["why?"]`, to: `"Questions": null`, check: func(r Review) bool { return len(r.Questions) == 0 }},
		{name: "field names in another case", from: `"Ethical Concerns": false`, to: `"ethical_concerns": true`, check: func(r Review) bool { return r.EthicalConcerns }},
		{name: "missing decision from a low Overall", from: `,
 "Decision": "Reject"`, to: ``, check: func(r Review) bool { return r.Decision == "Reject" }},
		{name: "missing decision from Overall 6", from: `"Overall": 5, "Confidence": 4,
 "Decision": "Reject"`, to: `"Overall": 6, "Confidence": 4`, check: func(r Review) bool { return r.Decision == "Accept" }},
		{name: "an unknown decision", from: `"Decision": "Reject"`, to: `"Decision": "Maybe"`, wantErr: `Decision must be "Accept" or "Reject", got "Maybe"`},
		{name: "a score that is no number", from: `"Clarity": 3`, to: `"Clarity": "good"`, wantErr: `Clarity must be a number, got "good"`},
		{name: "a missing score", from: `"Soundness": 3, `, to: ``, wantErr: "Soundness is missing"},
		{name: "out of range after rounding", from: `"Overall": 5`, to: `"Overall": 10.6`, wantErr: "Overall must be an integer from 1 to 10, got 11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(reviewForm, tt.from) {
				t.Fatalf("the form lacks %q", tt.from)
			}
			r, err := ParseReview(strings.Replace(reviewForm, tt.from, tt.to, 1))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(r) {
				t.Errorf("review = %+v", r)
			}
		})
	}
}

func TestParseIdeaShapes(t *testing.T) {
	tests := []struct {
		name, js string
		want     Idea
		wantErr  string
	}{
		{name: "ratings as strings and halves", js: `{"Name": "wd", "Title": "T", "Experiment": "E", "Interestingness": "8", "Feasibility": 7.5, "Novelty": "6/10"}`,
			want: Idea{Name: "wd", Title: "T", Experiment: "E", Interestingness: 8, Feasibility: 8, Novelty: 6}},
		{name: "wrapped in a list", js: `[{"Name": "wd", "Title": "T", "Experiment": "E", "Interestingness": 8, "Feasibility": 7, "Novelty": 6}]`,
			want: Idea{Name: "wd", Title: "T", Experiment: "E", Interestingness: 8, Feasibility: 7, Novelty: 6}},
		{name: "keys in lower case, name from the title", js: `{"title": "Faster Grokking", "experiment": "E", "interestingness": 8, "feasibility": 7, "novelty": 6}`,
			want: Idea{Name: "faster_grokking", Title: "Faster Grokking", Experiment: "E", Interestingness: 8, Feasibility: 7, Novelty: 6}},
		{name: "a missing rating", js: `{"Name": "wd", "Title": "T", "Experiment": "E", "Interestingness": 8, "Feasibility": 7}`, wantErr: "Novelty is missing"},
		{name: "a list of two", js: `[{"Name": "a"}, {"Name": "b"}]`, wantErr: "expected one JSON object ({...}), got a list"},
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
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseFinalInfoShapes(t *testing.T) {
	tests := []struct {
		name, js string
		want     FinalInfo
		summary  string
		wantErr  string
	}{
		{
			name: "nested metrics are flattened",
			js:   `{"shakespeare_char": {"means": {"final_train_loss": 0.81, "style_scores": {"mean_consistency": 0.93, "per_style": [0.9, 0.96]}}}}`,
			want: FinalInfo{"shakespeare_char": {Means: map[string]float64{"final_train_loss": 0.81, "style_scores.mean_consistency": 0.93,
				"style_scores.per_style.0": 0.9, "style_scores.per_style.1": 0.96}}},
			summary: "shakespeare_char: final_train_loss=0.81 style_scores.mean_consistency=0.93 style_scores.per_style.0=0.9 style_scores.per_style.1=0.96\n",
		},
		{
			name:    "NaN as Python writes it is diverged, null is missing, neither is 0",
			js:      `{"x_div_y": {"means": {"final_val_loss": NaN, "final_val_acc": null, "step_val_acc_99": -Infinity, "final_train_acc": 1.0}}}`,
			want:    FinalInfo{"x_div_y": {Means: map[string]float64{"final_train_acc": 1}, Diverged: []string{"final_val_loss", "step_val_acc_99"}, Missing: []string{"final_val_acc"}}},
			summary: "x_div_y: final_train_acc=1 final_val_loss=diverged (NaN or infinite) step_val_acc_99=diverged (NaN or infinite) final_val_acc=missing (null)\n",
		},
		{
			name: "numbers as strings",
			js:   `{"d": {"means": {"acc": "0.5"}, "stderrs": {"acc": 0.01}}}`,
			want: FinalInfo{"d": {Means: map[string]float64{"acc": 0.5}, Stderrs: map[string]float64{"acc": 0.01}}},
		},
		{name: "no means", js: `{"d": {"final_acc": 1}}`, wantErr: `"d" has no "means"`},
		{name: "means not an object", js: `{"d": {"means": [0.5]}}`, wantErr: `"means" of "d" is a list`},
		{
			name: "one number per entry, as the reference's probes template writes it",
			js:   `{"layer_3_beta_0.5": {"means": 0.71, "stds": 0.04}}`,
			want: FinalInfo{"layer_3_beta_0.5": {Means: map[string]float64{"value": 0.71}}},
		},
		{
			name: "configuration strings among the metrics are not metrics (the reference's MACE template)",
			js:   `{"MACE": {"means": {"water": {"params": {"hidden_irreps": "128x0e + 128x1o", "r_max": 5.0}, "mace_results": {"rmse_e": 1.2}}}}}`,
			want: FinalInfo{"MACE": {Means: map[string]float64{"water.params.r_max": 5, "water.mace_results.rmse_e": 1.2}}},
		},
		{name: "empty", js: `{}`, wantErr: "holds no results"},
		{name: "not JSON", js: `{"d": {"means": {"a": 1,}}`, wantErr: "final_info.json is not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fi, err := ParseFinalInfo([]byte(tt.js))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fi, tt.want) {
				t.Errorf("got %+v, want %+v", fi, tt.want)
			}
			if tt.summary != "" && fi.Summary() != tt.summary {
				t.Errorf("Summary = %q, want %q", fi.Summary(), tt.summary)
			}
		})
	}
}

func TestParseSection(t *testing.T) {
	tests := []struct {
		name, reply, title, body, wantErr string
	}{
		{name: "latex block", reply: "THOUGHT: ok\n```latex\nWe study $x$.\n```", body: "We study $x$."},
		{name: "a python block before the latex block", reply: "THOUGHT: the update is\n```python\nw -= lr * g\n```\nso:\n```latex\nThe update is $w \\leftarrow w - \\eta g$.\n```", body: "The update is $w \\leftarrow w - \\eta g$."},
		{name: "a short untagged fence after the latex block is not the section", reply: "```latex\n\\begin{itemize}\\item a\\end{itemize}\n```\nCompile with:\n```\nmake\n```", body: "\\begin{itemize}\\item a\\end{itemize}"},
		{name: "an untagged block holding LaTeX", reply: "```\nAs shown in \\cref{fig:a}.\n```", body: "As shown in \\cref{fig:a}."},
		{name: "the last latex block wins", reply: "```latex\ndraft\n```\nBetter:\n```tex\nfinal \\emph{text}\n```", body: "final \\emph{text}"},
		{name: "title in mixed case and bold", reply: "**Title:** Grokking Sooner\n```latex\nAbstract text.\n```", title: "Grokking Sooner", body: "Abstract text."},
		{name: "section lines and wrappers dropped", reply: "```latex\n\\section{Method}\n\\label{sec:method}\nText.\n\\end{document}\n```", body: "Text."},
		{name: "no latex at all", reply: "```python\nprint(1)\n```", wantErr: "no ```latex block"},
		{name: "no block", reply: "Here is the section: we study x.", wantErr: "no fenced latex block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			title, body, err := ParseSection(tt.reply)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || title != tt.title || body != tt.body {
				t.Fatalf("got %q, %q, %v; want %q, %q", title, body, err, tt.title, tt.body)
			}
		})
	}
}
