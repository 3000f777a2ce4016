package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestApplyReply(t *testing.T) {
	const orig = "LR = 0.1\nWEIGHT_DECAY = 0.5\n"
	block := func(path, search, replace string) string {
		return path + "\n```python\n<<<<<<< SEARCH\n" + search + "=======\n" + replace + ">>>>>>> REPLACE\n```\n"
	}
	tests := []struct {
		name     string
		reply    string
		allow    []string
		wantCode int
		wantFile string   // experiment.py afterwards
		wantOut  []string // in the report
	}{
		{
			name: "every block applies", reply: "THOUGHT: raise it.\n" + block("experiment.py", "WEIGHT_DECAY = 0.5\n", "WEIGHT_DECAY = 1.0\n"),
			wantFile: "LR = 0.1\nWEIGHT_DECAY = 1.0\n", wantOut: []string{"applied  block 1  experiment.py", "changed  experiment.py"},
		},
		{
			name:     "the matching block applies, the other fails",
			reply:    block("experiment.py", "LR = 0.1\n", "LR = 0.2\n") + block("experiment.py", "MISSING = 1\n", "X = 2\n"),
			wantCode: 1, wantFile: "LR = 0.2\nWEIGHT_DECAY = 0.5\n",
			wantOut: []string{"applied  block 1", "FAILED   block 2", "1 of your 2 SEARCH/REPLACE blocks could not be applied"},
		},
		{
			name: "a file not allowed", reply: block("run.sh", "", "rm -rf /\n"), allow: []string{"experiment.py"},
			wantCode: 1, wantFile: orig, wantOut: []string{"FAILED   block 1  run.sh"},
		},
		{
			name: "outside the folder", reply: block("../escape.py", "", "x = 1\n"),
			wantCode: 1, wantFile: orig, wantOut: []string{"FAILED   block 1  ../escape.py"},
		},
		{name: "no blocks", reply: "I would rather not.", wantCode: 1, wantFile: orig, wantOut: []string{"no SEARCH/REPLACE blocks"}},
		{
			name: "malformed", reply: "experiment.py\n```python\n<<<<<<< SEARCH\nLR = 0.1\n```\n",
			wantCode: 1, wantFile: orig, wantOut: []string{"malformed, nothing was applied"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "paper")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "experiment.py"), []byte(orig), 0o644); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			code, err := applyReply(&out, dir, tt.reply, tt.allow)
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; report:\n%s", code, tt.wantCode, out.String())
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "experiment.py")); string(b) != tt.wantFile {
				t.Errorf("experiment.py = %q, want %q", b, tt.wantFile)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, out.String())
				}
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape.py")); err == nil {
				t.Error("a file was written outside --dir")
			}
		})
	}
}
