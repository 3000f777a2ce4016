package llm

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
)

// Providers.
const (
	ProviderOpenAI     = "openai"     // OpenAI and any OpenAI-compatible server
	ProviderAnthropic  = "anthropic"  // Anthropic Messages API
	ProviderBedrock    = "bedrock"    // Claude on Amazon Bedrock (Converse)
	ProviderVertex     = "vertex"     // Claude on Google Vertex AI (Messages API via rawPredict)
	ProviderDeepSeek   = "deepseek"   // OpenAI-compatible
	ProviderOpenRouter = "openrouter" // OpenAI-compatible
	ProviderGemini     = "gemini"     // Gemini's OpenAI-compatible endpoint
	ProviderLocal      = "local"      // Ollama, vLLM, llama.cpp: OpenAI-compatible, no key
	ProviderScripted   = "scripted"   // the in-process test double
)

// ModelInfo describes one model name users can pass.
type ModelInfo struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	// APIModel is the provider's id; empty means Name.
	APIModel string `json:"api_model,omitempty"`
	// BaseURL overrides the provider's endpoint (OpenAI-compatible
	// providers, Anthropic, Bedrock, Vertex AI).
	BaseURL       string `json:"base_url,omitempty"`
	ContextWindow int    `json:"context_window,omitempty"`
	// MaxOutput is the most output tokens the model can give in one reply
	// (for reasoning models, hidden reasoning included).
	MaxOutput int `json:"max_output,omitempty"`
	// OutputCap is what a reply is given when the caller sets no limit
	// (0: DefaultOutputCap, at most MaxOutput); a reply cut off there is
	// asked again with more room, up to MaxOutput.
	OutputCap int `json:"output_cap,omitempty"`
	// ReasoningTokens is what a reasoning model may think on top of its
	// answer's tokens (0: DefaultReasoningTokens), within MaxOutput; and
	// ReasoningEffort ("low", "medium", "high"; empty: the provider's
	// default) is passed on to providers that take it.
	ReasoningTokens int    `json:"reasoning_tokens,omitempty"`
	ReasoningEffort string `json:"reasoning_effort,omitempty"`
	// Prices in US dollars per million tokens; cached input defaults to input.
	InputPerM       float64 `json:"input_per_m"`
	OutputPerM      float64 `json:"output_per_m"`
	CachedInputPerM float64 `json:"cached_input_per_m,omitempty"`
	// Reasoning models (o1, o3): no system role, no temperature,
	// max_completion_tokens instead of max_tokens.
	Reasoning bool `json:"reasoning,omitempty"`
	// Unpriced: no price is known (a family match, or a models-file entry
	// without prices), so its cost shows as unknown and a budget cannot
	// limit it. Local models are free, not unpriced.
	Unpriced bool `json:"-"`
}

// UnpricedHint says how to give a model its price.
const UnpricedHint = `add its prices in a models file (--models FILE or AISCI_MODELS: [{"name": ..., "provider": ..., "input_per_m": ..., "output_per_m": ...}], US dollars per million tokens)`

// free: providers whose calls cost nothing.
func free(provider string) bool { return provider == ProviderLocal || provider == ProviderScripted }

// DefaultOutputCap is the reply length asked for when neither the caller
// nor the model's entry sets one: twice the reference's 4,096 (which cut
// off 16 of 465 real Claude calls), within every listed model's maximum
// and short enough for a non-streaming Anthropic call.
const DefaultOutputCap = 8192

// DefaultReasoningTokens is a reasoning model's allowance for thinking, on
// top of its answer (OpenAI advises reserving about 25,000 in all).
const DefaultReasoningTokens = 16384

// RequestTokens is the output limit to send for a reply of asked tokens
// (0: the model's OutputCap): a reasoning model gets its thinking
// allowance on top; nothing passes MaxOutput.
func (m ModelInfo) RequestTokens(asked int) int {
	out := asked
	if out <= 0 {
		out = m.OutputCap
		if out <= 0 {
			out = DefaultOutputCap
		}
	}
	if m.Reasoning {
		r := m.ReasoningTokens
		if r <= 0 {
			r = DefaultReasoningTokens
		}
		out += r
	}
	if m.MaxOutput > 0 && out > m.MaxOutput {
		out = m.MaxOutput
	}
	return out
}

// Cost prices a usage with this model's rates.
func (m ModelInfo) Cost(u Usage) float64 {
	cachedRate := m.CachedInputPerM
	if cachedRate == 0 {
		cachedRate = m.InputPerM
	}
	fresh := u.PromptTokens - u.CachedPromptTokens
	return (float64(fresh)*m.InputPerM + float64(u.CachedPromptTokens)*cachedRate + float64(u.CompletionTokens)*m.OutputPerM) / 1e6
}

// builtinModels are the names the reference system's users know, with list
// prices at the time of writing. Override or add any of them with a models
// file (AISCI_MODELS or --models) instead of changing code.
var builtinModels = []ModelInfo{
	{Name: "scripted", Provider: ProviderScripted, ContextWindow: 1 << 20, MaxOutput: 1 << 16, OutputCap: 4096},
	{Name: "claude-3-5-sonnet-20240620", Provider: ProviderAnthropic, ContextWindow: 200000, MaxOutput: 8192, InputPerM: 3, OutputPerM: 15, CachedInputPerM: 0.3},
	{Name: "claude-3-5-sonnet-20241022", Provider: ProviderAnthropic, ContextWindow: 200000, MaxOutput: 8192, InputPerM: 3, OutputPerM: 15, CachedInputPerM: 0.3},
	{Name: "gpt-4o-2024-05-13", Provider: ProviderOpenAI, ContextWindow: 128000, MaxOutput: 4096, InputPerM: 5, OutputPerM: 15},
	{Name: "gpt-4o-2024-08-06", Provider: ProviderOpenAI, ContextWindow: 128000, MaxOutput: 16384, InputPerM: 2.5, OutputPerM: 10, CachedInputPerM: 1.25},
	{Name: "gpt-4o", Provider: ProviderOpenAI, ContextWindow: 128000, MaxOutput: 16384, InputPerM: 2.5, OutputPerM: 10, CachedInputPerM: 1.25},
	{Name: "gpt-4o-mini", Provider: ProviderOpenAI, ContextWindow: 128000, MaxOutput: 16384, InputPerM: 0.15, OutputPerM: 0.6, CachedInputPerM: 0.075},
	{Name: "gpt-4o-mini-2024-07-18", Provider: ProviderOpenAI, ContextWindow: 128000, MaxOutput: 16384, InputPerM: 0.15, OutputPerM: 0.6, CachedInputPerM: 0.075},
	{Name: "gpt-4o-2024-11-20", Provider: ProviderOpenAI, ContextWindow: 128000, MaxOutput: 16384, InputPerM: 2.5, OutputPerM: 10, CachedInputPerM: 1.25},
	{Name: "o1-2024-12-17", Provider: ProviderOpenAI, ContextWindow: 200000, MaxOutput: 100000, InputPerM: 15, OutputPerM: 60, CachedInputPerM: 7.5, Reasoning: true},
	{Name: "o1-preview-2024-09-12", Provider: ProviderOpenAI, ContextWindow: 128000, MaxOutput: 32768, InputPerM: 15, OutputPerM: 60, CachedInputPerM: 7.5, Reasoning: true},
	{Name: "o1-mini-2024-09-12", Provider: ProviderOpenAI, ContextWindow: 128000, MaxOutput: 65536, InputPerM: 1.1, OutputPerM: 4.4, CachedInputPerM: 0.55, Reasoning: true},
	{Name: "o3-mini-2025-01-31", Provider: ProviderOpenAI, ContextWindow: 200000, MaxOutput: 100000, InputPerM: 1.1, OutputPerM: 4.4, CachedInputPerM: 0.55, Reasoning: true},
	{Name: "o3", Provider: ProviderOpenAI, ContextWindow: 200000, MaxOutput: 100000, InputPerM: 2, OutputPerM: 8, CachedInputPerM: 0.5, Reasoning: true},
	{Name: "o4-mini", Provider: ProviderOpenAI, ContextWindow: 200000, MaxOutput: 100000, InputPerM: 1.1, OutputPerM: 4.4, CachedInputPerM: 0.275, Reasoning: true},
	{Name: "o1", Provider: ProviderOpenAI, ContextWindow: 200000, MaxOutput: 100000, InputPerM: 15, OutputPerM: 60, CachedInputPerM: 7.5, Reasoning: true},
	{Name: "o1-preview", Provider: ProviderOpenAI, ContextWindow: 128000, MaxOutput: 32768, InputPerM: 15, OutputPerM: 60, CachedInputPerM: 7.5, Reasoning: true},
	{Name: "o1-mini", Provider: ProviderOpenAI, ContextWindow: 128000, MaxOutput: 65536, InputPerM: 1.1, OutputPerM: 4.4, CachedInputPerM: 0.55, Reasoning: true},
	{Name: "o3-mini", Provider: ProviderOpenAI, ContextWindow: 200000, MaxOutput: 100000, InputPerM: 1.1, OutputPerM: 4.4, CachedInputPerM: 0.55, Reasoning: true},
	{Name: "gpt-4.1", Provider: ProviderOpenAI, ContextWindow: 1047576, MaxOutput: 32768, InputPerM: 2, OutputPerM: 8, CachedInputPerM: 0.5},
	{Name: "gpt-4.1-mini", Provider: ProviderOpenAI, ContextWindow: 1047576, MaxOutput: 32768, InputPerM: 0.4, OutputPerM: 1.6, CachedInputPerM: 0.1},
	{Name: "gpt-4.1-nano", Provider: ProviderOpenAI, ContextWindow: 1047576, MaxOutput: 32768, InputPerM: 0.1, OutputPerM: 0.4, CachedInputPerM: 0.025},
	{Name: "deepseek-chat", Provider: ProviderDeepSeek, ContextWindow: 64000, MaxOutput: 8192, InputPerM: 0.27, OutputPerM: 1.1, CachedInputPerM: 0.07},
	// deepseek-coder now answers as deepseek-chat, at its price; the
	// reference's deepseek-coder-v2-0724 is sent as deepseek-coder.
	{Name: "deepseek-coder", Provider: ProviderDeepSeek, ContextWindow: 64000, MaxOutput: 8192, InputPerM: 0.27, OutputPerM: 1.1, CachedInputPerM: 0.07},
	{Name: "deepseek-coder-v2-0724", Provider: ProviderDeepSeek, APIModel: "deepseek-coder", ContextWindow: 64000, MaxOutput: 8192, InputPerM: 0.27, OutputPerM: 1.1, CachedInputPerM: 0.07},
	{Name: "deepseek-reasoner", Provider: ProviderDeepSeek, ContextWindow: 64000, MaxOutput: 8192, InputPerM: 0.55, OutputPerM: 2.19, CachedInputPerM: 0.14},
	{Name: "llama3.1-405b", Provider: ProviderOpenRouter, APIModel: "meta-llama/llama-3.1-405b-instruct", ContextWindow: 131072, MaxOutput: 4096, InputPerM: 0.8, OutputPerM: 0.8},
	{Name: "llama-3-1-405b-instruct", Provider: ProviderOpenRouter, APIModel: "meta-llama/llama-3.1-405b-instruct", ContextWindow: 131072, MaxOutput: 4096, InputPerM: 0.8, OutputPerM: 0.8},
	{Name: "claude-3-opus-20240229", Provider: ProviderAnthropic, ContextWindow: 200000, MaxOutput: 4096, InputPerM: 15, OutputPerM: 75, CachedInputPerM: 1.5},
	{Name: "claude-3-haiku-20240307", Provider: ProviderAnthropic, ContextWindow: 200000, MaxOutput: 4096, InputPerM: 0.25, OutputPerM: 1.25, CachedInputPerM: 0.03},
	{Name: "claude-3-5-haiku-20241022", Provider: ProviderAnthropic, ContextWindow: 200000, MaxOutput: 8192, InputPerM: 0.8, OutputPerM: 4, CachedInputPerM: 0.08},
	{Name: "gemini-1.5-flash", Provider: ProviderGemini, ContextWindow: 1048576, MaxOutput: 8192, InputPerM: 0.075, OutputPerM: 0.3},
	{Name: "gemini-1.5-pro", Provider: ProviderGemini, ContextWindow: 2097152, MaxOutput: 8192, InputPerM: 1.25, OutputPerM: 5},
	{Name: "gemini-2.0-flash", Provider: ProviderGemini, ContextWindow: 1048576, MaxOutput: 8192, InputPerM: 0.1, OutputPerM: 0.4},
	{Name: "gemini-2.5-flash", Provider: ProviderGemini, ContextWindow: 1048576, MaxOutput: 65536, InputPerM: 0.3, OutputPerM: 2.5},
	{Name: "gemini-2.5-pro", Provider: ProviderGemini, ContextWindow: 1048576, MaxOutput: 65536, InputPerM: 1.25, OutputPerM: 10},
	{Name: "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", Provider: ProviderBedrock, ContextWindow: 200000, MaxOutput: 8192, InputPerM: 3, OutputPerM: 15},
	{Name: "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0", Provider: ProviderBedrock, ContextWindow: 200000, MaxOutput: 8192, InputPerM: 3, OutputPerM: 15},
	{Name: "bedrock/anthropic.claude-3-sonnet-20240229-v1:0", Provider: ProviderBedrock, ContextWindow: 200000, MaxOutput: 4096, InputPerM: 3, OutputPerM: 15},
	{Name: "bedrock/anthropic.claude-3-haiku-20240307-v1:0", Provider: ProviderBedrock, ContextWindow: 200000, MaxOutput: 4096, InputPerM: 0.25, OutputPerM: 1.25},
	{Name: "bedrock/anthropic.claude-3-opus-20240229-v1:0", Provider: ProviderBedrock, ContextWindow: 200000, MaxOutput: 4096, InputPerM: 15, OutputPerM: 75},
	// Vertex AI bills Claude at Anthropic's list prices, cache reads included.
	{Name: "vertex_ai/claude-3-5-sonnet@20240620", Provider: ProviderVertex, ContextWindow: 200000, MaxOutput: 8192, InputPerM: 3, OutputPerM: 15, CachedInputPerM: 0.3},
	{Name: "vertex_ai/claude-3-5-sonnet-v2@20241022", Provider: ProviderVertex, ContextWindow: 200000, MaxOutput: 8192, InputPerM: 3, OutputPerM: 15, CachedInputPerM: 0.3},
	{Name: "vertex_ai/claude-3-opus@20240229", Provider: ProviderVertex, ContextWindow: 200000, MaxOutput: 4096, InputPerM: 15, OutputPerM: 75, CachedInputPerM: 1.5},
	{Name: "vertex_ai/claude-3-sonnet@20240229", Provider: ProviderVertex, ContextWindow: 200000, MaxOutput: 4096, InputPerM: 3, OutputPerM: 15},
	{Name: "vertex_ai/claude-3-haiku@20240307", Provider: ProviderVertex, ContextWindow: 200000, MaxOutput: 4096, InputPerM: 0.25, OutputPerM: 1.25, CachedInputPerM: 0.03},
	{Name: "vertex_ai/claude-3-7-sonnet@20250219", Provider: ProviderVertex, ContextWindow: 200000, MaxOutput: 64000, InputPerM: 3, OutputPerM: 15, CachedInputPerM: 0.3},
	{Name: "vertex_ai/claude-sonnet-4@20250514", Provider: ProviderVertex, ContextWindow: 200000, MaxOutput: 64000, InputPerM: 3, OutputPerM: 15, CachedInputPerM: 0.3},
}

// routePrefix is the part of a provider's model names that only picks the
// provider; the provider's model id is what follows it.
var routePrefix = map[string]string{ProviderBedrock: "bedrock/", ProviderVertex: "vertex_ai/"}

// Prefix rules for families whose exact names vary: the first match wins.
var prefixRules = []struct {
	prefix string
	info   ModelInfo
}{
	{"bedrock/", ModelInfo{Provider: ProviderBedrock, ContextWindow: 200000, MaxOutput: 4096}},
	// Only Claude: Vertex AI's other models do not speak the Messages API.
	{"vertex_ai/claude-", ModelInfo{Provider: ProviderVertex, ContextWindow: 200000, MaxOutput: 4096}},
	{"gemini-", ModelInfo{Provider: ProviderGemini, ContextWindow: 1048576, MaxOutput: 8192}},
	{"gpt-4.1", ModelInfo{Provider: ProviderOpenAI, ContextWindow: 1047576, MaxOutput: 32768, InputPerM: 2, OutputPerM: 8, CachedInputPerM: 0.5}},
	{"ollama/", ModelInfo{Provider: ProviderLocal, BaseURL: "http://127.0.0.1:11434/v1", ContextWindow: 8192, MaxOutput: 4096}},
	{"local/", ModelInfo{Provider: ProviderLocal, ContextWindow: 8192, MaxOutput: 4096}},
}

// Catalog resolves model names.
type Catalog struct{ models map[string]ModelInfo }

// NewCatalog holds the built-in models plus overrides (same name replaces).
func NewCatalog(overrides ...ModelInfo) *Catalog {
	c := &Catalog{models: map[string]ModelInfo{}}
	for _, m := range append(slices.Clone(builtinModels), overrides...) {
		c.models[m.Name] = m
	}
	return c
}

// LoadModelsFile reads a JSON list of ModelInfo (see README) to override or
// extend the built-in table.
func LoadModelsFile(path string) ([]ModelInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("models file: %w", err)
	}
	var ms []ModelInfo
	if err := json.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("models file %s: want a JSON list of {\"name\", \"provider\", ...}: %w", path, err)
	}
	var raw []map[string]json.RawMessage
	_ = json.Unmarshal(b, &raw)
	for i, m := range ms {
		if m.Name == "" || m.Provider == "" {
			return nil, fmt.Errorf("models file %s: entry %d needs \"name\" and \"provider\"", path, i)
		}
		_, in := raw[i]["input_per_m"]
		_, out := raw[i]["output_per_m"]
		ms[i].Unpriced = !in && !out && !free(m.Provider) // 0 written out means free
	}
	return ms, nil
}

// Lookup resolves a name: exact entries first, then family prefixes.
// Unknown names get an error listing the known ones and how to add one.
func (c *Catalog) Lookup(name string) (ModelInfo, error) {
	if m, ok := c.models[name]; ok {
		if m.APIModel == "" {
			m.APIModel = strings.TrimPrefix(name, routePrefix[m.Provider])
		}
		return m, nil
	}
	for _, r := range prefixRules {
		if strings.HasPrefix(name, r.prefix) && len(name) > len(r.prefix) {
			m := r.info
			m.Name = name
			m.Unpriced = m.InputPerM == 0 && m.OutputPerM == 0 && !free(m.Provider)
			m.APIModel = strings.TrimPrefix(name, routePrefix[r.info.Provider])
			if r.info.Provider == ProviderLocal {
				m.APIModel = strings.TrimPrefix(name, r.prefix)
			}
			return m, nil
		}
	}
	return ModelInfo{}, &PermanentError{Err: fmt.Errorf("unknown model %q; known models: %s; families: bedrock/<model-id>, vertex_ai/claude-*, gemini-*, gpt-4.1*, ollama/<model>, local/<model> (served at --llm-base-url); add others with a models file (AISCI_MODELS=models.json: [{\"name\": ..., \"provider\": \"openai\", \"api_model\": ..., \"base_url\": ..., \"input_per_m\": ..., \"output_per_m\": ...}])",
		name, strings.Join(c.Names(), ", "))}
}

// Names lists the exact model names, sorted.
func (c *Catalog) Names() []string {
	names := make([]string, 0, len(c.models))
	for n := range c.models {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
