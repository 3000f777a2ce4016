package activities

import (
	"strings"
	"testing"
)

func TestPlanOf(t *testing.T) {
	long := strings.Repeat("x", 150)
	tests := []struct{ reply, want string }{
		{"THOUGHT: Sweep weight decay 1.0 in run 2.\n\nexperiment.py\n```python\n", "Sweep weight decay 1.0 in run 2."},
		{"\n\n  THOUGHT:\n  Lower the learning rate.\n", "Lower the learning rate."},
		{"```python\n<<<<<<< SEARCH\n", ""},
		{"", ""},
		{long, strings.Repeat("x", 99) + "…"},
	}
	for _, tt := range tests {
		if got := planOf(tt.reply); got != tt.want {
			t.Errorf("planOf(%.30q) = %q, want %q", tt.reply, got, tt.want)
		}
	}
}
