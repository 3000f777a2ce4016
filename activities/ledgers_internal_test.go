package activities

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFindFinished: a retried activity finds the successful end written by
// an earlier attempt of itself, and nothing else: not a failed end, not a
// start alone, not another run, coder attempt, script, workflow or
// workflow run, not its own attempt, and not a torn line.
func TestFindFinished(t *testing.T) {
	path := filepath.Join(t.TempDir(), ExecutionsFile)
	lines := []execution{
		{Event: "start", Script: "experiment.py", Run: 1, Attempt: 1, Workflow: "paper/a", RunID: "r1", Activity: 1},
		{Event: "end", Script: "experiment.py", Run: 1, Attempt: 1, Workflow: "paper/a", RunID: "r1", Activity: 1, OK: true, Seconds: 36},
		{Event: "end", Script: "experiment.py", Run: 2, Attempt: 1, Workflow: "paper/a", RunID: "r1", Activity: 1, OK: false},
		{Event: "start", Script: "experiment.py", Run: 3, Attempt: 1, Workflow: "paper/a", RunID: "r1", Activity: 1},
		{Event: "end", Script: "plot.py", Run: -1, Attempt: 2, Workflow: "paper/a", RunID: "r1", Activity: 3, OK: true, Seconds: 4},
		{Event: "end", Script: "experiment.py", Run: 4, Attempt: 1, Workflow: "paper/a", RunID: "old", Activity: 1, OK: true},
	}
	for _, e := range lines {
		if err := appendJSONLine(path, e); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"event":"end","script":"experiment.py","run":5,"attem`) // torn by a crash
	f.Close()

	tests := []struct {
		name            string
		workflow, runID string
		activity        int32
		script          string
		run, attempt    int
		want            bool
		seconds         float64
	}{
		{"finished by attempt 1, retried as 2", "paper/a", "r1", 2, "experiment.py", 1, 1, true, 36},
		{"the first attempt itself", "paper/a", "r1", 1, "experiment.py", 1, 1, false, 0},
		{"the coder's next attempt", "paper/a", "r1", 2, "experiment.py", 1, 2, false, 0},
		{"a failed end", "paper/a", "r1", 2, "experiment.py", 2, 1, false, 0},
		{"a start without an end", "paper/a", "r1", 2, "experiment.py", 3, 1, false, 0},
		{"plot finished by activity attempt 3", "paper/a", "r1", 4, "plot.py", -1, 2, true, 4},
		{"plot's end is not earlier", "paper/a", "r1", 3, "plot.py", -1, 2, false, 0},
		{"another workflow", "paper/b", "r1", 2, "experiment.py", 1, 1, false, 0},
		{"another workflow run", "paper/a", "r2", 2, "experiment.py", 1, 1, false, 0},
		{"a run of an earlier workflow run", "paper/a", "r1", 2, "experiment.py", 4, 1, false, 0},
		{"the torn line", "paper/a", "r1", 2, "experiment.py", 5, 1, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := findFinished(path, tt.workflow, tt.runID, tt.activity, tt.script, tt.run, tt.attempt)
			if ok != tt.want || (ok && e.Seconds != tt.seconds) {
				t.Errorf("findFinished = %+v, %v; want %v (%v s)", e, ok, tt.want, tt.seconds)
			}
		})
	}
	if _, ok := findFinished(filepath.Join(t.TempDir(), "none.jsonl"), "paper/a", "r1", 2, "experiment.py", 1, 1); ok {
		t.Error("a missing ledger found a run")
	}
}
