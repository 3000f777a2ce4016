package llm

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const bedrockTestModel = "anthropic.claude-3-5-sonnet-20241022-v2:0"

// bedrockWire is the part of a Converse request body the tests inspect.
type bedrockWire struct {
	System []struct {
		Text string `json:"text"`
	} `json:"system"`
	Messages []struct {
		Role    string `json:"role"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	} `json:"messages"`
	InferenceConfig *struct {
		MaxTokens   *int     `json:"maxTokens"`
		Temperature *float64 `json:"temperature"`
	} `json:"inferenceConfig"`
}

// bedrockCall is one request the fake server saw.
type bedrockCall struct {
	method, path, auth string
	body               bedrockWire
	raw                string
}

// bedrockReply is what the fake server answers to the n-th call (from 0).
type bedrockReply struct {
	status  int
	errType string // X-Amzn-ErrorType; "" for a success
	header  map[string]string
	body    string
}

// fakeBedrock serves the Converse REST protocol and records every call.
type fakeBedrock struct {
	t     *testing.T
	reply func(n int) bedrockReply
	mu    sync.Mutex
	calls []bedrockCall
}

func (f *fakeBedrock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("reading request body: %v", err)
	}
	c := bedrockCall{method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"), raw: string(raw)}
	if err := json.Unmarshal(raw, &c.body); err != nil {
		f.t.Errorf("request body is not JSON: %v: %s", err, raw)
	}
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, c)
	f.mu.Unlock()

	rep := f.reply(n)
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	if rep.errType != "" {
		w.Header().Set("X-Amzn-ErrorType", rep.errType)
	}
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, rep.body)
}

func (f *fakeBedrock) recorded() []bedrockCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bedrockCall(nil), f.calls...)
}

// bedrockEnv gives the AWS SDK fake credentials and a region, and hides any
// real AWS configuration of the machine running the tests.
func bedrockEnv(t *testing.T, region string) {
	t.Helper()
	missing := filepath.Join(t.TempDir(), "missing")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":                "AKIAFAKEFAKEFAKEFAKE",
		"AWS_SECRET_ACCESS_KEY":            "fakefakefakefakefakefakefakefakefakefake",
		"AWS_SESSION_TOKEN":                "",
		"AWS_REGION":                       region,
		"AWS_DEFAULT_REGION":               "",
		"AWS_PROFILE":                      "",
		"AWS_DEFAULT_PROFILE":              "",
		"AWS_CONFIG_FILE":                  missing,
		"AWS_SHARED_CREDENTIALS_FILE":      missing,
		"AWS_BEARER_TOKEN_BEDROCK":         "",
		"AWS_ENDPOINT_URL":                 "",
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "",
		"AWS_MAX_ATTEMPTS":                 "",
		"AWS_RETRY_MODE":                   "",
		"AWS_EC2_METADATA_DISABLED":        "true",
	} {
		t.Setenv(k, v)
	}
}

func bedrockOK(text []string, stop string, in, out int, extraUsage string) string {
	blocks := make([]map[string]string, len(text))
	for i, s := range text {
		blocks[i] = map[string]string{"text": s}
	}
	content, _ := json.Marshal(blocks)
	usage := `"inputTokens":` + bedrockItoa(in) + `,"outputTokens":` + bedrockItoa(out) + `,"totalTokens":` + bedrockItoa(in+out) + extraUsage
	return `{"output":{"message":{"role":"assistant","content":` + string(content) + `}},"stopReason":"` + stop + `","usage":{` + usage + `},"metrics":{"latencyMs":12}}`
}

func bedrockItoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func bedrockErrBody(msg string) string { return `{"message":"` + msg + `"}` }

func TestBedrockChat(t *testing.T) {
	twoTurns := []Message{
		{Role: "user", Content: "first question"},
		{Role: "user", Content: "with a file attached"},
		{Role: "assistant", Content: "an answer"},
		{Role: "assistant", Content: ""},
		{Role: "user", Content: "follow up"},
	}
	tests := []struct {
		name  string
		req   Request
		reply func(n int) bedrockReply

		wantCalls   int
		wantContent string
		wantChoices []string
		wantFinish  string
		wantUsage   Usage
		checkBody   func(t *testing.T, b bedrockWire)

		wantErr    []string // substrings of the error; nil means success
		permanent  bool
		retryAfter time.Duration
	}{
		{
			name: "success with system, merged messages and cache usage",
			req:  Request{Model: bedrockTestModel, System: "You are a reviewer.", Messages: twoTurns, Temperature: 0.25},
			reply: func(int) bedrockReply {
				return bedrockReply{body: bedrockOK([]string{"Hello, ", "world."}, "end_turn", 11, 7, `,"cacheReadInputTokens":5,"cacheWriteInputTokens":2`)}
			},
			wantCalls:   1,
			wantContent: "Hello, world.",
			wantChoices: []string{"Hello, world."},
			wantFinish:  FinishStop,
			wantUsage:   Usage{PromptTokens: 18, CompletionTokens: 7, CachedPromptTokens: 5, Calls: 1},
			checkBody: func(t *testing.T, b bedrockWire) {
				if len(b.System) != 1 || b.System[0].Text != "You are a reviewer." {
					t.Errorf("system = %+v, want one text block with the system prompt", b.System)
				}
				type turn struct {
					role  string
					texts []string
				}
				want := []turn{
					{"user", []string{"first question", "with a file attached"}},
					{"assistant", []string{"an answer"}},
					{"user", []string{"follow up"}},
				}
				if len(b.Messages) != len(want) {
					t.Fatalf("got %d messages, want %d (consecutive same-role messages merged, empty dropped): %+v", len(b.Messages), len(want), b.Messages)
				}
				for i, w := range want {
					m := b.Messages[i]
					var texts []string
					for _, c := range m.Content {
						texts = append(texts, c.Text)
					}
					if m.Role != w.role || strings.Join(texts, "|") != strings.Join(w.texts, "|") {
						t.Errorf("message %d = %s %q, want %s %q", i, m.Role, texts, w.role, w.texts)
					}
				}
				if b.InferenceConfig == nil || b.InferenceConfig.MaxTokens == nil || b.InferenceConfig.Temperature == nil {
					t.Fatalf("inferenceConfig lacks maxTokens or temperature: %+v", b.InferenceConfig)
				}
				if got := *b.InferenceConfig.MaxTokens; got != DefaultMaxTokens {
					t.Errorf("maxTokens = %d, want DefaultMaxTokens %d", got, DefaultMaxTokens)
				}
				if got := *b.InferenceConfig.Temperature; math.Abs(got-0.25) > 1e-6 {
					t.Errorf("temperature = %v, want 0.25", got)
				}
			},
		},
		{
			name: "max_tokens stop is FinishLength and MaxTokens is sent",
			req:  Request{Model: bedrockTestModel, Messages: []Message{{Role: "user", Content: "write a lot"}}, MaxTokens: 100},
			reply: func(int) bedrockReply {
				return bedrockReply{body: bedrockOK([]string{"truncated"}, "max_tokens", 4, 100, "")}
			},
			wantCalls:   1,
			wantContent: "truncated",
			wantChoices: []string{"truncated"},
			wantFinish:  FinishLength,
			wantUsage:   Usage{PromptTokens: 4, CompletionTokens: 100, Calls: 1},
			checkBody: func(t *testing.T, b bedrockWire) {
				if b.System != nil {
					t.Errorf("system sent without a system prompt: %+v", b.System)
				}
				if b.InferenceConfig == nil || b.InferenceConfig.MaxTokens == nil || *b.InferenceConfig.MaxTokens != 100 {
					t.Errorf("inferenceConfig = %+v, want maxTokens 100", b.InferenceConfig)
				}
			},
		},
		{
			name: "stop_sequence is FinishStop",
			req:  Request{Model: bedrockTestModel, Messages: []Message{{Role: "user", Content: "hi"}}},
			reply: func(int) bedrockReply {
				return bedrockReply{body: bedrockOK([]string{"ok"}, "stop_sequence", 1, 1, "")}
			},
			wantCalls: 1, wantContent: "ok", wantChoices: []string{"ok"}, wantFinish: FinishStop,
			wantUsage: Usage{PromptTokens: 1, CompletionTokens: 1, Calls: 1},
		},
		{
			name: "N=2 makes two calls and keeps both choices",
			req:  Request{Model: bedrockTestModel, Messages: []Message{{Role: "user", Content: "review"}}, N: 2},
			reply: func(n int) bedrockReply {
				return bedrockReply{body: bedrockOK([]string{"sample " + bedrockItoa(n)}, "end_turn", 10, 3+n, "")}
			},
			wantCalls:   2,
			wantContent: "sample 0",
			wantChoices: []string{"sample 0", "sample 1"},
			wantFinish:  FinishStop,
			wantUsage:   Usage{PromptTokens: 20, CompletionTokens: 7, Calls: 2},
		},
		{
			name: "429 throttling is retryable and keeps Retry-After",
			req:  Request{Model: bedrockTestModel, Messages: []Message{{Role: "user", Content: "hi"}}},
			reply: func(int) bedrockReply {
				return bedrockReply{status: 429, errType: "ThrottlingException", header: map[string]string{"Retry-After": "7"}, body: bedrockErrBody("Too many requests, please wait before trying again.")}
			},
			wantCalls:  1,
			wantErr:    []string{"Bedrock", "HTTP 429", "ThrottlingException", bedrockTestModel},
			retryAfter: 7 * time.Second,
		},
		{
			name: "500 internal error is retryable",
			req:  Request{Model: bedrockTestModel, Messages: []Message{{Role: "user", Content: "hi"}}},
			reply: func(int) bedrockReply {
				return bedrockReply{status: 500, errType: "InternalServerException", body: bedrockErrBody("internal failure")}
			},
			wantCalls: 1,
			wantErr:   []string{"HTTP 500", "InternalServerException"},
		},
		{
			name: "503 service unavailable is retryable",
			req:  Request{Model: bedrockTestModel, Messages: []Message{{Role: "user", Content: "hi"}}},
			reply: func(int) bedrockReply {
				return bedrockReply{status: 503, errType: "ServiceUnavailableException", body: bedrockErrBody("try later")}
			},
			wantCalls: 1,
			wantErr:   []string{"HTTP 503"},
		},
		{
			name: "400 service quota exceeded is retryable",
			req:  Request{Model: bedrockTestModel, Messages: []Message{{Role: "user", Content: "hi"}}},
			reply: func(int) bedrockReply {
				return bedrockReply{status: 400, errType: "ServiceQuotaExceededException", body: bedrockErrBody("quota exceeded")}
			},
			wantCalls: 1,
			wantErr:   []string{"ServiceQuotaExceededException", "HTTP 429"},
		},
		{
			name: "403 access denied is permanent and names AWS credentials",
			req:  Request{Model: bedrockTestModel, Messages: []Message{{Role: "user", Content: "hi"}}},
			reply: func(int) bedrockReply {
				return bedrockReply{status: 403, errType: "AccessDeniedException", body: bedrockErrBody("You don't have access to the model with the specified model ID.")}
			},
			wantCalls: 1,
			wantErr:   []string{"HTTP 403", "AWS credentials", "AWS_REGION", "AccessDeniedException"},
			permanent: true,
		},
		{
			name: "403 unrecognized client is permanent",
			req:  Request{Model: bedrockTestModel, Messages: []Message{{Role: "user", Content: "hi"}}},
			reply: func(int) bedrockReply {
				return bedrockReply{status: 403, errType: "UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/", body: bedrockErrBody("The security token included in the request is invalid.")}
			},
			wantCalls: 1,
			wantErr:   []string{"HTTP 403", "AWS credentials", "UnrecognizedClientException"},
			permanent: true,
		},
		{
			name: "400 validation is permanent",
			req:  Request{Model: bedrockTestModel, Messages: []Message{{Role: "user", Content: "hi"}}},
			reply: func(int) bedrockReply {
				return bedrockReply{status: 400, errType: "ValidationException", body: bedrockErrBody("A conversation must start with a user message.")}
			},
			wantCalls: 1,
			wantErr:   []string{"HTTP 400", "ValidationException", "must start with a user message"},
			permanent: true,
		},
		{
			name: "404 unknown model is permanent",
			req:  Request{Model: "anthropic.claude-nonexistent-v9:0", Messages: []Message{{Role: "user", Content: "hi"}}},
			reply: func(int) bedrockReply {
				return bedrockReply{status: 404, errType: "ResourceNotFoundException", body: bedrockErrBody("Model not found.")}
			},
			wantCalls: 1,
			wantErr:   []string{"HTTP 404", "anthropic.claude-nonexistent-v9:0", "ResourceNotFoundException"},
			permanent: true,
		},
		{
			name: "N=2 stops at the first failure",
			req:  Request{Model: bedrockTestModel, Messages: []Message{{Role: "user", Content: "hi"}}, N: 2},
			reply: func(n int) bedrockReply {
				if n == 0 {
					return bedrockReply{body: bedrockOK([]string{"one"}, "end_turn", 1, 1, "")}
				}
				return bedrockReply{status: 429, errType: "ThrottlingException", body: bedrockErrBody("slow down")}
			},
			wantCalls: 2,
			wantErr:   []string{"HTTP 429"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bedrockEnv(t, "us-west-2")
			fake := &fakeBedrock{t: t, reply: tt.reply}
			srv := httptest.NewServer(fake)
			defer srv.Close()

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			b, err := NewBedrock(ctx, "", srv.URL)
			if err != nil {
				t.Fatalf("NewBedrock: %v", err)
			}
			resp, err := b.Chat(ctx, tt.req)

			calls := fake.recorded()
			if len(calls) != tt.wantCalls {
				t.Fatalf("server saw %d requests, want %d (SDK retries must be off)", len(calls), tt.wantCalls)
			}
			for i, c := range calls {
				wantPath := "/model/" + tt.req.Model + "/converse"
				if c.method != http.MethodPost || c.path != wantPath {
					t.Errorf("call %d: %s %s, want POST %s", i, c.method, c.path, wantPath)
				}
				if !strings.HasPrefix(c.auth, "AWS4-HMAC-SHA256 Credential=AKIAFAKEFAKEFAKEFAKE/") || !strings.Contains(c.auth, "/us-west-2/bedrock/aws4_request") {
					t.Errorf("call %d: Authorization %q is not a SigV4 signature for bedrock in us-west-2 with the env credentials", i, c.auth)
				}
				if strings.Contains(c.raw, "modelId") {
					t.Errorf("call %d: model id belongs in the path, body has it: %s", i, c.raw)
				}
				if tt.checkBody != nil {
					tt.checkBody(t, c.body)
				}
			}

			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Chat succeeded with %+v, want error", resp)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				if got := IsPermanent(err); got != tt.permanent {
					t.Errorf("IsPermanent = %v, want %v (error %v)", got, tt.permanent, err)
				}
				if got := RetryAfter(err); got != tt.retryAfter {
					t.Errorf("RetryAfter = %v, want %v", got, tt.retryAfter)
				}
				return
			}
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if resp.Content != tt.wantContent {
				t.Errorf("Content = %q, want %q", resp.Content, tt.wantContent)
			}
			if strings.Join(resp.Choices, "|") != strings.Join(tt.wantChoices, "|") || len(resp.Choices) != len(tt.wantChoices) {
				t.Errorf("Choices = %q, want %q", resp.Choices, tt.wantChoices)
			}
			if resp.FinishReason != tt.wantFinish {
				t.Errorf("FinishReason = %q, want %q", resp.FinishReason, tt.wantFinish)
			}
			if resp.Usage != tt.wantUsage {
				t.Errorf("Usage = %+v, want %+v", resp.Usage, tt.wantUsage)
			}
		})
	}
}

func TestNewBedrock(t *testing.T) {
	tests := []struct {
		name       string
		envRegion  string
		argRegion  string
		wantErr    string
		wantRegion string // region in the SigV4 scope of a call
	}{
		{name: "no region anywhere", wantErr: "AWS_REGION"},
		{name: "region from environment", envRegion: "eu-central-1", wantRegion: "eu-central-1"},
		{name: "argument overrides environment", envRegion: "eu-central-1", argRegion: "ap-southeast-2", wantRegion: "ap-southeast-2"},
		{name: "argument alone", argRegion: "us-east-1", wantRegion: "us-east-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bedrockEnv(t, tt.envRegion)
			fake := &fakeBedrock{t: t, reply: func(int) bedrockReply {
				return bedrockReply{body: bedrockOK([]string{"hi"}, "end_turn", 1, 1, "")}
			}}
			srv := httptest.NewServer(fake)
			defer srv.Close()

			b, err := NewBedrock(context.Background(), tt.argRegion, srv.URL)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("NewBedrock succeeded, want error mentioning %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !IsPermanent(err) {
					t.Errorf("error %q: want permanent and mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewBedrock: %v", err)
			}
			if _, err := b.Chat(context.Background(), Request{Model: bedrockTestModel, Messages: []Message{{Role: "user", Content: "hi"}}}); err != nil {
				t.Fatalf("Chat: %v", err)
			}
			calls := fake.recorded()
			if len(calls) != 1 || !strings.Contains(calls[0].auth, "/"+tt.wantRegion+"/bedrock/aws4_request") {
				t.Errorf("calls %+v: want one signed for region %s", calls, tt.wantRegion)
			}
		})
	}
}

func TestBedrockNetworkErrorIsRetryable(t *testing.T) {
	bedrockEnv(t, "us-west-2")
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := NewBedrock(ctx, "", url)
	if err != nil {
		t.Fatalf("NewBedrock: %v", err)
	}
	_, err = b.Chat(ctx, Request{Model: bedrockTestModel, Messages: []Message{{Role: "user", Content: "hi"}}})
	if err == nil {
		t.Fatal("Chat succeeded against a closed server")
	}
	if IsPermanent(err) {
		t.Errorf("network error %v is permanent, want retryable", err)
	}
	if !strings.Contains(err.Error(), "Bedrock") || !strings.Contains(err.Error(), bedrockTestModel) {
		t.Errorf("error %q does not name Bedrock and the model", err)
	}
}
