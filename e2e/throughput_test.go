package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestThroughputSmoke runs the throughput benchmark's small configuration
// (the targets' one: 8 papers, 2 slots, 200 ms model calls, 2 s runs) as
// `starter bench throughput --json` and prints its figures; they depend on
// the machine, so only the report's shape is checked, not the targets.
func TestThroughputSmoke(t *testing.T) {
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	out, stderr := runStarter(ctx, t, "bench", "throughput", "--papers", "8", "--slots", "2", "--llm-latency", "200ms", "--run-duration", "2s", "--json")
	var r map[string]any
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s\n%s", err, out, stderr)
	}
	for _, k := range []string{"makespan_s", "lower_bound_s", "busy_fraction", "one_per_slot_s", "activity_overhead_p50_ms",
		"activity_overhead_p99_ms", "worker_peak_rss_mib", "max_history_events", "max_history_bytes",
		"schedule_bound_s", "first_paper_done_s", "mean_paper_done_s", "cpu_seconds"} {
		v, ok := r[k].(float64)
		if !ok || v <= 0 {
			t.Errorf("report[%q] = %v, want a positive number", k, r[k])
		}
	}
	t.Logf("bench throughput --papers 8 --slots 2 --llm-latency 200ms --run-duration 2s:\n%s", out)
}
