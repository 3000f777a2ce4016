package preflight

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aiscientist/aiscientist/internal/llm"
)

// fakeProvider answers like OpenAI (/v1/chat/completions) or Anthropic
// (/v1/messages, or Vertex AI's :rawPredict): `fail` times with status, then
// successfully.
func fakeProvider(t *testing.T, status, fail int) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if int(n) <= fail {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`))
			return
		}
		if strings.HasSuffix(r.URL.Path, "/messages") || strings.HasSuffix(r.URL.Path, ":rawPredict") {
			_, _ = w.Write([]byte(`{"id":"m","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"OK"}],"stop_reason":"end_turn","usage":{"input_tokens":12,"output_tokens":1}}`))
			return
		}
		_, _ = w.Write([]byte(`{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"OK"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestPreflightModelCall(t *testing.T) {
	if _, err := exec.LookPath("pdflatex"); err != nil {
		t.Skip("TeX not installed")
	}
	tests := []struct {
		name, model, baseEnv, keyEnv, suffix string
		status, fail                         int
		wantCalls                            int32
		wantErr                              string
	}{
		{"OpenAI through two 429s", "gpt-4o-2024-08-06", "OPENAI_BASE_URL", "OPENAI_API_KEY", "/v1", 429, 2, 3, ""},
		{"OpenAI 401 fails fast", "gpt-4o-2024-08-06", "OPENAI_BASE_URL", "OPENAI_API_KEY", "/v1", 401, 99, 1, "OPENAI_API_KEY"},
		{"Anthropic through two 429s", "claude-3-5-sonnet-20241022", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "", 429, 2, 3, ""},
		{"Anthropic 401 fails fast", "claude-3-5-sonnet-20241022", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "", 401, 99, 1, "ANTHROPIC_API_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := fakeProvider(t, tt.status, tt.fail)
			env := map[string]string{tt.baseEnv: srv.URL + tt.suffix, tt.keyEnv: "k"}
			reg := &llm.Registry{Getenv: func(k string) string { return env[k] }}
			r := Run(context.Background(), Options{Templates: "../../templates", Template: "grokking", Model: tt.model, Registry: reg, Call: true})
			var modelProblems []string
			for _, p := range r.Problems {
				if p.Kind == KindModel {
					modelProblems = append(modelProblems, p.Message)
				}
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("provider saw %d calls, want %d", got, tt.wantCalls)
			}
			if tt.wantErr == "" {
				if len(modelProblems) > 0 || r.Usage.PromptTokens != 12 || r.Latency <= 0 || r.Usage.CostUSD <= 0 {
					t.Errorf("report = %+v", r)
				}
				return
			}
			if len(modelProblems) != 1 || !strings.Contains(modelProblems[0], tt.wantErr) {
				t.Errorf("model problems = %q, want one naming %s", modelProblems, tt.wantErr)
			}
		})
	}
}

func TestPreflightReportsEveryProblem(t *testing.T) {
	reg := &llm.Registry{Getenv: func(string) string { return "" }}
	r := Run(context.Background(), Options{Templates: "../../templates", Template: "nope", Model: "no-such-model", Registry: reg})
	var setup, model int
	for _, p := range r.Problems {
		switch p.Kind {
		case KindSetup:
			setup++
		case KindModel:
			model++
			if !strings.Contains(p.Message, "known models") {
				t.Errorf("unknown-model problem does not list known models: %s", p.Message)
			}
		}
	}
	if setup == 0 || model != 1 {
		t.Errorf("problems = %+v; want the template and the model both reported", r.Problems)
	}
}

func TestPreflightVertex(t *testing.T) {
	const model = "vertex_ai/claude-3-5-sonnet-v2@20241022"
	srv, _ := fakeProvider(t, 429, 1)
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // empty: the test call succeeds
	}{
		{"missing project", map[string]string{"VERTEXAI_ACCESS_TOKEN": "t"}, []string{"VERTEXAI_PROJECT", "GOOGLE_CLOUD_PROJECT", model}},
		{"call through a 429", map[string]string{"VERTEXAI_PROJECT": "p-1", "VERTEXAI_ACCESS_TOKEN": "t", "AISCI_VERTEX_ENDPOINT": srv.URL}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := &llm.Registry{Getenv: func(k string) string { return tt.env[k] }}
			// The template is missing on purpose: only the model's problems matter here.
			r := Run(context.Background(), Options{Templates: "../../templates", Template: "nope", Model: model, Registry: reg, Call: true})
			var modelProblems []string
			for _, p := range r.Problems {
				if p.Kind == KindModel {
					modelProblems = append(modelProblems, p.Message)
				}
			}
			if len(tt.wantErr) == 0 {
				if len(modelProblems) > 0 || r.Usage.PromptTokens != 12 || r.Usage.CostUSD <= 0 {
					t.Errorf("report = %+v", r)
				}
				return
			}
			if len(modelProblems) != 1 {
				t.Fatalf("model problems = %q, want one", modelProblems)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(modelProblems[0], s) {
					t.Errorf("model problem %q does not name %s", modelProblems[0], s)
				}
			}
		})
	}
}
