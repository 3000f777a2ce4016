package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/aiscientist/aiscientist/internal/llm"
)

// ErrTypeBudget: the next model call could pass the budget. The workflow
// stops at this clean point and waits for the budget to be raised.
const ErrTypeBudget = "BudgetExhausted"

// Budgeted is embedded in the input of every model-calling activity: what
// the call may spend, set by the workflow just before it schedules the
// call. (Embedded, its field keeps the name "Budget" in payloads.)
type Budgeted struct {
	Budget llm.Budget
}

// SetBudget is how the workflow's typed model-call helper sets it.
func (b *Budgeted) SetBudget(x llm.Budget) { b.Budget = x }

// Metered is embedded in the result of every model-calling activity: what
// its calls cost.
type Metered struct {
	Usage llm.Usage
}

// Used is how the workflow's typed model-call helper reads it.
func (m Metered) Used() llm.Usage { return m.Usage }

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
