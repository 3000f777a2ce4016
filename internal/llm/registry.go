package llm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Registry turns a model name into a metered client of the right provider.
type Registry struct {
	// Scripted serves the model name "scripted" in-process (a test double).
	Scripted openai.HTTPDoer
	// Getenv reads keys; defaults to os.Getenv.
	Getenv func(string) string
	// Catalog resolves names; nil means the built-in models only.
	Catalog *Catalog
	// LocalBaseURL serves local/<model> names (worker --llm-base-url).
	LocalBaseURL string
}

// ScriptedModel is the name of the deterministic test-double model.
const ScriptedModel = "scripted"

// OpenAI-compatible endpoints of the providers that have one.
var defaultBaseURL = map[string]string{
	ProviderDeepSeek:   "https://api.deepseek.com/v1",
	ProviderOpenRouter: "https://openrouter.ai/api/v1",
	ProviderGemini:     "https://generativelanguage.googleapis.com/v1beta/openai",
}

// KeyEnv is the environment variable holding each provider's key.
var KeyEnv = map[string]string{
	ProviderOpenAI:     "OPENAI_API_KEY",
	ProviderAnthropic:  "ANTHROPIC_API_KEY",
	ProviderDeepSeek:   "DEEPSEEK_API_KEY",
	ProviderOpenRouter: "OPENROUTER_API_KEY",
	ProviderGemini:     "GEMINI_API_KEY",
	ProviderBedrock:    "AWS credentials and AWS_REGION",
	ProviderVertex:     "VERTEXAI_PROJECT and Google credentials (GOOGLE_APPLICATION_CREDENTIALS)",
}

// builtinCatalog serves registries without overrides; it is never modified.
var builtinCatalog = NewCatalog()

// Model returns what the catalog knows about a name.
func (r *Registry) Model(name string) (ModelInfo, error) {
	if name == "" {
		return ModelInfo{}, &PermanentError{Err: errors.New("no model given")}
	}
	c := r.Catalog
	if c == nil {
		c = builtinCatalog
	}
	return c.Lookup(name)
}

// Client returns a client for the model that sends the provider's model id,
// caps output at the model's limit and prices every call.
func (r *Registry) Client(model string) (Client, error) {
	info, err := r.Model(model)
	if err != nil {
		return nil, err
	}
	inner, err := r.provider(info)
	if err != nil {
		return nil, err
	}
	return &metered{info: info, inner: inner}, nil
}

func (r *Registry) getenv(k string) string {
	if r.Getenv != nil {
		return r.Getenv(k)
	}
	return os.Getenv(k)
}

func (r *Registry) provider(m ModelInfo) (Client, error) {
	missing := func(env string) error { return missingEnv(m, env) }
	switch m.Provider {
	case ProviderScripted:
		if r.Scripted == nil {
			return nil, &PermanentError{Err: errors.New("scripted model is not available in this worker")}
		}
		return NewOpenAI("scripted", "http://scripted.local/v1", r.Scripted), nil
	case ProviderOpenAI:
		key, base := r.getenv("OPENAI_API_KEY"), firstNonEmpty(m.BaseURL, r.getenv("OPENAI_BASE_URL"))
		if key == "" && base == "" {
			return nil, missing("OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server)")
		}
		c := NewOpenAI(key, base, nil)
		c.Reasoning, c.Provider, c.KeyEnv = m.Reasoning, "OpenAI", "OPENAI_API_KEY"
		return c, nil
	case ProviderDeepSeek, ProviderOpenRouter, ProviderGemini:
		env := KeyEnv[m.Provider]
		key := r.getenv(env)
		if key == "" {
			return nil, missing(env)
		}
		c := NewOpenAI(key, firstNonEmpty(m.BaseURL, defaultBaseURL[m.Provider]), nil)
		c.Reasoning, c.Provider, c.KeyEnv = m.Reasoning, m.Provider, env
		return c, nil
	case ProviderLocal:
		base := firstNonEmpty(m.BaseURL, r.LocalBaseURL, r.getenv("OPENAI_BASE_URL"))
		if base == "" {
			return nil, missing("--llm-base-url (or OPENAI_BASE_URL) pointing at the local server")
		}
		c := NewOpenAI(firstNonEmpty(r.getenv("OPENAI_API_KEY"), "local"), base, nil)
		c.Provider, c.KeyEnv = "local server "+base, "--llm-base-url"
		return c, nil
	case ProviderAnthropic:
		key, base := r.getenv("ANTHROPIC_API_KEY"), firstNonEmpty(m.BaseURL, r.getenv("ANTHROPIC_BASE_URL"))
		if key == "" && base == "" {
			return nil, missing("ANTHROPIC_API_KEY")
		}
		return NewAnthropic(key, base, nil), nil
	case ProviderVertex:
		return r.vertex(m)
	case ProviderBedrock:
		return NewBedrock(context.Background(), r.getenv("AWS_REGION"), firstNonEmpty(m.BaseURL, r.getenv("AISCI_BEDROCK_ENDPOINT")))
	}
	return nil, &PermanentError{Err: fmt.Errorf("model %q: unknown provider %q", m.Name, m.Provider)}
}

// missingEnv is the permanent error for a model whose provider is not
// configured in this process.
func missingEnv(m ModelInfo, env string) error {
	return &PermanentError{Err: fmt.Errorf("model %q (%s) needs %s in the environment of the process calling it (worker or starter)", m.Name, m.Provider, env)}
}

// metered sends the provider's model id, caps output and prices usage.
type metered struct {
	info  ModelInfo
	inner Client
}

func (c *metered) Chat(ctx context.Context, req Request) (Response, error) {
	req.Model = c.info.APIModel
	req.MaxTokens = c.info.RequestTokens(req.MaxTokens)
	if req.ReasoningEffort == "" {
		req.ReasoningEffort = c.info.ReasoningEffort
	}
	m := meterFrom(ctx)
	p := replayerFrom(ctx)
	seq, key := 0, ""
	if p != nil {
		seq, key = p.seq(), RequestKey(req)
		if resp, ok := p.store.Load(seq, key); ok {
			// Paid for by an earlier attempt (whose ledger lines count it).
			resp.Usage = Usage{}
			if m != nil {
				m.replayed(c.info.Name)
			}
			return resp, nil
		}
	}
	if m != nil {
		if err := m.admit(c.info, req); err != nil {
			return Response{}, err
		}
	}
	start := time.Now()
	resp, err := c.inner.Chat(ctx, req)
	took := time.Since(start)
	if err == nil && p != nil {
		if serr := p.store.Save(seq, key, resp); serr != nil {
			return Response{}, fmt.Errorf("checkpoint the reply of %s: %w", c.info.Name, serr)
		}
	}
	resp.Usage.CostUSD = c.info.Cost(resp.Usage)
	if c.info.Unpriced {
		resp.Usage.UnpricedCalls = resp.Usage.Calls
	}
	if m != nil {
		m.count(c.info.Name, resp.Usage, err, took)
	}
	return resp, err
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
