package llm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// stubDoer answers every request with a fixed chat completion, in-process.
type stubDoer struct{ content string }

func (s stubDoer) Do(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rec).Encode(openai.ChatCompletionResponse{
		Choices: []openai.ChatCompletionChoice{{Message: openai.ChatCompletionMessage{Role: "assistant", Content: s.content}}},
		Usage:   openai.Usage{PromptTokens: 3, CompletionTokens: 2},
	})
	return rec.Result(), nil
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestRegistryClient(t *testing.T) {
	tests := []struct {
		name      string
		reg       Registry
		model     string
		wantErr   string // substring; "" means success
		permanent bool
		chat      bool // call Chat on the returned client
	}{
		{name: "scripted with doer", reg: Registry{Scripted: stubDoer{"hello"}, Getenv: envOf(nil)}, model: ScriptedModel, chat: true},
		{name: "scripted without doer", reg: Registry{Getenv: envOf(nil)}, model: ScriptedModel, wantErr: "scripted model is not available", permanent: true},
		{name: "empty model", reg: Registry{Scripted: stubDoer{"x"}, Getenv: envOf(nil)}, model: "", wantErr: "no model", permanent: true},
		{name: "real model without key or base URL", reg: Registry{Getenv: envOf(nil)}, model: "gpt-4o", wantErr: "OPENAI_API_KEY", permanent: true},
		{name: "real model with key", reg: Registry{Getenv: envOf(map[string]string{"OPENAI_API_KEY": "k"})}, model: "gpt-4o"},
		{name: "real model with base URL only", reg: Registry{Getenv: envOf(map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:1/v1"})}, model: "gpt-4o-mini"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.reg.Client(tt.model)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Client(%q) succeeded, want error containing %q", tt.model, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not mention %q", err, tt.wantErr)
				}
				if IsPermanent(err) != tt.permanent {
					t.Errorf("IsPermanent(%v) = %v, want %v", err, IsPermanent(err), tt.permanent)
				}
				return
			}
			if err != nil || c == nil {
				t.Fatalf("Client(%q) = %v, %v", tt.model, c, err)
			}
			if tt.chat {
				resp, err := c.Chat(context.Background(), Request{Model: tt.model, Messages: []Message{{Role: "user", Content: "hi"}}})
				if err != nil {
					t.Fatalf("Chat: %v", err)
				}
				if resp.Content != "hello" || resp.Usage != (Usage{PromptTokens: 3, CompletionTokens: 2, Calls: 1}) {
					t.Errorf("Chat = %+v", resp)
				}
			}
		})
	}
}

func TestRegistryDefaultsToOSEnv(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	if _, err := (&Registry{}).Client("gpt-4o"); err == nil || !IsPermanent(err) {
		t.Fatalf("without environment: %v, want a permanent error", err)
	}
	t.Setenv("OPENAI_API_KEY", "sk-test")
	if _, err := (&Registry{}).Client("gpt-4o"); err != nil {
		t.Fatalf("with OPENAI_API_KEY set: %v", err)
	}
}

// recorder is a fake OpenAI-compatible server that keeps what it received.
type recorder struct {
	mu      sync.Mutex
	path    string
	auth    string
	body    []byte
	status  int
	header  http.Header
	respond string // raw JSON body to send with a 200
	// contentType and errBody replace the JSON defaults.
	contentType, errBody string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.path, rec.auth, rec.body = r.URL.Path, r.Header.Get("Authorization"), b
	rec.mu.Unlock()
	for k, vs := range rec.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	ct := rec.contentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	if rec.status != 0 && rec.status != http.StatusOK {
		w.WriteHeader(rec.status)
		body := rec.errBody
		if body == "" {
			body = `{"error":{"message":"fake failure","type":"test_error"}}`
		}
		_, _ = w.Write([]byte(body))
		return
	}
	_, _ = w.Write([]byte(rec.respond))
}

const okCompletion = `{"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"the answer"}}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`

func TestOpenAIChatSendsConversationInOrder(t *testing.T) {
	tests := []struct {
		name      string
		req       Request
		wantRoles []string
		wantTexts []string
		wantMax   int
		wantTemp  float32
	}{
		{
			name: "system then messages",
			req: Request{Model: "m", System: "be brief", Temperature: 0.5, Messages: []Message{
				{Role: "user", Content: "first"}, {Role: "assistant", Content: "reply"}, {Role: "user", Content: "second"},
			}},
			wantRoles: []string{"system", "user", "assistant", "user"},
			wantTexts: []string{"be brief", "first", "reply", "second"},
			wantMax:   DefaultMaxTokens,
			wantTemp:  0.5,
		},
		{
			name:      "no system message, explicit max tokens",
			req:       Request{Model: "m", MaxTokens: 100, Messages: []Message{{Role: "user", Content: "only"}}},
			wantRoles: []string{"user"},
			wantTexts: []string{"only"},
			wantMax:   100,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{respond: okCompletion}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			c := NewOpenAI("sk-test", srv.URL+"/v1/", nil) // trailing slash is trimmed
			resp, err := c.Chat(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if resp.Content != "the answer" {
				t.Errorf("Content = %q", resp.Content)
			}
			if want := (Usage{PromptTokens: 11, CompletionTokens: 7, Calls: 1}); resp.Usage != want {
				t.Errorf("Usage = %+v, want %+v", resp.Usage, want)
			}
			if resp.Usage.Total() != 18 {
				t.Errorf("Total = %d, want 18", resp.Usage.Total())
			}
			if rec.path != "/v1/chat/completions" {
				t.Errorf("path = %q", rec.path)
			}
			if rec.auth != "Bearer sk-test" {
				t.Errorf("Authorization = %q", rec.auth)
			}
			var got struct {
				Model       string   `json:"model"`
				MaxTokens   int      `json:"max_tokens"`
				Temperature *float32 `json:"temperature"`
				Messages    []struct {
					Role    string `json:"role"`
					Content string `json:"content"`
				} `json:"messages"`
			}
			if err := json.Unmarshal(rec.body, &got); err != nil {
				t.Fatalf("request body %s: %v", rec.body, err)
			}
			if got.Model != tt.req.Model || got.MaxTokens != tt.wantMax {
				t.Errorf("model/max_tokens = %q/%d, want %q/%d", got.Model, got.MaxTokens, tt.req.Model, tt.wantMax)
			}
			// Temperature 0 is sent too (go-openai alone would omit it, and
			// the API's default of 1.0 would apply).
			if got.Temperature == nil || *got.Temperature != tt.wantTemp {
				t.Errorf("temperature = %v in %s, want %v", got.Temperature, rec.body, tt.wantTemp)
			}
			if len(got.Messages) != len(tt.wantRoles) {
				t.Fatalf("sent %d messages (%s), want %d", len(got.Messages), rec.body, len(tt.wantRoles))
			}
			for i, m := range got.Messages {
				if m.Role != tt.wantRoles[i] || m.Content != tt.wantTexts[i] {
					t.Errorf("message %d = %s/%q, want %s/%q", i, m.Role, m.Content, tt.wantRoles[i], tt.wantTexts[i])
				}
			}
		})
	}
}

func TestOpenAIChatErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     http.Header
		respond    string
		ct, body   string // content type and error body, when not JSON
		permanent  bool
		retryAfter time.Duration
		wantMsg    string
	}{
		{name: "401 bad key", status: 401, permanent: true, wantMsg: "check OPENAI_API_KEY"},
		{name: "403 forbidden", status: 403, permanent: true, wantMsg: "check OPENAI_API_KEY"},
		{name: "404 unknown model", status: 404, permanent: true, wantMsg: "does not know model"},
		{name: "400 bad request", status: 400, permanent: true, wantMsg: "refused"},
		{name: "429 with Retry-After", status: 429, header: http.Header{"Retry-After": {"7"}}, retryAfter: 7 * time.Second, wantMsg: "retry after 7s"},
		{name: "429 without Retry-After", status: 429},
		{name: "500 server error", status: 500},
		{name: "503 unavailable", status: 503},
		{name: "no choices", respond: `{"id":"x","choices":[],"usage":{}}`, wantMsg: "no choices"},
		{name: "503 with Retry-After", status: 503, header: http.Header{"Retry-After": {"12"}}, retryAfter: 12 * time.Second, wantMsg: "server error (HTTP 503), retry after 12s"},
		{name: "502 HTML page from a gateway", status: 502, ct: "text/html", body: "<html><body>Bad Gateway</body></html>", wantMsg: "HTTP 502"},
		{name: "200 HTML page from a proxy", ct: "text/html; charset=utf-8", respond: "<!DOCTYPE html><html>Please log in</html>", wantMsg: "unreadable response body (HTTP 200"},
		{name: "200 garbage labelled JSON", respond: "<html>oops</html>", wantMsg: "not a completion"},
		{name: "200 empty body", respond: " ", wantMsg: "empty response body"},
		{name: "200 truncated JSON", respond: `{"id":"x","choices":[{"index":0,"message":{"role":"assis`, wantMsg: "OpenAI call for model m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{status: tt.status, header: tt.header, respond: tt.respond, contentType: tt.ct, errBody: tt.body}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			_, err := NewOpenAI("k", srv.URL+"/v1", nil).Chat(context.Background(), Request{Model: "m", Messages: []Message{{Role: "user", Content: "x"}}})
			if err == nil {
				t.Fatal("Chat succeeded, want an error")
			}
			if IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, IsPermanent(err), tt.permanent)
			}
			if got := RetryAfter(err); got != tt.retryAfter {
				t.Errorf("RetryAfter(%v) = %v, want %v", err, got, tt.retryAfter)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestErrorHelpers(t *testing.T) {
	base := errors.New("boom")
	perm := &PermanentError{Err: base}
	if !IsPermanent(perm) || !IsPermanent(errors.Join(errors.New("x"), perm)) {
		t.Error("IsPermanent misses a (wrapped) PermanentError")
	}
	if IsPermanent(base) || IsPermanent(nil) {
		t.Error("IsPermanent true for a plain error")
	}
	if !errors.Is(perm, base) {
		t.Error("PermanentError does not unwrap")
	}
	if RetryAfter(base) != 0 || RetryAfter(nil) != 0 {
		t.Error("RetryAfter of a plain error is not 0")
	}
	u := Usage{PromptTokens: 1, CompletionTokens: 2, Calls: 1}.Add(Usage{PromptTokens: 10, CompletionTokens: 20, Calls: 2})
	if u != (Usage{PromptTokens: 11, CompletionTokens: 22, Calls: 3}) || u.Total() != 33 {
		t.Errorf("Add/Total = %+v / %d", u, u.Total())
	}
}

func TestOpenAIChatFinishAndUsage(t *testing.T) {
	tests := []struct {
		name       string
		respond    string
		wantFinish string
		wantUsage  Usage
	}{
		{
			name:       "cut off at the output cap",
			respond:    `{"id":"c","choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":"half a rep"}}],"usage":{"prompt_tokens":5,"completion_tokens":4096}}`,
			wantFinish: FinishLength, wantUsage: Usage{PromptTokens: 5, CompletionTokens: 4096, Calls: 1},
		},
		{
			name:       "cached prompt tokens counted apart",
			respond:    `{"id":"c","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":2000,"completion_tokens":10,"prompt_tokens_details":{"cached_tokens":1536}}}`,
			wantFinish: FinishStop, wantUsage: Usage{PromptTokens: 2000, CompletionTokens: 10, CachedPromptTokens: 1536, Calls: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&recorder{respond: tt.respond})
			defer srv.Close()
			resp, err := NewOpenAI("k", srv.URL+"/v1", nil).Chat(context.Background(), Request{Model: "m", Messages: []Message{{Role: "user", Content: "x"}}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.FinishReason != tt.wantFinish || resp.Usage != tt.wantUsage {
				t.Errorf("finish %q usage %+v, want %q %+v", resp.FinishReason, resp.Usage, tt.wantFinish, tt.wantUsage)
			}
		})
	}
	// Priced: cached input at its own rate.
	m := ModelInfo{InputPerM: 2.5, OutputPerM: 10, CachedInputPerM: 1.25}
	if got, want := m.Cost(tests[1].wantUsage), (464*2.5+1536*1.25+10*10)/1e6; got < want-1e-12 || got > want+1e-12 {
		t.Errorf("cost = %v, want %v", got, want)
	}
}

// TestReasoningModelRequest: a reasoning model gets room to think
// (max_completion_tokens: its answer's cap plus the allowance), the
// configured reasoning effort, no temperature and no system role.
func TestReasoningModelRequest(t *testing.T) {
	rec := &recorder{respond: okCompletion}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	reg := Registry{
		Catalog: NewCatalog(ModelInfo{Name: "o3-mini", Provider: ProviderOpenAI, MaxOutput: 100000, Reasoning: true, ReasoningEffort: "high", InputPerM: 1, OutputPerM: 4}),
		Getenv:  envOf(map[string]string{"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": srv.URL + "/v1"}),
	}
	c, err := reg.Client("o3-mini")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Chat(context.Background(), Request{Model: "o3-mini", System: "be exact", Messages: []Message{{Role: "user", Content: "q"}}}); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.body, &body); err != nil {
		t.Fatal(err)
	}
	if got := body["max_completion_tokens"]; got != float64(DefaultOutputCap+DefaultReasoningTokens) {
		t.Errorf("max_completion_tokens = %v in %s", got, rec.body)
	}
	if body["reasoning_effort"] != "high" || body["temperature"] != nil || body["max_tokens"] != nil {
		t.Errorf("reasoning_effort/temperature/max_tokens wrong in %s", rec.body)
	}
	if msgs := body["messages"].([]any); len(msgs) != 1 || msgs[0].(map[string]any)["role"] != "user" {
		t.Errorf("messages = %v, want the instructions folded into one user turn", msgs)
	}
}
