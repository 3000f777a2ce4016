package main

import "testing"

func TestUIBase(t *testing.T) {
	tests := []struct{ flag, address, env, want string }{
		{"http://ui:9000", "127.0.0.1:7433", "", "http://ui:9000"},
		{"", "127.0.0.1:7433", "", "http://127.0.0.1:8433"},
		{"", "", "10.0.0.5:7233", "http://10.0.0.5:8233"},
		{"", "", "", "http://127.0.0.1:8233"},
		{"", "not-an-address", "", "http://127.0.0.1:8233"},
	}
	for _, tt := range tests {
		t.Setenv("TEMPORAL_ADDRESS", tt.env)
		if got := uiBase(tt.flag, tt.address); got != tt.want {
			t.Errorf("uiBase(%q, %q) with TEMPORAL_ADDRESS=%q = %q, want %q", tt.flag, tt.address, tt.env, got, tt.want)
		}
	}
}
