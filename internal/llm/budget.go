package llm

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Budget is a spending limit as one activity sees it: the limit and what was
// already spent against it before the activity started. A zero limit means
// no limit.
type Budget struct {
	LimitUSD float64 `json:"limit_usd,omitempty"`
	SpentUSD float64 `json:"spent_usd,omitempty"`
}

// Limited reports whether the budget has a limit at all.
func (b Budget) Limited() bool { return b.LimitUSD > 0 }

// Left is what may still be spent (meaningless without a limit).
func (b Budget) Left() float64 { return b.LimitUSD - b.SpentUSD }

// BudgetError refuses a call that could take spending past the limit.
type BudgetError struct {
	Model      string
	NeedUSD    float64 // worst-case cost of the refused call
	LeftUSD    float64 // what the budget had left
	LimitUSD   float64
	SpentUSD   float64 // spent including this activity's earlier calls
	EstimateOf string  // what the estimate assumed, for the message
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("budget exhausted: the next call to %s could cost up to $%.4f (%s) but only $%.4f of the $%.4f budget is left ($%.4f spent)",
		e.Model, e.NeedUSD, e.EstimateOf, max(e.LeftUSD, 0), e.LimitUSD, e.SpentUSD)
}

// CallRecord is one priced model call, as written to a paper's call ledger.
type CallRecord struct {
	Time  time.Time `json:"time"`
	Model string    `json:"model"`
	Usage Usage     `json:"usage"`
	Error string    `json:"error,omitempty"`
	// Seconds is how long the provider took to answer.
	Seconds float64 `json:"seconds,omitempty"`
	// Replayed: the reply was saved by an earlier attempt of the same
	// activity and served again, free (its cost is on that attempt's line).
	Replayed bool `json:"replayed,omitempty"`
}

// Meter counts what one activity spends and refuses calls that could break
// its budget. It travels in the context, so every metered client used by
// the activity checks the same limit.
type Meter struct {
	budget Budget
	// Record, when set, is told about every call (a ledger on disk).
	Record func(CallRecord)

	mu    sync.Mutex
	usage Usage
}

type meterKey struct{}

// WithMeter returns a context whose model calls are counted (and limited)
// by a new meter for the given budget.
func WithMeter(ctx context.Context, b Budget) (context.Context, *Meter) {
	m := &Meter{budget: b}
	return context.WithValue(ctx, meterKey{}, m), m
}

func meterFrom(ctx context.Context) *Meter {
	m, _ := ctx.Value(meterKey{}).(*Meter)
	return m
}

// Usage is what the meter has counted so far.
func (m *Meter) Usage() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.usage
}

// Add counts usage spent outside the meter's own calls (earlier attempts).
func (m *Meter) Add(u Usage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.usage = m.usage.Add(u)
}

// admit refuses a call whose worst case would pass the limit.
func (m *Meter) admit(info ModelInfo, req Request) error {
	if !m.budget.Limited() {
		return nil
	}
	if info.Unpriced {
		return &PermanentError{Err: fmt.Errorf("model %s has no known price, so a budget cannot limit what it spends: %s, or run without a budget", info.Name, UnpricedHint)}
	}
	need, how := info.WorstCase(req)
	m.mu.Lock()
	spent := m.budget.SpentUSD + m.usage.CostUSD
	m.mu.Unlock()
	if left := m.budget.LimitUSD - spent; need > left {
		return &BudgetError{Model: info.Name, NeedUSD: need, LeftUSD: left, LimitUSD: m.budget.LimitUSD, SpentUSD: spent, EstimateOf: how}
	}
	return nil
}

// replayed records a reply an earlier attempt paid for, at no cost.
func (m *Meter) replayed(model string) {
	if m.Record != nil {
		m.Record(CallRecord{Time: time.Now().UTC(), Model: model, Replayed: true})
	}
}

func (m *Meter) count(model string, u Usage, err error, took time.Duration) {
	m.Add(u)
	if m.Record != nil && (u.Calls > 0 || err != nil) {
		r := CallRecord{Time: time.Now().UTC(), Model: model, Usage: u, Seconds: took.Seconds()}
		if err != nil {
			r.Error = err.Error()
		}
		m.Record(r)
	}
}

// charsPerToken is deliberately low (English prose averages about four
// characters a token, code and LaTeX fewer), so the estimate errs high.
const charsPerToken = 3

// WorstCase is the most one call can cost: every prompt character a third
// of a token at the uncached rate, and every sample using the whole output
// cap. A budget checked against it is never overrun.
func (m ModelInfo) WorstCase(req Request) (float64, string) {
	chars := len(req.System)
	for _, msg := range req.Messages {
		chars += len(msg.Content)
	}
	in := (chars + charsPerToken - 1) / charsPerToken
	out := req.MaxTokens // as sent: metered sets it
	if out <= 0 {
		out = m.RequestTokens(0)
	}
	if m.MaxOutput > 0 && out > m.MaxOutput {
		out = m.MaxOutput
	}
	n := max(req.N, 1)
	cost := float64(n) * (float64(in)*m.InputPerM + float64(out)*m.OutputPerM) / 1e6
	return cost, fmt.Sprintf("%d×(~%d prompt + %d output tokens)", n, in, out)
}
