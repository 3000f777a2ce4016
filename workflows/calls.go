package workflows

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
)

// spender is a workflow that pays for model calls: a paper, or a campaign
// generating ideas.
type spender interface {
	// checkpoint holds a paused workflow before the call.
	checkpoint(ctx workflow.Context) error
	// budget is what the next call may spend.
	budget() llm.Budget
	// exhausted says why a budget with nothing left stops the workflow.
	exhausted(b llm.Budget) string
	// awaitBudget stops the workflow until its budget changes.
	awaitBudget(ctx workflow.Context, why string) error
	// spend counts what a call cost, finished or failed.
	spend(u llm.Usage)
}

// callModel runs a model-calling activity under s's budget: the input's
// budget is set just before each try, and the result's usage is counted
// (a failed activity's too, from its error details). A call the budget
// cannot cover stops the workflow right there, between activities, with
// every file in place; it goes on when the budget is raised.
func callModel[In any, PIn interface {
	*In
	SetBudget(llm.Budget)
}, Out interface{ Used() llm.Usage }](ctx workflow.Context, s spender, act func(context.Context, In) (Out, error), in In) (Out, error) {
	var out Out
	for {
		if err := s.checkpoint(ctx); err != nil {
			return out, err
		}
		b := s.budget()
		if b.Limited() && b.Left() <= 0 {
			if err := s.awaitBudget(ctx, s.exhausted(b)); err != nil {
				return out, err
			}
			continue
		}
		PIn(&in).SetBudget(b)
		err := workflow.ExecuteActivity(llmOptions(ctx), act, in).Get(ctx, &out)
		if err == nil {
			s.spend(out.Used())
			return out, nil
		}
		s.spend(activities.UsageOf(err))
		if !activities.IsBudgetExhausted(err) {
			return out, err
		}
		if err := s.awaitBudget(ctx, rootMessage(err)); err != nil {
			return out, err
		}
	}
}

// rootMessage is the message of the first application error in the chain
// (an activity's or a child's own words), without the wrapping layers.
func rootMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Message() != "" {
		return app.Message()
	}
	return err.Error()
}
