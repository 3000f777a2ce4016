// Package telemetry is a worker's Prometheus metrics: one registry serving
// the Temporal SDK's metrics and the embedded server's (both through
// OpenTelemetry meters exported to Prometheus), Go's runtime metrics, and
// this project's own series: model tokens, cost and call latency by model
// and stage, experiment seconds by host and device, and literature
// requests and rate limits by engine. Stage durations come from the
// workflows through the SDK's replay-safe metrics handler.
package telemetry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	sdkotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.uber.org/zap"
)

// Metrics holds the registry and this project's series. A nil *Metrics
// records nothing, so code that records need not check.
type Metrics struct {
	Registry *prometheus.Registry
	provider *sdkmetric.MeterProvider

	modelTokens   *prometheus.CounterVec
	modelCost     *prometheus.CounterVec
	modelCalls    *prometheus.HistogramVec
	experiment    *prometheus.HistogramVec
	litRequests   *prometheus.CounterVec
	litRateLimits *prometheus.CounterVec
}

// New makes the registry with the Go and process collectors and this
// project's series registered.
func New() (*Metrics, error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
	}
	m := &Metrics{
		Registry: reg,
		provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithView(sdkmetric.NewView(
			// Stages last seconds (an export) to days (a full experiment plan).
			sdkmetric.Instrument{Name: "aisci_stage_duration"},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: []float64{1, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200}}},
		))),
		modelTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aisci_model_tokens_total",
			Help: "Model tokens by model, stage and kind (prompt, completion, cached_prompt; cached is part of prompt).",
		}, []string{"model", "stage", "kind"}),
		modelCost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aisci_model_cost_usd_total",
			Help: "Model spending in US dollars by model and stage (calls of unpriced models count 0).",
		}, []string{"model", "stage"}),
		modelCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aisci_model_call_seconds",
			Help:    "Model call latency by model, stage and outcome (ok, error).",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 60, 120, 300, 600},
		}, []string{"model", "stage", "outcome"}),
		experiment: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aisci_experiment_seconds",
			Help:    "Experiment and plot script run time by host, device (gpu<N> or cpu<N>), script and outcome (ok, failed, timeout, cancelled); _sum over time is a device's busy time.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400},
		}, []string{"host", "device", "script", "outcome"}),
		litRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aisci_literature_requests_total",
			Help: "HTTP requests to the literature engines by engine and status code (error: no answer).",
		}, []string{"engine", "code"}),
		litRateLimits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aisci_literature_rate_limited_total",
			Help: "Literature requests answered 429 Too Many Requests, by engine.",
		}, []string{"engine"}),
	}
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.modelTokens, m.modelCost, m.modelCalls, m.experiment, m.litRequests, m.litRateLimits,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("telemetry: register: %w", err)
		}
	}
	return m, nil
}

// Meter is an OpenTelemetry meter exported to the registry (the SDK's and
// the embedded server's metrics handlers are built on it).
func (m *Metrics) Meter(name string) metric.Meter { return m.provider.Meter(name) }

// SDKHandler is the Temporal SDK's metrics handler on the registry
// (workflow and activity task latencies, poller counts, …, and the
// workflows' own stage timers); meter errors are logged, not fatal.
func (m *Metrics) SDKHandler(logger *zap.Logger) client.MetricsHandler {
	return sdkotel.NewMetricsHandler(sdkotel.MetricsHandlerOptions{
		Meter:                m.Meter("temporal-sdk"),
		UseMonotonicCounters: true,
		OnError:              func(err error) { logger.Warn("SDK metric not recorded", zap.Error(err)) },
	})
}

// ModelCall records one model call.
func (m *Metrics) ModelCall(model, stage string, prompt, completion, cached int, costUSD float64, latency time.Duration, failed bool) {
	if m == nil {
		return
	}
	outcome := "ok"
	if failed {
		outcome = "error"
	}
	m.modelCalls.WithLabelValues(model, stage, outcome).Observe(latency.Seconds())
	for kind, n := range map[string]int{"prompt": prompt, "completion": completion, "cached_prompt": cached} {
		if n > 0 {
			m.modelTokens.WithLabelValues(model, stage, kind).Add(float64(n))
		}
	}
	if costUSD > 0 {
		m.modelCost.WithLabelValues(model, stage).Add(costUSD)
	}
}

// Experiment records one script run on a device.
func (m *Metrics) Experiment(host, device, script, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.experiment.WithLabelValues(host, device, script, outcome).Observe(d.Seconds())
}

// Literature wraps a transport so every request to a literature engine is
// counted by engine (engineOf names it from the request) and status.
func (m *Metrics) Literature(next http.RoundTripper, engineOf func(*http.Request) string) http.RoundTripper {
	if m == nil {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		engine := engineOf(req)
		resp, err := next.RoundTrip(req)
		code := "error"
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
			if resp.StatusCode == http.StatusTooManyRequests {
				m.litRateLimits.WithLabelValues(engine).Inc()
			}
		}
		m.litRequests.WithLabelValues(engine, code).Inc()
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Serve listens on addr and serves /metrics until ctx ends; it returns
// the address it listens on (addr may name port 0).
func (m *Metrics) Serve(ctx context.Context, addr string) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() { _ = srv.Serve(l) }() // ends with ErrServerClosed

	return l.Addr().String(), nil
}

type ctxKey struct{}

// NewContext carries m to activities (through the worker's background
// activity context).
func NewContext(ctx context.Context, m *Metrics) context.Context {
	return context.WithValue(ctx, ctxKey{}, m)
}

// FromContext is the Metrics in ctx, or nil.
func FromContext(ctx context.Context) *Metrics {
	m, _ := ctx.Value(ctxKey{}).(*Metrics)
	return m
}
