package llm

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// stubClient answers every call with the same usage, or fails.
type stubClient struct {
	calls int
	usage Usage
	err   error
}

func (s *stubClient) Chat(context.Context, Request) (Response, error) {
	s.calls++
	if s.err != nil {
		return Response{}, s.err
	}
	return Response{Content: "ok", FinishReason: FinishStop, Usage: s.usage}, nil
}

func TestWorstCase(t *testing.T) {
	m := ModelInfo{Name: "m", InputPerM: 3, OutputPerM: 15, MaxOutput: 8192}
	tests := []struct {
		name string
		req  Request
		want float64
	}{
		{"default output cap", Request{System: "abc", Messages: []Message{{Content: "defghi"}}}, (3*3 + DefaultOutputCap*15) / 1e6},
		{"model cap wins", Request{MaxTokens: 100000}, 8192 * 15 / 1e6},
		{"prompt rounds up", Request{System: "abcd", MaxTokens: 10}, (2*3 + 10*15) / 1e6},
		{"n samples", Request{MaxTokens: 10, N: 3}, 3 * 10 * 15 / 1e6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, how := m.WorstCase(tc.req)
			if diff := got - tc.want; diff > 1e-12 || diff < -1e-12 {
				t.Errorf("WorstCase = %v, want %v (%s)", got, tc.want, how)
			}
		})
	}
}

func TestMeteredBudget(t *testing.T) {
	info := ModelInfo{Name: "priced", APIModel: "priced-1", InputPerM: 1000, OutputPerM: 1000, MaxOutput: 100}
	// One call: worst case (1 prompt token + 100 output) × $0.001 = $0.101;
	// actually charged: 15 tokens = $0.015.
	req := Request{Messages: []Message{{Role: "user", Content: "hi"}}}
	tests := []struct {
		name       string
		budget     Budget
		noMeter    bool
		calls      int // attempted in a row
		wantCalls  int // reaching the provider
		wantRefuse bool
		wantSpent  float64
	}{
		{name: "no meter", noMeter: true, calls: 3, wantCalls: 3},
		{name: "no limit", budget: Budget{}, calls: 3, wantCalls: 3, wantSpent: 0.045},
		{name: "enough for all", budget: Budget{LimitUSD: 1}, calls: 3, wantCalls: 3, wantSpent: 0.045},
		{name: "refused up front", budget: Budget{LimitUSD: 1, SpentUSD: 0.95}, calls: 1, wantCalls: 0, wantRefuse: true},
		{name: "second call refused", budget: Budget{LimitUSD: 0.11}, calls: 2, wantCalls: 1, wantRefuse: true, wantSpent: 0.015},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stub := &stubClient{usage: Usage{PromptTokens: 10, CompletionTokens: 5, Calls: 1}}
			c := &metered{info: info, inner: stub}
			ctx := context.Background()
			var m *Meter
			var records []CallRecord
			if !tc.noMeter {
				ctx, m = WithMeter(ctx, tc.budget)
				m.Record = func(r CallRecord) { records = append(records, r) }
			}
			var err error
			for i := 0; i < tc.calls && err == nil; i++ {
				_, err = c.Chat(ctx, req)
			}
			var be *BudgetError
			if got := errors.As(err, &be); got != tc.wantRefuse {
				t.Fatalf("refused = %v (err %v), want %v", got, err, tc.wantRefuse)
			}
			if tc.wantRefuse && !strings.Contains(be.Error(), "budget exhausted: the next call to priced could cost up to $0.1010") {
				t.Errorf("message = %q", be.Error())
			}
			if stub.calls != tc.wantCalls {
				t.Errorf("provider calls = %d, want %d", stub.calls, tc.wantCalls)
			}
			if m == nil {
				return
			}
			if got := m.Usage().CostUSD; got-tc.wantSpent > 1e-12 || tc.wantSpent-got > 1e-12 {
				t.Errorf("metered cost = %v, want %v", got, tc.wantSpent)
			}
			if len(records) != tc.wantCalls || len(records) > 0 && records[0].Model != "priced" {
				t.Errorf("records = %+v, want %d for model priced", records, tc.wantCalls)
			}
		})
	}
}

func TestMeterRecordsFailedCalls(t *testing.T) {
	stub := &stubClient{err: errors.New("HTTP 500")}
	c := &metered{info: ModelInfo{Name: "m", InputPerM: 1, OutputPerM: 1}, inner: stub}
	ctx, m := WithMeter(context.Background(), Budget{LimitUSD: 5})
	var records []CallRecord
	m.Record = func(r CallRecord) { records = append(records, r) }
	if _, err := c.Chat(ctx, Request{}); err == nil {
		t.Fatal("want the provider's error")
	}
	if len(records) != 1 || records[0].Error != "HTTP 500" || records[0].Usage.Calls != 0 {
		t.Errorf("records = %+v, want one failed call", records)
	}
}

// TestUnpricedModelAndBudget: with a budget an unpriced model is refused
// (permanently, naming the fix); without one its calls are counted as
// unpriced.
func TestUnpricedModelAndBudget(t *testing.T) {
	info := ModelInfo{Name: "gemini-9.0-ultra", APIModel: "gemini-9.0-ultra", Unpriced: true}
	stub := &stubClient{usage: Usage{PromptTokens: 10, CompletionTokens: 5, Calls: 1}}
	c := &metered{info: info, inner: stub}
	ctx, _ := WithMeter(context.Background(), Budget{LimitUSD: 5})
	_, err := c.Chat(ctx, Request{Model: info.Name})
	if !IsPermanent(err) || !strings.Contains(err.Error(), "no known price") || !strings.Contains(err.Error(), "--models FILE") || stub.calls != 0 {
		t.Fatalf("err = %v after %d calls, want a permanent refusal before any call", err, stub.calls)
	}
	ctx, m := WithMeter(context.Background(), Budget{})
	resp, err := c.Chat(ctx, Request{Model: info.Name})
	if err != nil || resp.Usage.UnpricedCalls != 1 || m.Usage().UnpricedCalls != 1 {
		t.Fatalf("usage %+v, meter %+v, %v; want one unpriced call", resp.Usage, m.Usage(), err)
	}
}
