package activities

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/internal/llm"
)

func TestEarlierAttempts(t *testing.T) {
	path := filepath.Join(t.TempDir(), LedgerFile)
	wf := workflow.Execution{ID: "paper/x/y", RunID: "run-1"}
	cost := func(c float64) llm.CallRecord {
		return llm.CallRecord{Model: "m", Usage: llm.Usage{Calls: 1, CostUSD: c}}
	}
	for _, e := range []ledgerEntry{
		{CallRecord: cost(0.1), Workflow: wf.ID, Run: wf.RunID, Activity: "7", Attempt: 1},
		{CallRecord: cost(0.2), Workflow: wf.ID, Run: wf.RunID, Activity: "7", Attempt: 1},
		{CallRecord: cost(0.4), Workflow: wf.ID, Run: wf.RunID, Activity: "7", Attempt: 2},
		{CallRecord: cost(0.8), Workflow: wf.ID, Run: wf.RunID, Activity: "7", Attempt: 3}, // the current attempt
		{CallRecord: cost(1.6), Workflow: wf.ID, Run: wf.RunID, Activity: "8", Attempt: 1}, // another activity
		{CallRecord: cost(3.2), Workflow: wf.ID, Run: "run-0", Activity: "7", Attempt: 1},  // another run
	} {
		if err := appendJSONLine(path, e); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		attempt int32
		want    float64
		calls   int
	}{{1, 0, 0}, {2, 0.3, 2}, {3, 0.7, 3}}
	for _, tc := range tests {
		u := earlierAttempts(path, activity.Info{WorkflowExecution: wf, ActivityID: "7", Attempt: tc.attempt})
		if u.Calls != tc.calls || u.CostUSD < tc.want-1e-9 || u.CostUSD > tc.want+1e-9 {
			t.Errorf("attempt %d: earlier usage = %+v, want %d calls, $%.2f", tc.attempt, u, tc.calls, tc.want)
		}
	}
	if u := earlierAttempts(filepath.Join(t.TempDir(), "none.jsonl"), activity.Info{Attempt: 2}); u.Calls != 0 {
		t.Errorf("missing ledger: %+v", u)
	}
}

func TestWithUsage(t *testing.T) {
	spent := func(u llm.Usage) *llm.Meter {
		_, m := llm.WithMeter(context.Background(), llm.Budget{})
		m.Add(u)
		return m
	}
	paid := llm.Usage{Calls: 2, CostUSD: 0.3}
	tests := []struct {
		name          string
		meter         *llm.Meter
		err           error
		wantType      string
		wantFinal     bool
		wantDelay     time.Duration
		wantUsage     llm.Usage
		wantUntouched bool
	}{
		{name: "nil error", meter: spent(paid), err: nil, wantUntouched: true},
		{name: "nothing spent", meter: spent(llm.Usage{}), err: errors.New("x"), wantUntouched: true},
		{name: "canceled", meter: spent(paid), err: context.Canceled, wantUntouched: true},
		{name: "plain error stays retryable", meter: spent(paid), err: errors.New("network"), wantUsage: paid},
		{name: "final error stays final", meter: spent(paid), err: nonRetryable(ErrTypeUnparsable, "bad"), wantType: ErrTypeUnparsable, wantFinal: true, wantUsage: paid},
		{name: "rate limit keeps its delay", meter: spent(paid),
			err:      temporal.NewApplicationErrorWithOptions("429", ErrTypeRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: 7 * time.Second}),
			wantType: ErrTypeRateLimited, wantDelay: 7 * time.Second, wantUsage: paid},
		{name: "refused call", meter: spent(paid), err: &llm.BudgetError{Model: "m", NeedUSD: 1, LeftUSD: 0.1, LimitUSD: 1},
			wantType: ErrTypeBudget, wantFinal: true, wantUsage: paid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := withUsage(tc.meter, tc.err)
			if tc.wantUntouched {
				if got != tc.err {
					t.Errorf("error changed: %v", got)
				}
				return
			}
			var app *temporal.ApplicationError
			if !errors.As(got, &app) {
				t.Fatalf("%v is not an application error", got)
			}
			if app.Type() != tc.wantType || app.NonRetryable() != tc.wantFinal || app.NextRetryDelay() != tc.wantDelay {
				t.Errorf("type %q final %v delay %v, want %q %v %v", app.Type(), app.NonRetryable(), app.NextRetryDelay(), tc.wantType, tc.wantFinal, tc.wantDelay)
			}
			if u := UsageOf(got); u != tc.wantUsage {
				t.Errorf("usage = %+v, want %+v", u, tc.wantUsage)
			}
		})
	}
}
