package llm

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCatalogLookup(t *testing.T) {
	c := NewCatalog()
	// Every model name users know from the reference system resolves.
	for _, tt := range []struct{ name, provider, api string }{
		{"claude-3-5-sonnet-20240620", ProviderAnthropic, "claude-3-5-sonnet-20240620"},
		{"claude-3-5-sonnet-20241022", ProviderAnthropic, "claude-3-5-sonnet-20241022"},
		{"gpt-4o-2024-05-13", ProviderOpenAI, "gpt-4o-2024-05-13"},
		{"gpt-4o-2024-08-06", ProviderOpenAI, "gpt-4o-2024-08-06"},
		{"gpt-4o-mini", ProviderOpenAI, "gpt-4o-mini"},
		{"o1", ProviderOpenAI, "o1"},
		{"o3-mini", ProviderOpenAI, "o3-mini"},
		{"gpt-4.1-2025-04-14", ProviderOpenAI, "gpt-4.1-2025-04-14"},
		{"deepseek-chat", ProviderDeepSeek, "deepseek-chat"},
		{"deepseek-reasoner", ProviderDeepSeek, "deepseek-reasoner"},
		{"llama3.1-405b", ProviderOpenRouter, "meta-llama/llama-3.1-405b-instruct"},
		{"gemini-1.5-pro", ProviderGemini, "gemini-1.5-pro"},
		{"gemini-2.5-flash", ProviderGemini, "gemini-2.5-flash"},
		{"bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0", ProviderBedrock, "anthropic.claude-3-5-sonnet-20241022-v2:0"},
		{"bedrock/anthropic.claude-3-haiku-20240307-v1:0", ProviderBedrock, "anthropic.claude-3-haiku-20240307-v1:0"},
		{"vertex_ai/claude-3-5-sonnet-v2@20241022", ProviderVertex, "claude-3-5-sonnet-v2@20241022"},
		{"vertex_ai/claude-3-5-sonnet@20240620", ProviderVertex, "claude-3-5-sonnet@20240620"},
		{"vertex_ai/claude-3-7-sonnet@20250219", ProviderVertex, "claude-3-7-sonnet@20250219"},
		{"vertex_ai/claude-sonnet-4@20250514", ProviderVertex, "claude-sonnet-4@20250514"},
		{"vertex_ai/claude-opus-4-1@20250805", ProviderVertex, "claude-opus-4-1@20250805"},
		{"ollama/llama3.1", ProviderLocal, "llama3.1"},
		{"scripted", ProviderScripted, "scripted"},
	} {
		m, err := c.Lookup(tt.name)
		if err != nil || m.Provider != tt.provider || m.APIModel != tt.api {
			t.Errorf("Lookup(%q) = %+v, %v; want provider %s, api %s", tt.name, m, err, tt.provider, tt.api)
		}
	}
	// Vertex AI's other models do not speak the Messages API.
	if m, err := c.Lookup("vertex_ai/gemini-1.5-pro"); err == nil {
		t.Errorf("vertex_ai/gemini-1.5-pro resolved to %+v; want unknown", m)
	}
	for _, name := range []string{"vertex_ai/claude-3-5-sonnet-v2@20241022", "vertex_ai/claude-sonnet-4@20250514"} {
		if m, _ := c.Lookup(name); m.InputPerM != 3 || m.OutputPerM != 15 || m.CachedInputPerM != 0.3 {
			t.Errorf("%s prices = %v/%v/%v, want Anthropic's 3/15/0.3", name, m.InputPerM, m.OutputPerM, m.CachedInputPerM)
		}
	}
	_, err := c.Lookup("gpt-5-imaginary")
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "gpt-4o-mini") || !strings.Contains(err.Error(), "AISCI_MODELS") {
		t.Errorf("unknown model error = %v; want a permanent error listing names and how to add one", err)
	}
}

func TestModelCost(t *testing.T) {
	m, _ := NewCatalog().Lookup("gpt-4o-2024-08-06") // $2.50 in, $1.25 cached, $10 out per million
	got := m.Cost(Usage{PromptTokens: 1_000_000, CachedPromptTokens: 400_000, CompletionTokens: 100_000})
	want := 0.6*2.5 + 0.4*1.25 + 0.1*10
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("cost = %v, want %v", got, want)
	}
	free, _ := NewCatalog().Lookup("scripted")
	if free.Cost(Usage{PromptTokens: 5000, CompletionTokens: 5000}) != 0 {
		t.Error("the scripted model must cost nothing")
	}
}

func TestModelsFileOverrides(t *testing.T) {
	path := filepath.Join(t.TempDir(), "models.json")
	if err := os.WriteFile(path, []byte(`[{"name": "my-vllm", "provider": "local", "api_model": "Qwen/Qwen2.5-7B", "base_url": "http://127.0.0.1:8000/v1", "input_per_m": 0, "output_per_m": 0},
	{"name": "gpt-4o-mini", "provider": "openai", "input_per_m": 1, "output_per_m": 2}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	extra, err := LoadModelsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCatalog(extra...)
	if m, err := c.Lookup("my-vllm"); err != nil || m.APIModel != "Qwen/Qwen2.5-7B" || m.BaseURL == "" {
		t.Errorf("my-vllm = %+v, %v", m, err)
	}
	if m, _ := c.Lookup("gpt-4o-mini"); m.InputPerM != 1 || m.OutputPerM != 2 {
		t.Errorf("override not applied: %+v", m)
	}
	if err := os.WriteFile(path, []byte(`[{"name": "x"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadModelsFile(path); err == nil || !strings.Contains(err.Error(), "provider") {
		t.Errorf("entry without provider accepted: %v", err)
	}
}

func TestRegistryMissingKeysNameTheVariable(t *testing.T) {
	r := &Registry{Getenv: func(string) string { return "" }}
	for model, env := range map[string]string{
		"gpt-4o-mini":                "OPENAI_API_KEY",
		"deepseek-chat":              "DEEPSEEK_API_KEY",
		"llama3.1-405b":              "OPENROUTER_API_KEY",
		"gemini-1.5-pro":             "GEMINI_API_KEY",
		"claude-3-5-sonnet-20241022": "ANTHROPIC_API_KEY",
		"local/qwen":                 "--llm-base-url",
		"vertex_ai/claude-3-5-sonnet-v2@20241022": "VERTEXAI_PROJECT",
	} {
		_, err := r.Client(model)
		if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), env) {
			t.Errorf("Client(%q) = %v; want a permanent error naming %s", model, err, env)
		}
	}
}

// TestUnpriced: family matches and models-file entries without prices are
// unpriced (cost unknown, no budget); local models and explicit zeros are
// free; the reference's names are all known and priced.
func TestUnpriced(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "models.json")
	if err := os.WriteFile(file, []byte(`[{"name": "my-proxy", "provider": "openai"}, {"name": "my-free", "provider": "openai", "input_per_m": 0, "output_per_m": 0}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	extra, err := LoadModelsFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCatalog(extra...)
	for _, tt := range []struct {
		name     string
		unpriced bool
	}{
		{"bedrock/anthropic.claude-unknown-v9:0", true},
		{"vertex_ai/claude-future@20300101", true},
		{"gemini-9.0-ultra", true},
		{"my-proxy", true},
		{"my-free", false},
		{"ollama/llama3", false},
		{"gpt-4.1-2025-04-14", false},
	} {
		m, err := c.Lookup(tt.name)
		if err != nil || m.Unpriced != tt.unpriced {
			t.Errorf("%s: unpriced = %v, %v; want %v", tt.name, m.Unpriced, err, tt.unpriced)
		}
	}
	for _, name := range []string{"claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20241022", "gpt-4o-mini-2024-07-18", "gpt-4o-2024-05-13",
		"gpt-4o-2024-08-06", "o1-preview-2024-09-12", "o1-mini-2024-09-12", "o1-2024-12-17", "o3-mini-2025-01-31", "deepseek-coder",
		"deepseek-coder-v2-0724", "deepseek-chat", "deepseek-reasoner", "llama3.1-405b", "bedrock/anthropic.claude-3-sonnet-20240229-v1:0",
		"bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0",
		"bedrock/anthropic.claude-3-haiku-20240307-v1:0", "bedrock/anthropic.claude-3-opus-20240229-v1:0", "vertex_ai/claude-3-opus@20240229",
		"vertex_ai/claude-3-5-sonnet@20240620", "vertex_ai/claude-3-5-sonnet-v2@20241022", "vertex_ai/claude-3-sonnet@20240229",
		"vertex_ai/claude-3-haiku@20240307"} {
		m, err := c.Lookup(name)
		if err != nil || m.Unpriced || m.InputPerM == 0 || m.OutputPerM == 0 || m.MaxOutput == 0 {
			t.Errorf("%s: %+v, %v; want a priced model with its output cap", name, m, err)
		}
	}
}

func TestRequestTokens(t *testing.T) {
	for _, tt := range []struct {
		name  string
		m     ModelInfo
		asked int
		want  int
	}{
		{"the default cap", ModelInfo{MaxOutput: 16384}, 0, DefaultOutputCap},
		{"the model's own cap", ModelInfo{MaxOutput: 16384, OutputCap: 12000}, 0, 12000},
		{"a small model's maximum", ModelInfo{MaxOutput: 4096}, 0, 4096},
		{"asked for", ModelInfo{MaxOutput: 16384}, 1000, 1000},
		{"never past the maximum", ModelInfo{MaxOutput: 16384}, 50000, 16384},
		{"a reasoning model thinks on top", ModelInfo{MaxOutput: 100000, Reasoning: true}, 0, DefaultOutputCap + DefaultReasoningTokens},
		{"its own allowance", ModelInfo{MaxOutput: 100000, Reasoning: true, ReasoningTokens: 30000}, 4096, 34096},
		{"within its maximum", ModelInfo{MaxOutput: 32768, Reasoning: true, ReasoningTokens: 30000}, 0, 32768},
	} {
		if got := tt.m.RequestTokens(tt.asked); got != tt.want {
			t.Errorf("%s: RequestTokens(%d) = %d, want %d", tt.name, tt.asked, got, tt.want)
		}
	}
}

func TestContextOverflowRecognised(t *testing.T) {
	for _, msg := range []string{
		"This model's maximum context length is 65536 tokens. However, you requested 70000 tokens (context_length_exceeded)",
		"prompt is too long: 210000 tokens > 200000 maximum",
		"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
		"Input is too long for requested model.",
	} {
		err := ProviderError("P", "m", "KEY", 400, 0, errors.New(msg))
		if !IsContextOverflow(err) || !IsPermanent(err) {
			t.Errorf("%q: overflow %v, permanent %v", msg, IsContextOverflow(err), IsPermanent(err))
		}
	}
	if err := ProviderError("P", "m", "KEY", 400, 0, errors.New("invalid value for temperature")); IsContextOverflow(err) {
		t.Error("a plain bad request taken for an overflow")
	}
}
