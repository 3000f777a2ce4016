package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
)

const (
	anthropicProvider = "Anthropic"
	anthropicKeyEnv   = "ANTHROPIC_API_KEY"

	// anthropicCacheMinChars is the size from which the first user turn is
	// marked as a prompt-cache breakpoint: a prefix this long (file contents,
	// the paper every reviewer reads) is worth caching across calls.
	anthropicCacheMinChars = 4000
)

// Anthropic is the native Anthropic Messages API, reached directly or through
// a cloud that serves the same API (Vertex AI, see NewVertex).
type Anthropic struct {
	client anthropic.Client
	// cfgErr is a configuration mistake found at construction; Chat returns it
	// (permanently) instead of sending anything.
	cfgErr error
	// provider and keyEnv name the service and what to check in errors.
	provider, keyEnv string
}

// NewAnthropic builds a client for the Messages API with apiKey. baseURL is
// the API root without /v1 (empty: the SDK's default, api.anthropic.com).
// httpClient may be nil for a client with a 10-minute timeout.
//
// The caller reads ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL; the SDK's own
// environment and profile-file lookups are switched off so that what is passed
// here is exactly what is used. The SDK does not retry: Temporal does.
func NewAnthropic(apiKey, baseURL string, httpClient *http.Client) *Anthropic {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 10 * time.Minute}
	}
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithAPIKey(apiKey),
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(0),
	}
	a := &Anthropic{provider: anthropicProvider, keyEnv: anthropicKeyEnv}
	if baseURL != "" {
		u, err := url.Parse(baseURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			a.cfgErr = &PermanentError{Err: fmt.Errorf("invalid Anthropic base URL %q (check ANTHROPIC_BASE_URL; want e.g. https://api.anthropic.com)", baseURL)}
		} else {
			opts = append(opts, option.WithBaseURL(baseURL))
		}
	}
	a.client = anthropic.NewClient(opts...)
	return a
}

// Chat sends req; N > 1 makes N calls, since the API has no n parameter.
func (a *Anthropic) Chat(ctx context.Context, req Request) (Response, error) {
	if a.cfgErr != nil {
		return Response{}, a.cfgErr
	}
	params, err := anthropicParams(req)
	if err != nil {
		return Response{}, err
	}
	return sampleN(req.N, func() (string, string, Usage, error) { return a.call(ctx, req.Model, params) })
}

// call makes one Messages API request.
func (a *Anthropic) call(ctx context.Context, model string, params anthropic.MessageNewParams) (string, string, Usage, error) {
	var raw *http.Response
	msg, err := a.client.Messages.New(ctx, params, option.WithResponseInto(&raw))
	if err != nil {
		return "", "", Usage{}, a.fail(ctx, model, raw, err)
	}
	if msg == nil || !msg.JSON.Content.Valid() {
		// A 200 whose JSON is not a message (a proxy's own envelope, say).
		return "", "", Usage{}, ProviderError(a.provider, model, a.keyEnv, 0, 0,
			fmt.Errorf("response is not a Messages API message (no content field)%s", anthropicBodyHint(raw)))
	}
	var text strings.Builder
	for _, b := range msg.Content {
		if b.Type == "text" {
			text.WriteString(b.Text)
		}
	}
	u := msg.Usage
	usage := Usage{
		PromptTokens:       int(u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens),
		CachedPromptTokens: int(u.CacheReadInputTokens),
		CompletionTokens:   int(u.OutputTokens),
		Calls:              1,
	}
	return text.String(), anthropicFinish(msg.StopReason), usage, nil
}

// fail maps an SDK error onto the shared retry policy.
func (a *Anthropic) fail(ctx context.Context, model string, raw *http.Response, err error) error {
	var apiErr *anthropic.Error
	if errors.As(err, &apiErr) {
		var after string
		if apiErr.Response != nil {
			after = apiErr.Response.Header.Get("retry-after")
		}
		return ProviderError(a.provider, model, a.keyEnv, apiErr.StatusCode, ParseRetryAfter(after, time.Now()), err)
	}
	if vertexTokenRefused(err) {
		// Vertex AI: the request never left, Google would not mint a token.
		return ProviderError(a.provider, model, a.keyEnv, http.StatusUnauthorized, 0, err)
	}
	if ctx.Err() == nil && raw != nil && raw.StatusCode < 400 {
		// The call got a success status but its body could not be read or
		// decoded: typically an HTML page from a proxy or captive portal.
		err = fmt.Errorf("unreadable response body%s: %w", anthropicBodyHint(raw), err)
	}
	// Network errors, timeouts, undecodable bodies: retryable.
	return ProviderError(a.provider, model, a.keyEnv, 0, 0, err)
}

// anthropicBodyHint describes a response for error messages.
func anthropicBodyHint(raw *http.Response) string {
	if raw == nil {
		return ""
	}
	return fmt.Sprintf(" (HTTP %d, Content-Type %q)", raw.StatusCode, raw.Header.Get("Content-Type"))
}

// anthropicFinish normalises a stop_reason.
func anthropicFinish(r anthropic.StopReason) string {
	switch r {
	case anthropic.StopReasonEndTurn, anthropic.StopReasonStopSequence:
		return FinishStop
	case anthropic.StopReasonMaxTokens:
		return FinishLength
	}
	return string(r)
}

// anthropicParams builds the request body; its errors are permanent.
func anthropicParams(req Request) (anthropic.MessageNewParams, error) {
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	// The SDK refuses non-streaming calls whose output could take over ten
	// minutes; say so up front rather than let Temporal retry it.
	if _, err := anthropic.CalculateNonStreamingTimeout(maxTokens, anthropic.Model(req.Model), nil); err != nil {
		return anthropic.MessageNewParams{}, &PermanentError{Err: fmt.Errorf("Anthropic model %s: max_tokens %d is too large for a non-streaming request; lower MaxTokens: %w", req.Model, maxTokens, err)}
	}
	msgs, err := anthropicMessages(req.Messages)
	if err != nil {
		return anthropic.MessageNewParams{}, &PermanentError{Err: fmt.Errorf("Anthropic model %s: %w", req.Model, err)}
	}
	params := anthropic.MessageNewParams{
		Model:       anthropic.Model(req.Model),
		MaxTokens:   int64(maxTokens),
		Messages:    msgs,
		Temperature: anthropic.Float(anthropicTemperature(req.Temperature)),
	}
	if strings.TrimSpace(req.System) != "" {
		params.System = []anthropic.TextBlockParam{{Text: req.System, CacheControl: anthropic.NewCacheControlEphemeralParam()}}
	}
	return params, nil
}

// anthropicMessages turns the conversation into alternating user/assistant
// turns: consecutive messages of one role become one turn of several text
// blocks, and blank messages (which the API rejects) are dropped. The first
// user turn, when long, ends with a prompt-cache breakpoint.
func anthropicMessages(in []Message) ([]anthropic.MessageParam, error) {
	var out []anthropic.MessageParam
	for i, m := range in {
		var role anthropic.MessageParamRole
		switch m.Role {
		case "user":
			role = anthropic.MessageParamRoleUser
		case "assistant":
			role = anthropic.MessageParamRoleAssistant
		default:
			return nil, fmt.Errorf("message %d has role %q; the Messages API takes only user and assistant turns (instructions go in Request.System)", i, m.Role)
		}
		if strings.TrimSpace(m.Content) == "" {
			continue
		}
		if len(out) == 0 && role == anthropic.MessageParamRoleAssistant {
			return nil, fmt.Errorf("the conversation starts with an assistant message (message %d); the Messages API requires the first turn to be from the user", i)
		}
		block := anthropic.NewTextBlock(m.Content)
		if last := len(out) - 1; last >= 0 && out[last].Role == role {
			out[last].Content = append(out[last].Content, block)
			continue
		}
		out = append(out, anthropic.MessageParam{Role: role, Content: []anthropic.ContentBlockParamUnion{block}})
	}
	if len(out) == 0 {
		return nil, errors.New("no non-empty messages to send")
	}
	first := out[0].Content
	chars := 0
	for _, b := range first {
		chars += utf8.RuneCountInString(b.OfText.Text)
	}
	if chars >= anthropicCacheMinChars {
		first[len(first)-1].OfText.CacheControl = anthropic.NewCacheControlEphemeralParam()
	}
	return out, nil
}

// anthropicTemperature widens f keeping its shortest decimal form, so 0.7 is sent as
// 0.7 and not 0.699999988079071.
func anthropicTemperature(f float32) float64 {
	v, err := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	if err != nil {
		return float64(f)
	}
	return v
}
