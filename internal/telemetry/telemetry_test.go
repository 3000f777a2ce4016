package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

func TestSeries(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	m.ModelCall("gpt-4o", "review", 1200, 300, 1000, 0.0042, 3*time.Second, false)
	m.ModelCall("gpt-4o", "review", 0, 0, 0, 0, time.Second, true)
	m.Experiment("gpu-box-1", "gpu0", "experiment.py", "ok", 90*time.Second)
	m.SDKHandler(zap.NewNop()).WithTags(map[string]string{"stage": "experiments", "outcome": "ok"}).Timer("aisci_stage_duration").Record(5 * time.Hour)
	busy := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		busy++
		if busy == 2 {
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	c := &http.Client{Transport: m.Literature(nil, func(*http.Request) string { return "openalex" })}
	for range 3 {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := m.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	for _, want := range []string{
		`aisci_model_tokens_total{kind="prompt",model="gpt-4o",stage="review"} 1200`,
		`aisci_model_tokens_total{kind="cached_prompt",model="gpt-4o",stage="review"} 1000`,
		`aisci_model_tokens_total{kind="completion",model="gpt-4o",stage="review"} 300`,
		`aisci_model_cost_usd_total{model="gpt-4o",stage="review"} 0.0042`,
		`aisci_model_call_seconds_count{model="gpt-4o",outcome="error",stage="review"} 1`,
		`aisci_model_call_seconds_sum{model="gpt-4o",outcome="ok",stage="review"} 3`,
		`aisci_experiment_seconds_sum{device="gpu0",host="gpu-box-1",outcome="ok",script="experiment.py"} 90`,
		`aisci_literature_requests_total{code="200",engine="openalex"} 2`,
		`aisci_literature_requests_total{code="429",engine="openalex"} 1`,
		`aisci_literature_rate_limited_total{engine="openalex"} 1`,
		`go_goroutines `,
		`le="86400"`, // the stage timer's own buckets
		`outcome="ok",stage="experiments"} 18000`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("served:\n%s", body)
	}
}

// A nil *Metrics (no registry in the context) records nothing and never panics.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.ModelCall("m", "s", 1, 1, 0, 1, time.Second, false)
	m.Experiment("h", "cpu0", "experiment.py", "ok", time.Second)
	if rt := m.Literature(http.DefaultTransport, nil); rt != http.DefaultTransport {
		t.Error("a nil Metrics wrapped the transport")
	}
	if FromContext(context.Background()) != nil {
		t.Error("an empty context has Metrics")
	}
}
