package workflows

import "testing"

func TestRunPriority(t *testing.T) {
	for _, c := range []struct{ after, want int }{
		{0, 1}, // the last run: its paper leaves the slots next
		{1, 2},
		{3, 4},
		{4, 5},
		{9, 5}, // beyond the server's levels: the lowest
		{-1, 1},
	} {
		if got := runPriority(c.after); got != c.want {
			t.Errorf("runPriority(%d) = %d, want %d", c.after, got, c.want)
		}
	}
}
