package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Human control. Pause and unpause are signals on papers and campaigns; a
// campaign passes them on to its running papers and starts nothing new while
// paused. A pause takes effect at the next activity boundary: an experiment
// or model call in flight finishes first, and nothing is lost. Skip is a
// campaign signal naming one of its papers (or ideas): a pending idea is
// never started, a running paper is cancelled; the campaign goes on.
const (
	PauseSignal   = "pause"
	UnpauseSignal = "unpause"
	SkipSignal    = "skip"
	// StatePaused is the state (and Stage search attribute) of a paused
	// workflow.
	StatePaused = "paused"
	// StateCancelled is a paper cancelled by a person (or skipped).
	StateCancelled = "cancelled"
)

// ReviewOverall is the review's overall score (1-10), published with the
// stage once the paper is reviewed, e.g. `ReviewOverall >= 6`.
var ReviewOverall = temporal.NewSearchAttributeKeyInt64("ReviewOverall")

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

// checkpoint holds a paused paper between two activities. The history only
// changes when a pause really happens (two search-attribute upserts).
func (p *paperRun) checkpoint(ctx workflow.Context) error {
	if !p.paused {
		return nil
	}
	state, stage := p.prog.State, p.prog.Stage
	p.prog.State = StatePaused
	workflow.GetLogger(ctx).Info("paper paused", "paper", p.prog.Paper, "stage", stage)
	p.upsertStage(ctx, StatePaused)
	if err := workflow.Await(ctx, func() bool { return !p.paused }); err != nil {
		return err
	}
	p.prog.State = state
	p.upsertStage(ctx, stage)
	workflow.GetLogger(ctx).Info("paper unpaused", "paper", p.prog.Paper, "stage", stage)
	return nil
}

// checkpoint holds a paused campaign before it starts an idea or a paper.
func (c *campaignRun) checkpoint(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return !c.paused })
}

// pauseChanged shows the campaign's pause at once (state and Stage) and
// passes it on to the running papers.
func (c *campaignRun) pauseChanged(ctx workflow.Context, paused bool) {
	sig := UnpauseSignal
	if paused {
		sig = PauseSignal
		c.prog.State = StatePaused
		_ = workflow.UpsertTypedSearchAttributes(ctx, StageKey.ValueSet(StatePaused))
	} else if c.prog.State == StatePaused {
		c.prog.State = "running"
		c.stage(ctx, c.prog.Stage)
	}
	for _, r := range c.active {
		id := PaperWorkflowID(c.in.Template, r.idea.Name)
		if err := workflow.SignalExternalWorkflow(ctx, id, "", sig, nil).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("could not pass the signal on to a paper", "signal", sig, "paper", id, "error", err)
		}
	}
}

// listenSkip takes skip signals: a paper ID or an idea name.
func (c *campaignRun) listenSkip(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, SkipSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var target string
			if !ch.Receive(ctx, &target) {
				return
			}
			c.skip(ctx, target)
		}
	})
}

func (c *campaignRun) skip(ctx workflow.Context, target string) {
	for _, r := range c.active {
		if r.idea.Name == target || PaperWorkflowID(c.in.Template, r.idea.Name) == target {
			workflow.GetLogger(ctx).Info("skipping a running paper", "idea", r.idea.Name)
			r.skipped = true
			r.cancel()
			return
		}
	}
	for i := range c.prog.Ideas {
		st := &c.prog.Ideas[i]
		if st.State == "pending" && (st.Name == target || PaperWorkflowID(c.in.Template, st.Name) == target) {
			workflow.GetLogger(ctx).Info("skipping a pending idea", "idea", st.Name)
			st.State, st.Error = "skipped", "skipped by request"
			return
		}
	}
	workflow.GetLogger(ctx).Warn("skip: no pending or running paper by that name", "target", target)
}
