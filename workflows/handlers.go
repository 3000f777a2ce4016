package workflows

import (
	"go.temporal.io/sdk/workflow"
)

// Message handlers that papers and campaigns share.

// listenPause keeps *paused in step with the pause and unpause signals;
// then, when set, runs after every change (a campaign tells its papers).
func listenPause(ctx workflow.Context, paused *bool, then func(workflow.Context, bool)) {
	pause := workflow.GetSignalChannel(ctx, PauseSignal)
	unpause := workflow.GetSignalChannel(ctx, UnpauseSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(pause, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, nil); *paused = true })
			sel.AddReceive(unpause, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, nil); *paused = false })
			sel.Select(ctx)
			if ctx.Err() != nil {
				return
			}
			if then != nil {
				then(ctx, *paused)
			}
		}
	})
}

// handleBudget serves the budget update and signal of a paper or campaign:
// both are validated, then set. One more signal (a campaign's grants, a
// paper's notices) is served by the same listener.
func handleBudget(ctx workflow.Context, valid func(BudgetChange) error, set func(BudgetChange) BudgetStatus,
	otherSignal string, other func(workflow.ReceiveChannel)) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, BudgetUpdate,
		func(ctx workflow.Context, c BudgetChange) (BudgetStatus, error) { return set(c), nil },
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, c BudgetChange) error { return valid(c) }},
	); err != nil {
		return err
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		sig := workflow.GetSignalChannel(ctx, BudgetUpdate)
		more := workflow.GetSignalChannel(ctx, otherSignal)
		for {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(sig, func(ch workflow.ReceiveChannel, _ bool) {
				var c BudgetChange
				ch.Receive(ctx, &c)
				if err := valid(c); err != nil {
					workflow.GetLogger(ctx).Warn("budget signal ignored", "error", err)
					return
				}
				set(c)
			})
			sel.AddReceive(more, func(ch workflow.ReceiveChannel, _ bool) { other(ch) })
			sel.Select(ctx)
		}
	})
	return nil
}
