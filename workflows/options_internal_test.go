package workflows

import "testing"

func TestRunPriority(t *testing.T) {
	for _, c := range []struct {
		order      string
		run, after int
		want       int
	}{
		{RunOrderRounds, 0, 5, 1}, // the baseline: every paper's first
		{RunOrderRounds, 1, 4, 2},
		{RunOrderRounds, 4, 1, 5},
		{RunOrderRounds, 9, 0, 5},      // beyond the server's levels: the lowest
		{"", 2, 3, 3},                  // the default is rounds
		{RunOrderFinishFirst, 5, 0, 1}, // the last run: its paper leaves the slots next
		{RunOrderFinishFirst, 4, 1, 2},
		{RunOrderFinishFirst, 0, 9, 5},
		{RunOrderFinishFirst, 0, -1, 1},
	} {
		if got := runPriority(c.order, c.run, c.after); got != c.want {
			t.Errorf("runPriority(%q, %d, %d) = %d, want %d", c.order, c.run, c.after, got, c.want)
		}
	}
}

func TestParseRunOrder(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"", RunOrderRounds, true},
		{"rounds", RunOrderRounds, true},
		{"finish-first", RunOrderFinishFirst, true},
		{" Finish-First ", RunOrderFinishFirst, true},
		{"fifo", "", false},
	} {
		got, err := ParseRunOrder(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseRunOrder(%q) = %q, %v; want %q, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}
