package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runParse(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := parseCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestParse: the reply shapes real models write, through the command a
// user runs; each prints the value the pipeline goes on with.
func TestParse(t *testing.T) {
	review := "THOUGHT: The sweep is thin.\n\nREVIEW JSON:\n```json\n{\n  \"Summary\": \"Studies the role of $\\lambda$ in grokking.\",\n" +
		"  \"Strengths\": [\"clear\"], \"Weaknesses\": \"one task\",\n  \"Originality\": \"2\", \"Quality\": 3, \"Clarity\": 3, \"Significance\": 2,\n" +
		"  \"Questions\": [], \"Limitations\": [], \"Ethical Concerns\": \"No\",\n  \"Soundness\": 3, \"Presentation\": 3, \"Contribution\": 2,\n" +
		"  \"Overall\": 5.5, \"Confidence\": \"4\", \"Decision\": \"Reject.\",\n}\n```\n"
	idea := "THOUGHT: try it.\nNEW IDEA JSON:\n```json\n[{\"Name\": \"wd_schedule\", \"Title\": \"A $\\beta$-Schedule for Weight Decay\", // short\n" +
		"\"Experiment\": \"Vary WEIGHT_DECAY.\", \"Interestingness\": \"8\", \"Feasibility\": 7.5, \"Novelty\": 6,}]\n```"
	section := "THOUGHT: the update rule first.\n```python\nw -= lr * g\n```\n```latex\n\\section{Method}\nWe update $w \\leftarrow w - \\eta g$.\n```\n"
	tests := []struct {
		kind, in string
		want     []string
	}{
		{"review", review, []string{`"Overall": 6`, `"Confidence": 4`, `"Originality": 2`, `"Decision": "Reject"`, `"Ethical Concerns": false`,
			`"Summary": "Studies the role of $\\lambda$ in grokking."`, `"Weaknesses": [` + "\n    \"one task\""}},
		{"idea", idea, []string{`"Name": "wd_schedule"`, `"Title": "A $\\beta$-Schedule for Weight Decay"`, `"Interestingness": 8`, `"Feasibility": 8`}},
		{"section", section, []string{`"latex": "We update $w \\leftarrow w - \\eta g$."`}},
		{"final-info", `{"d": {"means": {"loss": NaN, "acc": {"val": 0.9}}}}`, []string{`"acc.val": 0.9`, `"diverged": [` + "\n      \"loss\""}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			out, err := runParse(t, tt.in, tt.kind)
			if err != nil {
				t.Fatalf("parse %s: %v\n%s", tt.kind, err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %s:\n%s", w, out)
				}
			}
		})
	}
}

// TestParseFailure: an unreadable reply prints what the model is sent
// back, with the real error, and exits 1; a file works like stdin.
func TestParseFailure(t *testing.T) {
	f := filepath.Join(t.TempDir(), "reply.txt")
	if err := os.WriteFile(f, []byte("THOUGHT: ok\nREVIEW JSON:\n{\"Overall\": 5 \"Decision\": \"Reject\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runParse(t, "", "review", f)
	if !errors.Is(err, errUnreadable) {
		t.Fatalf("err = %v, want errUnreadable", err)
	}
	for _, w := range []string{"## Review\nYour review could not be used: the JSON at line 3, column 15 does not parse", "Reply again with THOUGHT: and REVIEW JSON:"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if _, err := runParse(t, "x", "poem"); err == nil || !strings.Contains(err.Error(), "unknown kind") {
		t.Errorf("unknown kind: %v", err)
	}
}
