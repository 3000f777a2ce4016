// Package llm talks to chat models. Every provider is reached through one
// small interface so activities do not care which model answers.
package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
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
}

// Usage counts tokens and money of one or more calls.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	// CachedPromptTokens is the part of PromptTokens read from a prompt cache.
	CachedPromptTokens int     `json:"cached_prompt_tokens,omitempty"`
	Calls              int     `json:"calls"`
	CostUSD            float64 `json:"cost_usd,omitempty"`
}

// Add returns the sum of two usages.
func (u Usage) Add(o Usage) Usage {
	return Usage{
		PromptTokens: u.PromptTokens + o.PromptTokens, CompletionTokens: u.CompletionTokens + o.CompletionTokens,
		CachedPromptTokens: u.CachedPromptTokens + o.CachedPromptTokens, Calls: u.Calls + o.Calls, CostUSD: u.CostUSD + o.CostUSD,
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

// Finish reasons shared by all providers.
const (
	FinishStop   = "stop"
	FinishLength = "length"
)

// Client is a chat model.
type Client interface {
	Chat(ctx context.Context, req Request) (Response, error)
}

// DefaultMaxTokens caps replies, as the reference system does.
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
	if req.System != "" {
		msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleSystem, Content: req.System})
	}
	for _, m := range req.Messages {
		msgs = append(msgs, openai.ChatCompletionMessage{Role: m.Role, Content: m.Content})
	}
	maxTokens := req.MaxTokens
	if maxTokens == 0 {
		maxTokens = DefaultMaxTokens
	}
	resp, err := o.client.CreateChatCompletion(ctx, openai.ChatCompletionRequest{
		Model:       req.Model,
		Messages:    msgs,
		Temperature: req.Temperature,
		MaxTokens:   maxTokens,
	})
	if err != nil {
		return Response{}, classify(err)
	}
	if len(resp.Choices) == 0 {
		return Response{}, fmt.Errorf("model %s returned no choices", req.Model)
	}
	return Response{
		Content: resp.Choices[0].Message.Content,
		Usage:   Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens, Calls: 1},
	}, nil
}

// classify turns HTTP failures into permanent or retryable errors.
func classify(err error) error {
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
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return &PermanentError{Err: fmt.Errorf("model provider rejected the API key (HTTP %d): %w", status, err)}
	case http.StatusNotFound, http.StatusBadRequest:
		return &PermanentError{Err: fmt.Errorf("model provider refused the request (HTTP %d): %w", status, err)}
	}
	return err
}

// headerDoer turns a 429 carrying Retry-After into an error that keeps the
// delay, because go-openai drops response headers from its errors.
type headerDoer struct{ next openai.HTTPDoer }

func (h *headerDoer) Do(r *http.Request) (*http.Response, error) {
	resp, err := h.next.Do(r)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	secs, perr := strconv.Atoi(resp.Header.Get("Retry-After"))
	if perr != nil || secs <= 0 {
		return resp, nil
	}
	_ = resp.Body.Close()
	return nil, &retryAfterError{err: fmt.Errorf("rate limited (HTTP 429), retry after %ds", secs), after: time.Duration(secs) * time.Second}
}

// Registry picks the client for a model name.
type Registry struct {
	// Scripted serves the model name "scripted" in-process (a test double).
	Scripted openai.HTTPDoer
	// Getenv reads keys; defaults to os.Getenv.
	Getenv func(string) string
}

// ScriptedModel is the name of the deterministic test-double model.
const ScriptedModel = "scripted"

// Client returns the client for model.
func (r *Registry) Client(model string) (Client, error) {
	getenv := r.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if model == "" {
		return nil, &PermanentError{Err: errors.New("no model given")}
	}
	if model == ScriptedModel {
		if r.Scripted == nil {
			return nil, &PermanentError{Err: errors.New("scripted model is not available in this worker")}
		}
		return NewOpenAI("scripted", "http://scripted.local/v1", r.Scripted), nil
	}
	key, base := getenv("OPENAI_API_KEY"), getenv("OPENAI_BASE_URL")
	if key == "" && base == "" {
		return nil, &PermanentError{Err: fmt.Errorf("model %q needs OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server) in the worker's environment", model)}
	}
	return NewOpenAI(key, base, nil), nil
}
