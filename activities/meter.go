package activities

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/aiscientist/aiscientist/internal/llm"
)

// ErrTypeBudget: the next model call could pass the budget. The workflow
// stops at this clean point and waits for the budget to be raised.
const ErrTypeBudget = "BudgetExhausted"

// LedgerFile lists every model call of a paper (or a campaign's ideation),
// one JSON line each: the record behind every cost figure shown.
const LedgerFile = "logs/calls.jsonl"

// ledgerEntry is one line of the ledger.
type ledgerEntry struct {
	llm.CallRecord
	Workflow string `json:"workflow"`
	Run      string `json:"run"`
	Activity string `json:"activity"`
	Attempt  int32  `json:"attempt"`
}

var ledgerMu sync.Mutex // one worker process appends one line at a time

// startMeter counts (and limits) the activity's model calls, writing each to
// the ledger under dir. Calls made by earlier attempts of the same activity
// are read back from the ledger, so a retried activity reports everything
// it cost and its budget check includes money already spent.
func startMeter(ctx context.Context, dir string, b llm.Budget) (context.Context, *llm.Meter) {
	info := activity.GetInfo(ctx)
	path := filepath.Join(dir, LedgerFile)
	earlier := earlierAttempts(path, info)
	b.SpentUSD += earlier.CostUSD
	ctx, m := llm.WithMeter(ctx, b)
	m.Add(earlier)
	m.Record = func(r llm.CallRecord) {
		e := ledgerEntry{CallRecord: r, Workflow: info.WorkflowExecution.ID, Run: info.WorkflowExecution.RunID, Activity: info.ActivityID, Attempt: info.Attempt}
		if err := appendJSONLine(path, e); err != nil {
			activity.GetLogger(ctx).Warn("call ledger not written", "path", path, "error", err)
		}
	}
	return ctx, m
}

// earlierAttempts sums the ledger's calls of this activity's earlier attempts.
func earlierAttempts(path string, info activity.Info) llm.Usage {
	var u llm.Usage
	if info.Attempt <= 1 {
		return u
	}
	f, err := os.Open(path)
	if err != nil {
		return u
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var e ledgerEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue // a torn last line after a crash
		}
		if e.Workflow == info.WorkflowExecution.ID && e.Run == info.WorkflowExecution.RunID &&
			e.Activity == info.ActivityID && e.Attempt < info.Attempt {
			u = u.Add(e.Usage)
		}
	}
	return u
}

// appendJSONLine appends v as one JSON line (ledgers of calls and runs).
func appendJSONLine(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ledgerMu.Lock()
	defer ledgerMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// withUsage makes a failing activity still report what it spent: the usage
// rides in the error's details, keeping its type, retryability and delay.
// A refused call becomes the non-retryable BudgetExhausted error.
func withUsage(m *llm.Meter, err error) error {
	if err == nil || m == nil {
		return err
	}
	u := m.Usage()
	var be *llm.BudgetError
	if errors.As(err, &be) {
		return temporal.NewNonRetryableApplicationError(be.Error(), ErrTypeBudget, nil, u)
	}
	if u.Calls == 0 && u.CostUSD == 0 || errors.Is(err, context.Canceled) || temporal.IsCanceledError(err) {
		return err
	}
	opts := temporal.ApplicationErrorOptions{Details: []any{u}, Cause: err}
	typ := ""
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		typ, opts.NonRetryable, opts.NextRetryDelay = app.Type(), app.NonRetryable(), app.NextRetryDelay()
		opts.Cause = errors.Unwrap(app)
		return temporal.NewApplicationErrorWithOptions(app.Message(), typ, opts)
	}
	return temporal.NewApplicationErrorWithOptions(err.Error(), typ, opts)
}

// UsageOf reads the usage a failed activity reported (zero when none).
func UsageOf(err error) llm.Usage {
	var app *temporal.ApplicationError
	var u llm.Usage
	if errors.As(err, &app) && app.HasDetails() {
		_ = app.Details(&u)
	}
	return u
}

// IsBudgetExhausted reports whether an activity stopped at its budget.
func IsBudgetExhausted(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == ErrTypeBudget
}

func budgetNote(b llm.Budget) string {
	if !b.Limited() {
		return "no budget"
	}
	return fmt.Sprintf("$%.4f of $%.2f left", b.Left(), b.LimitUSD)
}
