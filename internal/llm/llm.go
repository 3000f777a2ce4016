// Package llm talks to chat models. Every provider is reached through one
// small interface so activities do not care which model answers.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"` // "user" or "assistant"
	Content string `json:"content"`
}

// Request is one chat completion.
type Request struct {
	// Model is the name the user gave; providers receive the API model id.
	Model       string
	System      string
	Messages    []Message
	Temperature float32
	MaxTokens   int
	// N asks for several samples (review ensembles); 0 or 1 means one.
	N int
	// ReasoningEffort is passed to reasoning models that take it.
	ReasoningEffort string
}

// Usage counts tokens and money of one or more calls.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	// CachedPromptTokens is the part of PromptTokens read from a prompt cache.
	CachedPromptTokens int     `json:"cached_prompt_tokens,omitempty"`
	Calls              int     `json:"calls"`
	CostUSD            float64 `json:"cost_usd,omitempty"`
	// UnpricedCalls were made with a model of unknown price: CostUSD
	// leaves them out, so the cost is a lower bound.
	UnpricedCalls int `json:"unpriced_calls,omitempty"`
}

// Add returns the sum of two usages.
func (u Usage) Add(o Usage) Usage {
	return Usage{
		PromptTokens: u.PromptTokens + o.PromptTokens, CompletionTokens: u.CompletionTokens + o.CompletionTokens,
		CachedPromptTokens: u.CachedPromptTokens + o.CachedPromptTokens, Calls: u.Calls + o.Calls, CostUSD: u.CostUSD + o.CostUSD,
		UnpricedCalls: u.UnpricedCalls + o.UnpricedCalls,
	}
}

// Total is prompt plus completion tokens.
func (u Usage) Total() int { return u.PromptTokens + u.CompletionTokens }

// Response is the model's reply.
type Response struct {
	Content string
	// Choices holds every sample when N > 1 (Content is the first).
	Choices []string
	// FinishReason is normalised: "stop", "length" (output cap hit), or the
	// provider's own word for anything else.
	FinishReason string
	Usage        Usage
}

// sampleN makes one call n times, for APIs without an n parameter: Content
// and FinishReason come from the first sample, usage adds up, and the first
// failure fails the whole request.
func sampleN(n int, one func() (text, finish string, u Usage, err error)) (Response, error) {
	var out Response
	for i := range max(n, 1) {
		text, finish, usage, err := one()
		if err != nil {
			return Response{}, err
		}
		if i == 0 {
			out.Content, out.FinishReason = text, finish
		}
		out.Choices = append(out.Choices, text)
		out.Usage = out.Usage.Add(usage)
	}
	return out, nil
}

// Finish reasons shared by all providers.
const (
	FinishStop   = "stop"
	FinishLength = "length"
)

// Client is a chat model.
type Client interface {
	Chat(ctx context.Context, req Request) (Response, error)
}

// DefaultMaxTokens caps a reply when a provider client is used without the
// registry's metering (which sends each model's own limit, see
// ModelInfo.RequestTokens): the reference system's cap.
const DefaultMaxTokens = 4096

// PermanentError marks failures that retrying cannot fix (bad key, unknown model).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err should not be retried.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// RetryAfter returns the delay a provider asked for, or 0.
func RetryAfter(err error) time.Duration {
	var ra *retryAfterError
	if errors.As(err, &ra) {
		return ra.after
	}
	return 0
}

type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// OpenAI is any OpenAI-compatible chat-completions endpoint.
type OpenAI struct {
	client *openai.Client
	// Reasoning models (o1, o3) take no system role and no temperature, and
	// cap output with max_completion_tokens.
	Reasoning bool
	// Provider and KeyEnv name the service in error messages.
	Provider, KeyEnv string
}

// NewOpenAI builds a client for baseURL (empty: api.openai.com) with key.
// doer may be nil for the default HTTP client.
func NewOpenAI(key, baseURL string, doer openai.HTTPDoer) *OpenAI {
	cfg := openai.DefaultConfig(key)
	if baseURL != "" {
		cfg.BaseURL = strings.TrimRight(baseURL, "/")
	}
	if doer == nil {
		doer = &http.Client{Timeout: 10 * time.Minute}
	}
	cfg.HTTPClient = &headerDoer{next: doer}
	return &OpenAI{client: openai.NewClientWithConfig(cfg)}
}

// Chat sends one chat completion.
func (o *OpenAI) Chat(ctx context.Context, req Request) (Response, error) {
	msgs := make([]openai.ChatCompletionMessage, 0, len(req.Messages)+1)
	rest := req.Messages
	switch {
	case req.System != "" && o.Reasoning:
		// No system role: the instructions lead the first user turn.
		first := "Instructions:\n" + req.System
		if len(rest) > 0 && rest[0].Role == "user" {
			first += "\n\n" + rest[0].Content
			rest = rest[1:]
		}
		msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: first})
	case req.System != "":
		msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleSystem, Content: req.System})
	}
	for _, m := range rest {
		msgs = append(msgs, openai.ChatCompletionMessage{Role: m.Role, Content: m.Content})
	}
	maxTokens := req.MaxTokens
	if maxTokens == 0 {
		maxTokens = DefaultMaxTokens
	}
	creq := openai.ChatCompletionRequest{Model: req.Model, Messages: msgs}
	if req.N > 1 {
		creq.N = req.N
	}
	if o.Reasoning {
		creq.MaxCompletionTokens, creq.ReasoningEffort = maxTokens, req.ReasoningEffort
	} else {
		creq.MaxTokens, creq.Temperature = maxTokens, req.Temperature
		if req.Temperature == 0 {
			// go-openai omits a zero temperature (omitempty), so the API's
			// default (1.0) would apply: headerDoer writes it in.
			ctx = context.WithValue(ctx, zeroTemperatureKey{}, true)
		}
	}
	resp, err := o.client.CreateChatCompletion(ctx, creq)
	if err != nil {
		return Response{}, o.classify(req.Model, err)
	}
	if len(resp.Choices) == 0 {
		return Response{}, fmt.Errorf("%s: model %s returned no choices", o.provider(), req.Model)
	}
	out := Response{
		Content:      resp.Choices[0].Message.Content,
		FinishReason: string(resp.Choices[0].FinishReason),
		Usage:        Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens, Calls: 1},
	}
	if d := resp.Usage.PromptTokensDetails; d != nil {
		out.Usage.CachedPromptTokens = d.CachedTokens
	}
	for _, c := range resp.Choices {
		out.Choices = append(out.Choices, c.Message.Content)
	}
	return out, nil
}

func (o *OpenAI) provider() string {
	if o.Provider == "" {
		return "OpenAI"
	}
	return o.Provider
}

// classify maps go-openai's errors through ProviderError.
func (o *OpenAI) classify(model string, err error) error {
	if RetryAfter(err) > 0 {
		return err
	}
	status := 0
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.As(err, &apiErr):
		status = apiErr.HTTPStatusCode
	case errors.As(err, &reqErr):
		status = reqErr.HTTPStatusCode
	}
	keyEnv := o.KeyEnv
	if keyEnv == "" {
		keyEnv = "OPENAI_API_KEY"
	}
	return ProviderError(o.provider(), model, keyEnv, status, 0, err)
}

// headerDoer looks at responses before go-openai does: a 429 or 5xx
// carrying Retry-After becomes an error that keeps the delay (go-openai
// drops response headers from its errors), and a 200 whose body is empty or
// not JSON (a proxy's HTML page) becomes a clear, retryable error instead of
// a JSON decoding message.
type headerDoer struct{ next openai.HTTPDoer }

// maxReplyBytes bounds what is read of one completion (far above any reply).
const maxReplyBytes = 64 << 20

// zeroTemperatureKey marks a request whose temperature is really 0.
type zeroTemperatureKey struct{}

func (h *headerDoer) Do(r *http.Request) (*http.Response, error) {
	if r.Context().Value(zeroTemperatureKey{}) != nil && r.Body != nil {
		if err := setZeroTemperature(r); err != nil {
			return nil, err
		}
	}
	resp, err := h.next.Do(r)
	if err != nil {
		return resp, err
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		after := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if after <= 0 {
			return resp, nil
		}
		_ = resp.Body.Close()
		what := "rate limited"
		if resp.StatusCode >= 500 {
			what = "server error"
		}
		return nil, &retryAfterError{err: fmt.Errorf("%s (HTTP %d), retry after %s", what, resp.StatusCode, after), after: after}
	case resp.StatusCode == http.StatusOK:
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
		_ = resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read response body: %w", err)
		}
		ct := resp.Header.Get("Content-Type")
		trimmed := bytes.TrimSpace(body)
		switch {
		case len(trimmed) == 0:
			return nil, fmt.Errorf("empty response body (HTTP 200, %q)", ct)
		case trimmed[0] != '{' || ct != "" && !strings.Contains(ct, "json"):
			return nil, fmt.Errorf("unreadable response body (HTTP 200, %q), not a completion: %q", ct, clipBytes(trimmed, 200))
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}

// setZeroTemperature adds "temperature": 0 to a JSON request body that
// lacks it.
func setZeroTemperature(r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) == nil {
		if _, ok := fields["temperature"]; !ok {
			fields["temperature"] = json.RawMessage("0")
			if b, err := json.Marshal(fields); err == nil {
				body = b
			}
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return nil
}

func clipBytes(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
