package llm

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ProviderError builds the error for a failed provider call from its HTTP
// status, so every provider maps failures onto retries the same way:
// 400/401/403/404 are permanent and name what to fix; 429 and 5xx are
// retryable, keeping the provider's Retry-After; anything else (network
// errors, timeouts) is retryable.
func ProviderError(provider, model, keyEnv string, status int, retryAfter time.Duration, err error) error {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return &PermanentError{Err: fmt.Errorf("%s rejected the credentials for model %s (HTTP %d; check %s): %w", provider, model, status, keyEnv, err)}
	case http.StatusNotFound:
		return &PermanentError{Err: fmt.Errorf("%s does not know model %s (HTTP 404): %w", provider, model, err)}
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
		if overflowMessage(err) {
			return &PermanentError{Err: fmt.Errorf("%s: the request for model %s is longer than its context window (HTTP %d): %w: %w", provider, model, status, ErrContextOverflow, err)}
		}
		return &PermanentError{Err: fmt.Errorf("%s refused the request for model %s (HTTP %d): %w", provider, model, status, err)}
	case http.StatusTooManyRequests:
		return &retryAfterError{err: fmt.Errorf("%s rate-limited model %s (HTTP 429): %w", provider, model, err), after: retryAfter}
	}
	if status >= 500 {
		return &retryAfterError{err: fmt.Errorf("%s failed for model %s (HTTP %d): %w", provider, model, status, err), after: retryAfter}
	}
	return fmt.Errorf("%s call for model %s: %w", provider, model, err)
}

// ErrContextOverflow: the request does not fit the model's context window.
// Permanent as it is; a caller that can shorten its conversation retries.
var ErrContextOverflow = errors.New("context window exceeded")

// IsContextOverflow reports whether err says the request was too long.
func IsContextOverflow(err error) bool { return errors.Is(err, ErrContextOverflow) }

// overflowMessage recognises the providers' words for a request longer
// than the context window (OpenAI's context_length_exceeded, DeepSeek's
// and OpenRouter's "maximum context length", Anthropic's "prompt is too
// long", Gemini's "exceeds the maximum number of tokens").
func overflowMessage(err error) bool {
	m := strings.ToLower(err.Error())
	for _, w := range []string{"context_length_exceeded", "maximum context length", "context length", "context window",
		"prompt is too long", "too many tokens", "exceeds the maximum number of tokens", "input is too long", "reduce the length"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// ParseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func ParseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if secs, err := strconv.Atoi(h); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
