package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
)

// Budget messages. BudgetUpdate is both an update (answers with the new
// BudgetStatus, or refuses a bad value before anything changes) and a
// signal, on papers and campaigns alike.
const (
	BudgetUpdate = "budget"
	// grantSignal carries a campaign's share for one of its papers (USD).
	grantSignal = "budget-grant"
	// paperBudgetSignal tells a campaign that one of its papers stopped at,
	// or resumed after, its budget.
	paperBudgetSignal = "paper-budget"
)

// StateBudgetExhausted is the state (and Stage search attribute) of a
// workflow waiting for its budget to be raised.
const StateBudgetExhausted = "budget exhausted"

// BudgetChange sets a new limit in US dollars: a paper's own limit, or a
// campaign's total.
type BudgetChange struct {
	LimitUSD float64 `json:"limit_usd"`
}

// BudgetStatus is a workflow's budget as shown by status and updates.
type BudgetStatus struct {
	// LimitUSD is the workflow's own limit: a campaign's total, a paper's
	// own (0: none).
	LimitUSD float64 `json:"limit_usd,omitempty"`
	SpentUSD float64 `json:"spent_usd"`
	// GrantUSD is, for a paper, its share of the campaign's budget; for a
	// campaign, the shares its running papers hold.
	GrantUSD  float64 `json:"grant_usd,omitempty"`
	Exhausted bool    `json:"exhausted,omitempty"`
	Note      string  `json:"note,omitempty"` // why it stopped and how to go on
}

// PaperLimit is what binds a paper: the lower of its own limit and its
// share (0: no limit).
func (b BudgetStatus) PaperLimit() float64 {
	return paperBudget{limit: b.LimitUSD, grant: b.GrantUSD}.effective()
}

// paperBudgetNotice is what a paper tells its campaign.
type paperBudgetNotice struct {
	Paper     string
	Exhausted bool
	SpentUSD  float64
	LimitUSD  float64 // the paper's own limit (0: none), which a share need not pass
}

// paperBudget is a paper's limits: its own (user-set) and its campaign's
// share. Whichever is lower binds.
type paperBudget struct {
	limit, grant float64 // 0: none
	version      int     // bumped on every change, so a refused call waits for one
	note         string
}

func (b paperBudget) effective() float64 {
	switch {
	case b.limit > 0 && b.grant > 0:
		return min(b.limit, b.grant)
	case b.limit > 0:
		return b.limit
	}
	return b.grant
}

func (p *paperRun) budget() llm.Budget {
	return llm.Budget{LimitUSD: p.bud.effective(), SpentUSD: p.prog.Tokens.CostUSD}
}

func (p *paperRun) budgetStatus() BudgetStatus {
	return BudgetStatus{LimitUSD: p.bud.limit, SpentUSD: p.prog.Tokens.CostUSD, GrantUSD: p.bud.grant,
		Exhausted: p.prog.State == StateBudgetExhausted, Note: p.bud.note}
}

// setupBudget registers the budget update/signal and the campaign's grants.
func (p *paperRun) setupBudget(ctx workflow.Context) error {
	p.bud.limit, p.bud.grant = p.in.BudgetUSD, p.in.GrantUSD
	valid := func(c BudgetChange) error { return validLimit(c.LimitUSD, p.prog.Tokens.CostUSD) }
	set := func(c BudgetChange) BudgetStatus {
		p.bud.limit = c.LimitUSD
		p.bud.version++
		st := p.budgetStatus()
		if p.bud.grant > 0 && p.bud.grant <= p.prog.Tokens.CostUSD {
			st.Note = "the campaign's share for this paper is spent too: raise the campaign's budget"
		}
		return st
	}
	return handleBudget(ctx, valid, set, grantSignal, func(ch workflow.ReceiveChannel) {
		var g float64
		ch.Receive(ctx, &g)
		p.bud.grant = g
		p.bud.version++
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

func validLimit(limit, spent float64) error {
	if limit <= 0 {
		return errors.New("the budget must be a positive number of US dollars")
	}
	if limit <= spent {
		return fmt.Errorf("a budget of $%.2f is not above the $%.4f already spent", limit, spent)
	}
	return nil
}

// callModel runs a model-calling activity under the paper's budget. A call
// the budget cannot cover stops the paper right there, between activities,
// with every file in place; it goes on when the budget is raised. Usage is
// counted from results and from failed activities alike.
func (p *paperRun) callModel(ctx workflow.Context, act any, in func(llm.Budget) any, out any, usage func() llm.Usage) error {
	for {
		if err := p.checkpoint(ctx); err != nil {
			return err
		}
		if b := p.budget(); b.Limited() && b.Left() <= 0 {
			if err := p.awaitBudget(ctx, fmt.Sprintf("budget exhausted: $%.4f spent of $%.4f", b.SpentUSD, b.LimitUSD)); err != nil {
				return err
			}
			continue
		}
		err := workflow.ExecuteActivity(llmOptions(ctx), act, in(p.budget())).Get(ctx, out)
		if err == nil {
			p.prog.Tokens = p.prog.Tokens.Add(usage())
			return nil
		}
		p.prog.Tokens = p.prog.Tokens.Add(activities.UsageOf(err))
		if !activities.IsBudgetExhausted(err) {
			return err
		}
		if err := p.awaitBudget(ctx, rootMessage(err)); err != nil {
			return err
		}
	}
}

// awaitBudget parks the paper until its budget changes.
func (p *paperRun) awaitBudget(ctx workflow.Context, why string) error {
	seen, stage := p.bud.version, p.prog.Stage
	p.bud.note = why + "; raise it with: starter budget " + p.prog.Paper + " --usd N"
	// Only when the campaign's share is strictly below the paper's own
	// limit does raising the campaign help; otherwise the paper's limit is
	// raised first and the campaign extends the share as it can.
	if p.bud.grant > 0 && (p.bud.limit == 0 || p.bud.grant < p.bud.limit) {
		p.bud.note = why + "; this paper's share of the campaign budget is spent: raise it with: starter budget " + p.parent + " --usd N"
	}
	p.prog.State = StateBudgetExhausted
	workflow.GetLogger(ctx).Warn("paper stopped at its budget", "paper", p.prog.Paper, "reason", why)
	p.upsertStage(ctx, StateBudgetExhausted)
	p.tellCampaign(ctx, true)
	if err := workflow.Await(ctx, func() bool { return p.bud.version != seen }); err != nil {
		return err
	}
	p.prog.State, p.bud.note = "running", ""
	p.upsertStage(ctx, stage)
	p.tellCampaign(ctx, false)
	workflow.GetLogger(ctx).Info("paper budget raised", "paper", p.prog.Paper, "limit", p.bud.effective())
	return nil
}

// tellCampaign lets the parent campaign show which papers wait for money.
func (p *paperRun) tellCampaign(ctx workflow.Context, exhausted bool) {
	if p.parent == "" {
		return
	}
	n := paperBudgetNotice{Paper: p.prog.Paper, Exhausted: exhausted, SpentUSD: p.prog.Tokens.CostUSD, LimitUSD: p.bud.limit}
	if err := workflow.SignalExternalWorkflow(ctx, p.parent, "", paperBudgetSignal, n).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("could not tell the campaign about the budget", "error", err)
	}
}

// minGrant is the least share worth starting (or topping up) a paper with.
const minGrant = 0.01

func (c *campaignRun) granted() float64 {
	g := 0.0
	for _, a := range c.active {
		g += a.grant
	}
	return g
}

// spent counts ideation and finished papers.
func (c *campaignRun) spent() float64 { return c.prog.Tokens.CostUSD + c.finished }

// left is the money neither spent nor granted to a running paper.
func (c *campaignRun) left() float64 { return c.total - c.spent() - c.granted() }

func (c *campaignRun) budgetStatus() BudgetStatus {
	st := BudgetStatus{LimitUSD: c.total, SpentUSD: c.spent(), GrantUSD: c.granted(), Exhausted: c.prog.State == StateBudgetExhausted}
	if st.Exhausted {
		st.Note = c.note
	}
	return st
}

// share is the grant for each of n papers about to start; false when the
// budget has no money left for a paper.
func (c *campaignRun) share(n int) (float64, bool) {
	if c.total <= 0 {
		return 0, true
	}
	g := c.left() / float64(max(n, 1))
	if c.in.PaperBudgetUSD > 0 {
		g = min(g, c.in.PaperBudgetUSD) // more would only sit idle
	}
	return g, g >= minGrant
}

// rebalance hands out money that is neither spent nor granted: first to
// running papers stopped at their share (finishing a paper beats starting
// one), sharing with the papers still to start; when none are left to
// start, every running paper gets an equal part.
func (c *campaignRun) rebalance(ctx workflow.Context, waiting int) {
	if c.total <= 0 || len(c.active) == 0 || c.left() < minGrant {
		return
	}
	var to []*activePaper
	for _, a := range c.active {
		if a.limit > 0 && a.grant >= a.limit {
			continue // its own limit binds: more money would only sit idle
		}
		if waiting == 0 || a.exhausted {
			to = append(to, a)
		}
	}
	if len(to) == 0 {
		return
	}
	starting := min(waiting, c.in.Parallel-len(c.active)) // papers about to start share too
	extra := c.left() / float64(len(to)+starting)
	if extra < minGrant {
		return
	}
	for _, a := range to {
		give := extra
		if a.limit > 0 {
			give = min(give, a.limit-a.grant)
		}
		a.grant += give
		a.exhausted = false // it says so again if the grant is still too small
		id := PaperWorkflowID(c.in.Template, a.idea.Name)
		if err := workflow.SignalExternalWorkflow(ctx, id, "", grantSignal, a.grant).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("could not raise a paper's share", "paper", id, "error", err)
		}
	}
}

// setupBudget registers the campaign's budget update and signal, and
// listens for papers stopping at their share.
func (c *campaignRun) setupBudget(ctx workflow.Context) error {
	set := func(ch BudgetChange) BudgetStatus {
		c.total = ch.LimitUSD
		c.version++
		c.raised.SendAsync(true)
		return c.budgetStatus()
	}
	valid := func(ch BudgetChange) error {
		if c.in.BudgetUSD <= 0 {
			// Its running papers hold no shares to raise or limit.
			return errors.New("this campaign was started without --budget-usd: set budgets on its papers instead (starter budget paper/... --usd N)")
		}
		if err := validLimit(ch.LimitUSD, c.spent()); err != nil {
			return err
		}
		if g := c.granted(); ch.LimitUSD < c.spent()+g {
			return fmt.Errorf("a budget of $%.2f is below the $%.4f spent plus the $%.4f granted to running papers", ch.LimitUSD, c.spent(), g)
		}
		return nil
	}
	return handleBudget(ctx, valid, set, paperBudgetSignal, func(r workflow.ReceiveChannel) {
		var n paperBudgetNotice
		r.Receive(ctx, &n)
		for _, a := range c.active {
			if PaperWorkflowID(c.in.Template, a.idea.Name) != n.Paper {
				continue
			}
			a.exhausted, a.limit = n.Exhausted, n.LimitUSD
			st := c.status(a.idea.Name)
			st.State = "running"
			if n.Exhausted {
				st.State = StateBudgetExhausted
			}
		}
		c.raised.SendAsync(true) // the main loop may have money for it
	})
}

// awaitRaise parks the campaign until its budget changes.
func (c *campaignRun) awaitRaise(ctx workflow.Context, why string) error {
	seen, stage := c.version, c.prog.Stage
	c.prog.State = StateBudgetExhausted
	c.note = why + "; raise it with: starter budget " + c.id + " --usd N"
	workflow.GetLogger(ctx).Warn("campaign stopped at its budget", "campaign", c.id, "reason", why)
	_ = workflow.UpsertTypedSearchAttributes(ctx, StageKey.ValueSet(StateBudgetExhausted))
	if err := workflow.Await(ctx, func() bool { return c.version != seen }); err != nil {
		return err
	}
	c.prog.State, c.note = "running", ""
	c.stage(ctx, stage)
	return nil
}
