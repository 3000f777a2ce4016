package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// checkMetrics reads a worker's /metrics after a paper and checks that it
// serves this project's series with the labels that matter, the SDK's and
// the embedded server's. want maps a description to a pattern matched
// against each sample line ("name{labels} value"); the value must be > 0.
func checkMetrics(t *testing.T, url string) {
	t.Helper()
	body := httpGet(t, url)
	want := []struct{ what, pattern string }{
		{"prompt tokens of the writeup", `^aisci_model_tokens_total\{kind="prompt",model="scripted",stage="writeup"\}`},
		{"completion tokens of the review", `^aisci_model_tokens_total\{kind="completion",model="scripted",stage="review"\}`},
		{"cost of the ideas", `^aisci_model_cost_usd_total\{model="scripted",stage="ideas"\}`},
		{"model-call latency", `^aisci_model_call_seconds_count\{model="scripted",outcome="ok",stage="experiments"\}`},
		{"experiment seconds by host and device", `^aisci_experiment_seconds_sum\{device="cpu0",host="[^"]+",outcome="ok",script="experiment.py"\}`},
		{"plot seconds", `^aisci_experiment_seconds_count\{device="plots",host="[^"]+",outcome="ok",script="plot.py"\}`},
		{"literature requests by engine", `^aisci_literature_requests_total\{code="200",engine="semanticscholar"\}`},
		{"a paper stage's duration", `^aisci_stage_duration_seconds_count\{.*outcome="ok".*stage="experiments"`},
		{"a campaign stage's duration", `^aisci_stage_duration_seconds_count\{.*stage="ideas"`},
		{"the SDK's workflow task latency", `^temporal_workflow_task_execution_latency_seconds_count\{`},
		{"the SDK's activity latency", `^temporal_activity_execution_latency_seconds_count\{.*activity_type="RunExperiment"`},
		{"the server's persistence requests", `^persistence_requests_total\{`},
		{"the server's service requests", `^service_requests_total\{`},
	}
	lines := strings.Split(body, "\n")
	for _, w := range want {
		re := regexp.MustCompile(w.pattern)
		found := false
		for _, l := range lines {
			if !re.MatchString(l) {
				continue
			}
			f := strings.Fields(l)
			if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil && v > 0 {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("metrics: no %s (%s)", w.what, w.pattern)
		}
	}
	if t.Failed() {
		var ours []string
		for _, l := range lines {
			if strings.HasPrefix(l, "aisci_") || strings.HasPrefix(l, "temporal_activity_execution_latency_seconds_count") || strings.HasPrefix(l, "persistence_requests_total") {
				ours = append(ours, l)
			}
		}
		t.Logf("metrics served (%d lines; ours, and some of the SDK's and server's):\n%s", len(lines), strings.Join(ours, "\n"))
	}
}
