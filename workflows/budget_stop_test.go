package workflows_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/workflows"
)

// Prices of the fake model activities in budget tests. A paper that runs
// one experiment costs 4 coder turns, 8 sections and a review: $1.20.
var fakePrice = map[string]float64{"coder": 0.10, "section": 0.05, "review": 0.20, "idea": 0.05}

const fullPaperCost = 4*0.10 + 8*0.05 + 0.20

// pricedCalls is a fake model that charges fakePrice and refuses, like the
// real meter, a call its budget cannot cover. It records what it was asked.
type pricedCalls struct {
	mu       sync.Mutex
	refused  []string
	budgets  []llm.Budget
	spentUSD float64
}

func (p *pricedCalls) charge(what string, b llm.Budget) (llm.Usage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.budgets = append(p.budgets, b)
	price := fakePrice[what]
	if b.Limited() && b.Left() < price-1e-9 {
		p.refused = append(p.refused, what)
		msg := fmt.Sprintf("budget exhausted: the next call could cost up to $%.2f but only $%.4f is left", price, b.Left())
		return llm.Usage{}, temporal.NewNonRetryableApplicationError(msg, activities.ErrTypeBudget, nil, llm.Usage{})
	}
	p.spentUSD += price
	return llm.Usage{PromptTokens: 10, CompletionTokens: 5, Calls: 1, CostUSD: price}, nil
}

func queryPaper(t *testing.T, env *testsuite.TestWorkflowEnvironment, id string) workflows.PaperProgress {
	t.Helper()
	var v converter.EncodedValue
	var err error
	if id == "" {
		v, err = env.QueryWorkflow(workflows.ProgressQuery)
	} else {
		v, err = env.QueryWorkflowByID(id, workflows.ProgressQuery)
	}
	require.NoError(t, err)
	var p workflows.PaperProgress
	require.NoError(t, v.Get(&p))
	return p
}

// budgetUpdate is the outcome of one budget update, known once the
// workflow has handled it.
type budgetUpdate struct {
	usd    float64
	st     workflows.BudgetStatus
	err    error
	closed bool
}

// updates sends budget updates and keeps their outcomes.
type updates []*budgetUpdate

func (u *updates) send(t *testing.T, env *testsuite.TestWorkflowEnvironment, id string, usd float64) {
	r := &budgetUpdate{usd: usd}
	*u = append(*u, r)
	cb := &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { r.err, r.closed = err, true },
		OnAccept:   func() {},
		OnComplete: func(v any, err error) { r.err, r.closed = err, true; r.st, _ = v.(workflows.BudgetStatus) },
	}
	uid := fmt.Sprintf("raise-%d", len(*u))
	change := workflows.BudgetChange{LimitUSD: usd}
	if id == "" {
		env.UpdateWorkflow(workflows.BudgetUpdate, uid, cb, change)
		return
	}
	require.NoError(t, env.UpdateWorkflowByID(id, workflows.BudgetUpdate, uid, cb, change))
}

// check asserts each update's outcome: "" accepted, else part of the refusal.
func (u updates) check(t *testing.T, want ...string) {
	t.Helper()
	require.Len(t, u, len(want))
	for i, r := range u {
		require.True(t, r.closed, "update %d ($%v) was never answered", i, r.usd)
		if want[i] == "" {
			assert.NoError(t, r.err, "update %d ($%v)", i, r.usd)
			assert.Equal(t, r.usd, r.st.LimitUSD)
		} else if assert.Error(t, r.err, "update %d ($%v)", i, r.usd) {
			assert.Contains(t, r.err.Error(), want[i])
		}
	}
}

func TestPaperBudget(t *testing.T) {
	cases := []struct {
		name   string
		budget float64
		raise  func(t *testing.T, env *testsuite.TestWorkflowEnvironment, u *updates)
		// refused: the calls refused; stopAt: the stage it stopped in.
		refused []string
		stopAt  string
		answers []string // of the updates, in order
	}{{
		name: "update raises the budget", budget: 0.35, refused: []string{"coder"}, stopAt: "notes",
		raise: func(t *testing.T, env *testsuite.TestWorkflowEnvironment, u *updates) {
			u.send(t, env, "", 0.25)
			u.send(t, env, "", -1)
			u.send(t, env, "", 5)
		},
		answers: []string{"not above the $0.3000 already spent", "must be a positive number", ""},
	}, {
		name: "signal raises the budget", budget: 0.62, refused: []string{"section"}, stopAt: "writeup",
		raise: func(t *testing.T, env *testsuite.TestWorkflowEnvironment, u *updates) {
			env.SignalWorkflow(workflows.BudgetUpdate, workflows.BudgetChange{LimitUSD: 0.1}) // below spent: ignored
			env.SignalWorkflow(workflows.BudgetUpdate, workflows.BudgetChange{LimitUSD: 2})
		},
	}, {
		name: "a raise too small stops it again", budget: 0.95, refused: []string{"review", "review"}, stopAt: "review",
		raise: func(t *testing.T, env *testsuite.TestWorkflowEnvironment, u *updates) {
			u.send(t, env, "", 0.99)
			env.RegisterDelayedCallback(func() {
				p := queryPaper(t, env, "")
				assert.Equal(t, workflows.StateBudgetExhausted, p.State, "still short of the review's price")
				u.send(t, env, "", 1.5)
			}, time.Hour)
		},
		answers: []string{"", ""},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.PaperWorkflowID(tmpl, "alpha")})
			pc := &pricedCalls{}
			f := newPaperFake()
			f.charge = pc.charge
			f.register(env)
			var mu sync.Mutex
			var stages []string
			recordStages(env, &mu, &stages)
			in := paperInput()
			in.BudgetUSD = tc.budget

			var waiting workflows.PaperProgress
			var u updates
			env.RegisterDelayedCallback(func() {
				waiting = queryPaper(t, env, "")
				tc.raise(t, env, &u)
			}, time.Hour)
			env.ExecuteWorkflow(workflows.PaperWorkflow, in)
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())
			u.check(t, tc.answers...)

			// While waiting: a clean stop, shown in the query and the Stage attribute.
			assert.Equal(t, workflows.StateBudgetExhausted, waiting.State)
			assert.Equal(t, tc.stopAt, string(waiting.Stage))
			assert.True(t, waiting.Budget.Exhausted)
			assert.Contains(t, waiting.Budget.Note, "starter budget paper/nanoGPT/alpha --usd N")
			assert.LessOrEqual(t, waiting.Budget.SpentUSD, tc.budget)
			assert.Equal(t, tc.refused, pc.refused)
			assert.Contains(t, stages, string(workflows.StateBudgetExhausted))
			assert.Equal(t, "done", stages[len(stages)-1])

			// After the raise the paper finished, without redoing anything.
			p := queryPaper(t, env, "")
			assert.Equal(t, workflows.StateCompleted, p.State)
			assert.InDelta(t, fullPaperCost, p.Tokens.CostUSD, 1e-9)
			assert.InDelta(t, pc.spentUSD, p.Tokens.CostUSD, 1e-9, "every charged call is counted once")
			assert.False(t, p.Budget.Exhausted)
			assert.Empty(t, p.Budget.Note)
			assert.Equal(t, 1, strings.Count(strings.Join(f.calls, "\n"), "export "))
			for _, b := range pc.budgets {
				assert.True(t, b.Limited(), "every model activity gets the budget")
			}
		})
	}
}

func TestPaperWithoutBudget(t *testing.T) {
	pc := &pricedCalls{}
	o := runPaper(t, paperInput(), func(f *paperFake) { f.charge = pc.charge })
	require.NoError(t, o.err)
	assert.Empty(t, pc.refused)
	assert.InDelta(t, fullPaperCost, o.prog.Tokens.CostUSD, 1e-9)
	assert.Zero(t, o.prog.Budget.LimitUSD)
	for _, b := range pc.budgets {
		assert.False(t, b.Limited())
	}
}

// A model activity that fails still reports what it spent, and the paper
// counts it.
func TestPaperCountsUsageOfFailedActivities(t *testing.T) {
	spent := llm.Usage{PromptTokens: 50, CompletionTokens: 60, Calls: 2, CostUSD: 0.07}
	o := runPaper(t, paperInput(), func(f *paperFake) {
		f.section = func(in activities.SectionInput) (llm.Usage, error) {
			if in.Section == "Method" {
				return llm.Usage{}, temporal.NewNonRetryableApplicationError("section Method: no fenced latex block", activities.ErrTypeUnparsable, nil, spent)
			}
			return sectionUsage, nil
		}
	})
	require.Error(t, o.err)
	assert.Equal(t, spent.CostUSD, o.prog.Tokens.CostUSD)
	assert.Equal(t, tokensOf(o.calls).Calls-1+spent.Calls, o.prog.Tokens.Calls, "the failed section's two calls are counted")
}

// ideaPriced answers GenerateIdea with alpha, then beta, each charged.
func ideaPriced(pc *pricedCalls) func(activities.IdeaInput) (activities.IdeaResult, error) {
	return func(in activities.IdeaInput) (activities.IdeaResult, error) {
		names := []string{"alpha", "beta"}
		if in.Index >= len(names) {
			return activities.IdeaResult{Exhausted: true}, nil
		}
		u, err := pc.charge("idea", in.Budget)
		if err != nil {
			return activities.IdeaResult{}, err
		}
		return activities.IdeaResult{Idea: idea(names[in.Index]), Metered: activities.Metered{Usage: u}}, nil
	}
}

// pricedCampaign is a campaign test environment whose ideas (and, with
// real children, papers) are charged by one pricedCalls.
func pricedCampaign(t *testing.T, mockChild bool) (*testsuite.TestWorkflowEnvironment, *pricedCalls, *campaignFake) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(campaignStart)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: campaignID})
	pc := &pricedCalls{}
	f := newCampaignFake()
	f.ideas = ideaPriced(pc)
	f.register(env, mockChild)
	if !mockChild {
		pf := newPaperFake()
		pf.charge = pc.charge
		pf.register(env)
	}
	return env, pc, f
}

func TestCampaignBudget(t *testing.T) {
	t.Run("raise on the campaign reaches the waiting paper", func(t *testing.T) {
		env, pc, _ := pricedCampaign(t, false)
		in := campaignInput()
		in.NumIdeas, in.BudgetUSD = 2, 1.0 // ideas $0.10; alpha gets $0.90 of the $1.20 it needs

		var waiting workflows.CampaignProgress
		var paperWaiting workflows.PaperProgress
		var u updates
		env.RegisterDelayedCallback(func() {
			v, err := env.QueryWorkflow(workflows.ProgressQuery)
			require.NoError(t, err)
			require.NoError(t, v.Get(&waiting))
			paperWaiting = queryPaper(t, env, "paper/nanoGPT/alpha")
			u.send(t, env, "", 0.5)
			u.send(t, env, "", 3)
		}, time.Hour)
		env.ExecuteWorkflow(workflows.CampaignWorkflow, in)
		require.True(t, env.IsWorkflowCompleted())
		require.NoError(t, env.GetWorkflowError())
		u.check(t, "below the $0.1000 spent plus the $0.9000 granted", "")
		var res workflows.CampaignProgress
		require.NoError(t, env.GetWorkflowResult(&res))

		require.Len(t, waiting.Ideas, 2)
		assert.Equal(t, workflows.StateBudgetExhausted, waiting.Ideas[0].State, "the campaign shows which paper waits")
		assert.Equal(t, workflows.StatePending, waiting.Ideas[1].State, "no money to start the next paper")
		assert.Equal(t, workflows.StateBudgetExhausted, paperWaiting.State)
		assert.InDelta(t, 0.90, paperWaiting.Budget.GrantUSD, 1e-9)
		assert.Contains(t, paperWaiting.Budget.Note, "starter budget "+campaignID+" --usd N")
		assert.Equal(t, []string{"review"}, pc.refused)

		assert.Equal(t, workflows.StateCompleted, res.State)
		require.Len(t, res.Ideas, 2)
		for _, st := range res.Ideas {
			assert.Equal(t, workflows.StateCompleted, st.State, st.Name)
			assert.InDelta(t, fullPaperCost, st.CostUSD, 1e-9, st.Name)
		}
		assert.InDelta(t, 0.10+2*fullPaperCost, res.Budget.SpentUSD, 1e-9)
		assert.InDelta(t, pc.spentUSD, res.Budget.SpentUSD, 1e-9)
		assert.LessOrEqual(t, res.Budget.SpentUSD, 3.0)
		assert.Zero(t, res.Budget.GrantUSD)
	})
	t.Run("ideation stops at the budget and goes on after a raise", func(t *testing.T) {
		env, pc, f := pricedCampaign(t, true)
		var mu sync.Mutex
		var stages []string
		recordStages(env, &mu, &stages)
		in := campaignInput()
		in.NumIdeas, in.BudgetUSD, in.PaperBudgetUSD = 2, 0.08, 0.5

		var waiting workflows.CampaignProgress
		env.RegisterDelayedCallback(func() {
			v, err := env.QueryWorkflow(workflows.ProgressQuery)
			require.NoError(t, err)
			require.NoError(t, v.Get(&waiting))
			env.SignalWorkflow(workflows.BudgetUpdate, workflows.BudgetChange{LimitUSD: 2})
		}, time.Hour)
		env.ExecuteWorkflow(workflows.CampaignWorkflow, in)
		require.True(t, env.IsWorkflowCompleted())
		require.NoError(t, env.GetWorkflowError())

		assert.Equal(t, workflows.StateBudgetExhausted, waiting.State)
		assert.Equal(t, workflows.StageIdeas, waiting.Stage)
		assert.Contains(t, waiting.Budget.Note, "starter budget "+campaignID)
		assert.Len(t, waiting.Ideas, 1)
		assert.Equal(t, []string{"idea"}, pc.refused)
		assert.Equal(t, []string{"preflight", "ideas", string(workflows.StateBudgetExhausted), "papers", "done"}, stages)
		// Each paper gets its own limit and a share of what is left.
		require.Len(t, f.children, 2)
		for _, c := range f.children {
			assert.Equal(t, 0.5, c.In.BudgetUSD)
			assert.InDelta(t, 0.5, c.In.GrantUSD, 1e-9)
		}
	})
	t.Run("a paper at its own limit is raised on the paper, the campaign extends its share", func(t *testing.T) {
		env, pc, _ := pricedCampaign(t, false)
		in := campaignInput()
		in.BudgetUSD, in.PaperBudgetUSD = 5, 0.5

		var waiting workflows.PaperProgress
		var u updates
		env.RegisterDelayedCallback(func() {
			waiting = queryPaper(t, env, "paper/nanoGPT/alpha")
			u.send(t, env, "paper/nanoGPT/alpha", 2)
		}, time.Hour)
		env.ExecuteWorkflow(workflows.CampaignWorkflow, in)
		require.True(t, env.IsWorkflowCompleted())
		require.NoError(t, env.GetWorkflowError())
		u.check(t, "")
		var res workflows.CampaignProgress
		require.NoError(t, env.GetWorkflowResult(&res))

		assert.Equal(t, workflows.StateBudgetExhausted, waiting.State)
		assert.Contains(t, waiting.Budget.Note, "starter budget paper/nanoGPT/alpha --usd N", "its own limit binds")
		assert.Empty(t, pc.refused, "with nothing left the paper stops before calling: at its limit, then at its share until extended")
		assert.Equal(t, 0.5, waiting.Budget.LimitUSD)
		assert.Equal(t, 0.5, waiting.Budget.GrantUSD)
		require.Len(t, res.Ideas, 1)
		assert.Equal(t, workflows.StateCompleted, res.Ideas[0].State)
		assert.InDelta(t, 0.05+fullPaperCost, res.Budget.SpentUSD, 1e-9)
	})
	t.Run("no campaign budget to raise when launched without one", func(t *testing.T) {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		env.SetStartTime(campaignStart)
		env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: campaignID})
		f := newCampaignFake()
		f.child = func(ctx workflow.Context, in workflows.PaperInput) (workflows.PaperResult, error) {
			return workflows.PaperResult{}, workflow.Sleep(ctx, 2*time.Hour)
		}
		f.register(env, true)
		var u updates
		env.RegisterDelayedCallback(func() { u.send(t, env, "", 10) }, time.Hour)
		env.ExecuteWorkflow(workflows.CampaignWorkflow, campaignInput())
		require.NoError(t, env.GetWorkflowError())
		u.check(t, "started without --budget-usd")
	})
}
