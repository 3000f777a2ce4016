package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	anthTestModel = "claude-3-5-sonnet-20241022"
	anthTestKey   = "sk-ant-test-key"
)

// anthCall is one request the fake Messages API received.
type anthCall struct {
	method string
	path   string
	header http.Header
	body   map[string]any
}

// anthReply is what the fake answers.
type anthReply struct {
	status      int
	contentType string // default application/json
	header      map[string]string
	body        string
}

// fakeAnthropic speaks the Messages API at /v1/messages (or path) and
// records requests.
type fakeAnthropic struct {
	mu    sync.Mutex
	calls []anthCall
	reply func(n int) anthReply // n counts calls from 0
	path  string                // empty: /v1/messages
}

func (f *fakeAnthropic) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		body = map[string]any{"_undecodable": string(raw)}
	}
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, anthCall{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body})
	f.mu.Unlock()
	path := f.path
	if path == "" {
		path = "/v1/messages"
	}
	if r.Method != http.MethodPost || r.URL.Path != path {
		w.WriteHeader(http.StatusTeapot)
		return
	}
	rep := f.reply(n)
	ct := rep.contentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (f *fakeAnthropic) recorded() []anthCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]anthCall(nil), f.calls...)
}

// anthMessage is a Messages API success body.
func anthMessage(blocks []map[string]any, stop string, in, out, cacheWrite, cacheRead int) string {
	b, err := json.Marshal(map[string]any{
		"id": "msg_01", "type": "message", "role": "assistant", "model": anthTestModel,
		"content": blocks, "stop_reason": stop, "stop_sequence": nil,
		"usage": map[string]any{
			"input_tokens": in, "output_tokens": out,
			"cache_creation_input_tokens": cacheWrite, "cache_read_input_tokens": cacheRead,
		},
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func anthText(s string) map[string]any { return map[string]any{"type": "text", "text": s} }

func anthOK(text, stop string) anthReply {
	return anthReply{body: anthMessage([]map[string]any{anthText(text)}, stop, 10, 5, 0, 0)}
}

func anthErr(status int, typ, msg string, header map[string]string) anthReply {
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
	return anthReply{status: status, header: header, body: string(b)}
}

func always(r anthReply) func(int) anthReply { return func(int) anthReply { return r } }

// anthPath walks decoded JSON by object keys and array indexes.
func anthPath(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: want an object, have %#v", path, v)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at %v: want an array longer than %d, have %#v", path, k, v)
			}
			v = a[k]
		}
	}
	return v
}

// anthRoles lists the roles of the messages sent.
func anthRoles(t *testing.T, body map[string]any) []string {
	t.Helper()
	msgs, ok := body["messages"].([]any)
	if !ok {
		t.Fatalf("messages is not an array: %#v", body["messages"])
	}
	var roles []string
	for i := range msgs {
		roles = append(roles, anthPath(t, msgs, i, "role").(string))
	}
	return roles
}

// anthBlocks returns the content blocks of message i.
func anthBlocks(t *testing.T, body map[string]any, i int) []any {
	t.Helper()
	blocks, ok := anthPath(t, body, "messages", i, "content").([]any)
	if !ok {
		t.Fatalf("messages[%d].content is not an array of blocks: %#v", i, anthPath(t, body, "messages", i, "content"))
	}
	return blocks
}

func wantPermanent(t *testing.T, err error, contains ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	if !IsPermanent(err) {
		t.Errorf("want a permanent error, got retryable %q", err)
	}
	for _, s := range contains {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func wantRetryable(t *testing.T, err error, after time.Duration, contains ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	if IsPermanent(err) {
		t.Errorf("want a retryable error, got permanent %q", err)
	}
	if got := RetryAfter(err); got != after {
		t.Errorf("RetryAfter = %v, want %v", got, after)
	}
	for _, s := range contains {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestAnthropicChat(t *testing.T) {
	long := strings.Repeat("The paper text. ", 300) // 4,800 characters
	short := []Message{{Role: "user", Content: "Say hi."}}

	cases := []struct {
		name      string
		req       Request
		reply     func(n int) anthReply
		wantCalls int
		check     func(t *testing.T, resp Response, err error, calls []anthCall)
	}{
		{
			name: "success maps request, caching and usage",
			req: Request{
				Model: anthTestModel, System: "You are a careful reviewer.", Temperature: 0.7,
				Messages: []Message{
					{Role: "user", Content: long},
					{Role: "user", Content: "Also read the appendix."},
					{Role: "assistant", Content: "Noted."},
					{Role: "assistant", Content: "  "}, // blank: dropped
					{Role: "user", Content: "Now review it."},
				},
			},
			reply: always(anthReply{body: anthMessage([]map[string]any{
				{"type": "thinking", "thinking": "hidden reasoning", "signature": "sig"},
				anthText("Hello, "), anthText("world"),
			}, "end_turn", 10, 42, 2000, 3000)}),
			wantCalls: 1,
			check: func(t *testing.T, resp Response, err error, calls []anthCall) {
				if err != nil {
					t.Fatalf("Chat: %v", err)
				}
				if resp.Content != "Hello, world" {
					t.Errorf("Content = %q, want the text blocks concatenated without thinking", resp.Content)
				}
				if !reflect.DeepEqual(resp.Choices, []string{"Hello, world"}) {
					t.Errorf("Choices = %q", resp.Choices)
				}
				if resp.FinishReason != FinishStop {
					t.Errorf("FinishReason = %q, want %q", resp.FinishReason, FinishStop)
				}
				want := Usage{PromptTokens: 10 + 2000 + 3000, CachedPromptTokens: 3000, CompletionTokens: 42, Calls: 1}
				if resp.Usage != want {
					t.Errorf("Usage = %+v, want %+v", resp.Usage, want)
				}
				b := calls[0].body
				if got := b["model"]; got != anthTestModel {
					t.Errorf("model = %v", got)
				}
				if got := b["max_tokens"]; got != float64(DefaultMaxTokens) {
					t.Errorf("max_tokens = %v, want %d", got, DefaultMaxTokens)
				}
				if got := b["temperature"]; got != 0.7 {
					t.Errorf("temperature = %v, want exactly 0.7", got)
				}
				for _, k := range []string{"stream", "n", "top_p", "top_k"} {
					if _, ok := b[k]; ok {
						t.Errorf("unexpected field %q in request", k)
					}
				}
				wantSystem := []any{map[string]any{"type": "text", "text": "You are a careful reviewer.", "cache_control": map[string]any{"type": "ephemeral"}}}
				if !reflect.DeepEqual(b["system"], wantSystem) {
					t.Errorf("system = %#v, want %#v", b["system"], wantSystem)
				}
				if roles := anthRoles(t, b); !reflect.DeepEqual(roles, []string{"user", "assistant", "user"}) {
					t.Fatalf("roles = %v, want alternating user/assistant/user", roles)
				}
				first := anthBlocks(t, b, 0)
				if len(first) != 2 {
					t.Fatalf("first user turn has %d blocks, want the 2 merged messages", len(first))
				}
				if got := anthPath(t, first, 0, "text"); got != long {
					t.Errorf("first block is not the long prefix")
				}
				if _, ok := first[0].(map[string]any)["cache_control"]; ok {
					t.Errorf("cache_control on the first block; want it only on the last block of the turn")
				}
				if got := anthPath(t, first, 1); !reflect.DeepEqual(got, map[string]any{"type": "text", "text": "Also read the appendix.", "cache_control": map[string]any{"type": "ephemeral"}}) {
					t.Errorf("last block of the first user turn = %#v, want it marked ephemeral", got)
				}
				for i, want := range []string{"Noted.", "Now review it."} {
					blocks := anthBlocks(t, b, i+1)
					if len(blocks) != 1 || anthPath(t, blocks, 0, "text") != want {
						t.Errorf("messages[%d] = %#v, want one block %q", i+1, blocks, want)
					}
					if _, ok := blocks[0].(map[string]any)["cache_control"]; ok {
						t.Errorf("messages[%d] carries cache_control", i+1)
					}
				}
			},
		},
		{
			name:      "short prompt without system is not cached",
			req:       Request{Model: anthTestModel, Messages: short, MaxTokens: 1000},
			reply:     always(anthOK("hi", "end_turn")),
			wantCalls: 1,
			check: func(t *testing.T, resp Response, err error, calls []anthCall) {
				if err != nil {
					t.Fatalf("Chat: %v", err)
				}
				b := calls[0].body
				if _, ok := b["system"]; ok {
					t.Errorf("system sent although empty: %#v", b["system"])
				}
				if got := b["max_tokens"]; got != 1000.0 {
					t.Errorf("max_tokens = %v, want 1000", got)
				}
				if got, ok := b["temperature"]; !ok || got != 0.0 {
					t.Errorf("temperature = %v (present %v), want 0 passed as given", got, ok)
				}
				blocks := anthBlocks(t, b, 0)
				if !reflect.DeepEqual(blocks, []any{map[string]any{"type": "text", "text": "Say hi."}}) {
					t.Errorf("messages[0].content = %#v, want one uncached text block", blocks)
				}
				if resp.Usage != (Usage{PromptTokens: 10, CompletionTokens: 5, Calls: 1}) {
					t.Errorf("Usage = %+v", resp.Usage)
				}
			},
		},
		{
			name:      "429 keeps retry-after",
			req:       Request{Model: anthTestModel, Messages: short},
			reply:     always(anthErr(429, "rate_limit_error", "slow down", map[string]string{"retry-after": "7"})),
			wantCalls: 1, // no SDK retries: Temporal retries
			check: func(t *testing.T, resp Response, err error, _ []anthCall) {
				wantRetryable(t, err, 7*time.Second, "HTTP 429", anthTestModel)
				if resp.Content != "" || resp.Usage.Calls != 0 {
					t.Errorf("response on error = %+v", resp)
				}
			},
		},
		{
			name:      "500 is retryable",
			req:       Request{Model: anthTestModel, Messages: short},
			reply:     always(anthErr(500, "api_error", "internal", nil)),
			wantCalls: 1,
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantRetryable(t, err, 0, "HTTP 500")
			},
		},
		{
			name:      "529 overloaded is retryable and keeps retry-after",
			req:       Request{Model: anthTestModel, Messages: short},
			reply:     always(anthErr(529, "overloaded_error", "Overloaded", map[string]string{"retry-after": "3"})),
			wantCalls: 1,
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantRetryable(t, err, 3*time.Second, "HTTP 529", "overloaded_error")
			},
		},
		{
			name:      "502 HTML page from a gateway is retryable",
			req:       Request{Model: anthTestModel, Messages: short},
			reply:     always(anthReply{status: 502, contentType: "text/html", body: "<html><body>Bad Gateway</body></html>"}),
			wantCalls: 1,
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantRetryable(t, err, 0, "HTTP 502")
			},
		},
		{
			name:      "401 is permanent and names the key variable",
			req:       Request{Model: anthTestModel, Messages: short},
			reply:     always(anthErr(401, "authentication_error", "invalid x-api-key", nil)),
			wantCalls: 1,
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantPermanent(t, err, "ANTHROPIC_API_KEY", "401")
				if strings.Contains(err.Error(), anthTestKey) {
					t.Errorf("error leaks the API key: %q", err)
				}
			},
		},
		{
			name:      "403 is permanent",
			req:       Request{Model: anthTestModel, Messages: short},
			reply:     always(anthErr(403, "permission_error", "no access", nil)),
			wantCalls: 1,
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantPermanent(t, err, "ANTHROPIC_API_KEY", "403")
			},
		},
		{
			name:      "404 unknown model is permanent",
			req:       Request{Model: "claude-nonexistent", Messages: short},
			reply:     always(anthErr(404, "not_found_error", "model: claude-nonexistent", nil)),
			wantCalls: 1,
			check: func(t *testing.T, _ Response, err error, calls []anthCall) {
				wantPermanent(t, err, "claude-nonexistent", "404")
				if calls[0].body["model"] != "claude-nonexistent" {
					t.Errorf("model sent = %v", calls[0].body["model"])
				}
			},
		},
		{
			name:      "400 invalid request is permanent",
			req:       Request{Model: anthTestModel, Messages: short},
			reply:     always(anthErr(400, "invalid_request_error", "prompt is too long", nil)),
			wantCalls: 1,
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantPermanent(t, err, "400", "prompt is too long")
			},
		},
		{
			name:      "max_tokens stop is FinishLength",
			req:       Request{Model: anthTestModel, Messages: short},
			reply:     always(anthOK("a truncated rep", "max_tokens")),
			wantCalls: 1,
			check: func(t *testing.T, resp Response, err error, _ []anthCall) {
				if err != nil {
					t.Fatalf("Chat: %v", err)
				}
				if resp.FinishReason != FinishLength || resp.Content != "a truncated rep" {
					t.Errorf("got %q / %q, want %q with the partial text", resp.FinishReason, resp.Content, FinishLength)
				}
			},
		},
		{
			name:      "stop_sequence is FinishStop",
			req:       Request{Model: anthTestModel, Messages: short},
			reply:     always(anthOK("done", "stop_sequence")),
			wantCalls: 1,
			check: func(t *testing.T, resp Response, err error, _ []anthCall) {
				if err != nil || resp.FinishReason != FinishStop {
					t.Errorf("FinishReason = %q, err %v; want %q", resp.FinishReason, err, FinishStop)
				}
			},
		},
		{
			name:      "other stop reasons pass through",
			req:       Request{Model: anthTestModel, Messages: short},
			reply:     always(anthOK("", "refusal")),
			wantCalls: 1,
			check: func(t *testing.T, resp Response, err error, _ []anthCall) {
				if err != nil || resp.FinishReason != "refusal" {
					t.Errorf("FinishReason = %q, err %v; want refusal", resp.FinishReason, err)
				}
			},
		},
		{
			name:      "200 with an HTML page is a retryable error",
			req:       Request{Model: anthTestModel, Messages: short},
			reply:     always(anthReply{contentType: "text/html; charset=utf-8", body: "<!DOCTYPE html><html><body>Please log in to the proxy</body></html>"}),
			wantCalls: 1,
			check: func(t *testing.T, resp Response, err error, _ []anthCall) {
				wantRetryable(t, err, 0, "unreadable response body", "HTTP 200", "text/html")
				if resp.Content != "" {
					t.Errorf("Content = %q on error", resp.Content)
				}
			},
		},
		{
			name:      "200 with HTML labelled as JSON is a retryable error",
			req:       Request{Model: anthTestModel, Messages: short},
			reply:     always(anthReply{body: "<html>oops</html>"}),
			wantCalls: 1,
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantRetryable(t, err, 0, "unreadable response body", "HTTP 200")
			},
		},
		{
			name:      "200 with JSON that is not a message is a retryable error",
			req:       Request{Model: anthTestModel, Messages: short},
			reply:     always(anthReply{body: `{"status":"queued"}`}),
			wantCalls: 1,
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantRetryable(t, err, 0, "not a Messages API message")
			},
		},
		{
			name: "N=3 makes three calls",
			req:  Request{Model: anthTestModel, Messages: short, N: 3},
			reply: func(n int) anthReply {
				stop := "end_turn"
				if n == 2 {
					stop = "max_tokens"
				}
				return anthReply{body: anthMessage([]map[string]any{anthText(fmt.Sprintf("sample %d", n))}, stop, 100, 10, 20, 80)}
			},
			wantCalls: 3,
			check: func(t *testing.T, resp Response, err error, calls []anthCall) {
				if err != nil {
					t.Fatalf("Chat: %v", err)
				}
				if want := []string{"sample 0", "sample 1", "sample 2"}; !reflect.DeepEqual(resp.Choices, want) {
					t.Errorf("Choices = %q, want %q", resp.Choices, want)
				}
				if resp.Content != "sample 0" || resp.FinishReason != FinishStop {
					t.Errorf("Content/FinishReason = %q/%q, want the first sample's", resp.Content, resp.FinishReason)
				}
				want := Usage{PromptTokens: 3 * 200, CachedPromptTokens: 3 * 80, CompletionTokens: 3 * 10, Calls: 3}
				if resp.Usage != want {
					t.Errorf("Usage = %+v, want %+v", resp.Usage, want)
				}
				for i, c := range calls {
					if !reflect.DeepEqual(c.body, calls[0].body) {
						t.Errorf("call %d body differs from call 0", i)
					}
					if _, ok := c.body["n"]; ok {
						t.Errorf("call %d sends n", i)
					}
				}
			},
		},
		{
			name: "N=3 stops at the first failure",
			req:  Request{Model: anthTestModel, Messages: short, N: 3},
			reply: func(n int) anthReply {
				if n == 1 {
					return anthErr(500, "api_error", "boom", nil)
				}
				return anthOK("ok", "end_turn")
			},
			wantCalls: 2,
			check: func(t *testing.T, resp Response, err error, _ []anthCall) {
				wantRetryable(t, err, 0, "HTTP 500")
				if resp.Choices != nil {
					t.Errorf("Choices = %q on error", resp.Choices)
				}
			},
		},
		{
			name:      "leading assistant turn is refused before sending",
			req:       Request{Model: anthTestModel, Messages: []Message{{Role: "assistant", Content: "I start."}, {Role: "user", Content: "hi"}}},
			reply:     always(anthOK("never", "end_turn")),
			wantCalls: 0,
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantPermanent(t, err, "starts with an assistant message", "first turn")
			},
		},
		{
			name:      "assistant first after a blank user message is refused",
			req:       Request{Model: anthTestModel, Messages: []Message{{Role: "user", Content: ""}, {Role: "assistant", Content: "x"}}},
			reply:     always(anthOK("never", "end_turn")),
			wantCalls: 0,
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantPermanent(t, err, "starts with an assistant message")
			},
		},
		{
			name:      "unknown role is refused",
			req:       Request{Model: anthTestModel, Messages: []Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "hi"}}},
			reply:     always(anthOK("never", "end_turn")),
			wantCalls: 0,
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantPermanent(t, err, `role "system"`)
			},
		},
		{
			name:      "no messages is refused",
			req:       Request{Model: anthTestModel, System: "sys"},
			reply:     always(anthOK("never", "end_turn")),
			wantCalls: 0,
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantPermanent(t, err, "no non-empty messages")
			},
		},
		{
			name:      "max_tokens too large for a non-streaming call is refused",
			req:       Request{Model: anthTestModel, Messages: short, MaxTokens: 64000},
			reply:     always(anthOK("never", "end_turn")),
			wantCalls: 0,
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantPermanent(t, err, "max_tokens 64000")
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeAnthropic{reply: tc.reply}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			c := NewAnthropic(anthTestKey, srv.URL, srv.Client())
			var _ Client = c
			resp, err := c.Chat(context.Background(), tc.req)
			calls := fake.recorded()
			if len(calls) != tc.wantCalls {
				t.Fatalf("fake received %d requests, want %d (err %v)", len(calls), tc.wantCalls, err)
			}
			for i, call := range calls {
				if call.method != http.MethodPost || call.path != "/v1/messages" {
					t.Errorf("call %d: %s %s, want POST /v1/messages", i, call.method, call.path)
				}
				if got := call.header.Get("X-Api-Key"); got != anthTestKey {
					t.Errorf("call %d: x-api-key = %q, want %q", i, got, anthTestKey)
				}
				if call.header.Get("Anthropic-Version") == "" {
					t.Errorf("call %d: no anthropic-version header", i)
				}
			}
			tc.check(t, resp, err, calls)
		})
	}
}

func TestAnthropicNetworkErrorIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	_, err := NewAnthropic(anthTestKey, url, nil).Chat(context.Background(), Request{Model: anthTestModel, Messages: []Message{{Role: "user", Content: "hi"}}})
	wantRetryable(t, err, 0, "Anthropic call for model "+anthTestModel)
}

func TestAnthropicTimeoutIsRetryable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := NewAnthropic(anthTestKey, srv.URL, srv.Client()).Chat(ctx, Request{Model: anthTestModel, Messages: []Message{{Role: "user", Content: "hi"}}})
	wantRetryable(t, err, 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q does not wrap context.DeadlineExceeded", err)
	}
}

// anthRoundTrip answers in-process, recording the request.
type anthRoundTrip struct{ got *http.Request }

func (a *anthRoundTrip) RoundTrip(r *http.Request) (*http.Response, error) {
	a.got = r
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(rec, anthMessage([]map[string]any{anthText("hi")}, "end_turn", 1, 1, 0, 0))
	return rec.Result(), nil
}

func TestNewAnthropicIgnoresEnvironmentAndDefaultsToAPI(t *testing.T) {
	t.Setenv("ANTHROPIC_BASE_URL", "http://from-env.invalid")
	t.Setenv("ANTHROPIC_API_KEY", "sk-from-env")
	t.Setenv("ANTHROPIC_AUTH_TOKEN", "token-from-env")
	rt := &anthRoundTrip{}
	resp, err := NewAnthropic(anthTestKey, "", &http.Client{Transport: rt}).Chat(context.Background(),
		Request{Model: anthTestModel, Messages: []Message{{Role: "user", Content: "hi"}}})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if resp.Content != "hi" {
		t.Errorf("Content = %q", resp.Content)
	}
	if rt.got == nil {
		t.Fatal("no request reached the HTTP client")
	}
	if got := rt.got.URL.String(); got != "https://api.anthropic.com/v1/messages" {
		t.Errorf("URL = %s, want the SDK default", got)
	}
	if got := rt.got.Header.Get("X-Api-Key"); got != anthTestKey {
		t.Errorf("x-api-key = %q, want the key passed in", got)
	}
	if got := rt.got.Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none (environment must not leak in)", got)
	}
}

func TestNewAnthropicBaseURLWithPath(t *testing.T) {
	rt := &anthRoundTrip{}
	_, err := NewAnthropic(anthTestKey, "https://proxy.example/anthropic", &http.Client{Transport: rt}).Chat(context.Background(),
		Request{Model: anthTestModel, Messages: []Message{{Role: "user", Content: "hi"}}})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if got := rt.got.URL.String(); got != "https://proxy.example/anthropic/v1/messages" {
		t.Errorf("URL = %s", got)
	}
}

func TestNewAnthropicBadBaseURL(t *testing.T) {
	for _, base := range []string{"api.anthropic.com", "://nope", "http://"} {
		t.Run(base, func(t *testing.T) {
			rt := &anthRoundTrip{}
			_, err := NewAnthropic(anthTestKey, base, &http.Client{Transport: rt}).Chat(context.Background(),
				Request{Model: anthTestModel, Messages: []Message{{Role: "user", Content: "hi"}}})
			wantPermanent(t, err, "ANTHROPIC_BASE_URL")
			if rt.got != nil {
				t.Errorf("a request was sent to %s", rt.got.URL)
			}
		})
	}
}
