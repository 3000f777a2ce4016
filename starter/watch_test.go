package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aiscientist/aiscientist/workflows"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// watchSequence is a campaign's progress as three refreshes saw it: its
// paper in the baseline, then in run 2 with an experiment running on a
// GPU, then stopped at its budget while a second paper starts.
func watchSequence() []watchSnapshot {
	const c = "campaign/grokking/20261201_120000"
	return []watchSnapshot{
		{Title: c + "  stage papers  state running  $0.0421 of $5.00", Rows: []watchRow{
			{Paper: "paper/grokking/weight_decay", Stage: workflows.StageBaseline, State: workflows.StateRunning, MaxRuns: 5, Attempt: 1,
				Host: "gpu-box-1", Device: 0, Elapsed: 95 * time.Second, CostUSD: 0.0421,
				Script: &watchScript{Log: "run_0_attempt_1", Elapsed: 80 * time.Second, Limit: 2 * time.Hour, GPUMemoryMB: 3072, GPUUtil: 64}},
		}},
		{Title: c + "  stage papers  state running  $0.3310 of $5.00", Rows: []watchRow{
			{Paper: "paper/grokking/weight_decay", Stage: workflows.StageExperiments, State: workflows.StateRunning, Run: 2, MaxRuns: 5, Attempt: 2,
				Host: "gpu-box-1", Device: 0, Elapsed: 41*time.Minute + 7*time.Second, CostUSD: 0.331,
				Script: &watchScript{Log: "run_2_attempt_2", Elapsed: 30 * time.Minute, Limit: 2 * time.Hour, GPUMemoryMB: 12595, GPUUtil: 97}},
		}},
		{Title: c + "  stage papers  state running  $5.0000 of $5.00", Rows: []watchRow{
			{Paper: "paper/grokking/weight_decay", Stage: workflows.StageWriteup, State: workflows.StateBudgetExhausted, Run: 3, MaxRuns: 5, Attempt: 1,
				Host: "gpu-box-1", Device: 0, Elapsed: 2*time.Hour + 3*time.Minute, CostUSD: 4.6,
				Note: "budget exhausted; raise it with: starter budget campaign/grokking/20261201_120000 --usd N"},
			{Paper: "paper/grokking/label_noise", Stage: workflows.StageSetup, State: workflows.StateRunning, MaxRuns: 5, Elapsed: 4 * time.Second, CostUSD: 0.4},
		}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./starter -run Watch -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestWatchTerminalFrames(t *testing.T) {
	var b bytes.Buffer
	v := &watcher{w: &b, tty: true, seen: map[string]string{}}
	for _, s := range watchSequence() {
		v.draw(s)
	}
	golden(t, "watch_tty.golden", b.Bytes())
}

func TestWatchPlainLines(t *testing.T) {
	var b bytes.Buffer
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	v := &watcher{w: &b, seen: map[string]string{}, now: func() time.Time { at = at.Add(2 * time.Second); return at }}
	seq := watchSequence()
	for _, s := range append(seq, seq[2]) { // an unchanged refresh prints nothing
		v.draw(s)
	}
	golden(t, "watch_lines.golden", b.Bytes())
}

func TestBar(t *testing.T) {
	for _, tc := range []struct {
		frac float64
		want string
	}{{0, "[....................]"}, {0.25, "[#####...............]"}, {1, "[####################]"}, {3, "[####################]"}, {-1, "[....................]"}} {
		if got := bar(tc.frac); got != tc.want {
			t.Errorf("bar(%v) = %s, want %s", tc.frac, got, tc.want)
		}
	}
}

// A line longer than the terminal is cut, so the frame's line count (what
// the next frame moves up over) stays true.
func TestWatchCutsToTerminalWidth(t *testing.T) {
	var b bytes.Buffer
	v := &watcher{w: &b, tty: true, width: 40, seen: map[string]string{}}
	v.draw(watchSequence()[2])
	for _, l := range bytes.Split(bytes.TrimSuffix(b.Bytes(), []byte("\n")), []byte("\n")) {
		if n := len([]rune(string(l))); n >= 40 {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
	if v.lines != 5 {
		t.Errorf("frame of %d lines, want 5", v.lines)
	}
}
