package workflows_test

import (
	"errors"
	"fmt"
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
	"github.com/aiscientist/aiscientist/workflows"
)

// TestPaperPause: a pause during the implement turn (which takes a minute)
// holds the paper before its next activity; unpause lets it go on from
// there, and the Stage attribute shows "paused" meanwhile.
func TestPaperPause(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.PaperWorkflowID(tmpl, "alpha")})
	f := newPaperFake()
	f.coderDelay = time.Minute
	f.register(env)
	var mu sync.Mutex
	var stages []string
	recordStages(env, &mu, &stages)

	var paused, later workflows.PaperProgress
	var callsWhilePaused int
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.PauseSignal, nil) }, 30*time.Second)
	env.RegisterDelayedCallback(func() {
		paused = queryPaper(t, env, "")
		f.mu.Lock()
		callsWhilePaused = len(f.calls)
		f.mu.Unlock()
	}, 5*time.Hour)
	env.RegisterDelayedCallback(func() {
		later = queryPaper(t, env, "")
		f.mu.Lock()
		assert.Equal(t, callsWhilePaused, len(f.calls), "nothing ran while paused")
		f.mu.Unlock()
		env.SignalWorkflow(workflows.UnpauseSignal, nil)
	}, 10*time.Hour)
	env.ExecuteWorkflow(workflows.PaperWorkflow, paperInput())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	assert.Equal(t, workflows.StatePaused, paused.State)
	assert.Equal(t, workflows.StageExperiments, paused.Stage, "the stage it paused in")
	assert.Equal(t, workflows.StatePaused, later.State)
	// The implement turn in flight finished; run 1 waited for the unpause.
	assert.Equal(t, []string{prepareCall(), implementTurn()}, f.calls[:callsWhilePaused])
	assert.Equal(t, seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), tailFull), f.calls)
	assert.Equal(t, []string{"setup", "experiments", "paused", "plots", "notes", "writeup", "refine", "numbers", "latex", "review", "export", "done"}, stages)
	assert.Equal(t, workflows.StateCompleted, queryPaper(t, env, "").State)
}

// TestPaperCancel: a cancelled paper ends as cancelled, not failed.
func TestPaperCancel(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.PaperWorkflowID(tmpl, "alpha")})
	f := newPaperFake()
	f.coderDelay = time.Minute
	f.register(env)
	var mu sync.Mutex
	var stages []string
	recordStages(env, &mu, &stages)
	env.RegisterDelayedCallback(env.CancelWorkflow, 90*time.Second)
	env.ExecuteWorkflow(workflows.PaperWorkflow, paperInput())
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.Error(t, err)
	var canceled *temporal.CanceledError
	assert.ErrorAs(t, err, &canceled)
	var fromErr workflows.PaperProgress
	require.True(t, canceled.HasDetails())
	require.NoError(t, canceled.Details(&fromErr))
	p := queryPaper(t, env, "")
	assert.Equal(t, p, fromErr, "the progress rides in the cancellation")
	assert.Equal(t, workflows.StateCancelled, p.State)
	assert.Equal(t, "cancelled during experiments", p.Error)
	assert.Equal(t, string(workflows.StateCancelled), stages[len(stages)-1])
}

// TestCampaignSkipAndPause: skip drops a running paper (cancelled) and a
// pending idea (never started) while the campaign goes on; a paused
// campaign starts no paper until unpaused.
func TestCampaignSkipAndPause(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(campaignStart)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: campaignID})
	f := newCampaignFake()
	f.ideas = ideasByIndex(activities.IdeaResult{Idea: idea("alpha")}, activities.IdeaResult{Idea: idea("beta")},
		activities.IdeaResult{Idea: idea("gamma")}, activities.IdeaResult{Idea: idea("delta")})
	f.register(env, false)
	// Real paper workflows over fake activities; coder turns take 10 min,
	// so a paper takes about 40 min of workflow time.
	pf := newPaperFake()
	pf.coderDelay = 10 * time.Minute
	pf.register(env)
	var mu sync.Mutex
	var started []string
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, _ converter.EncodedValues) {
		mu.Lock()
		started = append(started, fmt.Sprintf("%s@%v", info.WorkflowExecution.ID, env.Now().Sub(campaignStart)))
		mu.Unlock()
	})
	var paused workflows.CampaignProgress
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SkipSignal, "alpha")               // running
		env.SignalWorkflow(workflows.SkipSignal, "paper/nanoGPT/gamma") // pending
		env.SignalWorkflow(workflows.SkipSignal, "nobody")              // ignored
	}, 30*time.Minute)
	// beta runs from 30m; the pause at 60m holds beta and then delta back
	// until 5h.
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.PauseSignal, nil) }, time.Hour)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.ProgressQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&paused))
		env.SignalWorkflow(workflows.UnpauseSignal, nil)
	}, 5*time.Hour)
	in := campaignInput()
	in.NumIdeas = 4
	env.ExecuteWorkflow(workflows.CampaignWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var prog workflows.CampaignProgress
	require.NoError(t, env.GetWorkflowResult(&prog))

	states := map[string]string{}
	for _, st := range prog.Ideas {
		states[st.Name] = string(st.State)
	}
	assert.Equal(t, map[string]string{"alpha": "skipped", "beta": "completed", "gamma": "skipped", "delta": "completed"}, states)
	assert.Equal(t, workflows.StatePaused, paused.State)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, started, 3, "gamma never started: %v", started)
	assert.Equal(t, "paper/nanoGPT/alpha@0s", started[0])
	assert.Equal(t, "paper/nanoGPT/beta@30m0s", started[1], "beta starts when alpha is skipped")
	assert.Contains(t, started[2], "paper/nanoGPT/delta@5h", "delta waited for the unpause")
}

// TestCampaignHoldsIdeas: with HoldIdeas nothing starts until an approve
// update; a rejected idea never starts; the updates refuse unknown or
// already decided ideas.
func TestCampaignHoldsIdeas(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(campaignStart)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: campaignID})
	f := newCampaignFake()
	f.ideas = ideasByIndex(activities.IdeaResult{Idea: idea("alpha")}, activities.IdeaResult{Idea: idea("beta")}, activities.IdeaResult{Idea: idea("gamma")})
	f.register(env, true)
	var mu sync.Mutex
	var stages []string
	recordStages(env, &mu, &stages)

	type outcome struct {
		names []string
		err   error
	}
	var got []outcome
	decide := func(update string, d workflows.IdeaDecision) {
		i := len(got)
		got = append(got, outcome{})
		env.UpdateWorkflow(update, fmt.Sprintf("u%d", i), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { got[i].err = err },
			OnAccept:   func() {},
			OnComplete: func(v any, err error) { got[i].err = err; got[i].names, _ = v.([]string) },
		}, d)
	}
	var waiting workflows.CampaignProgress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.ProgressQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&waiting))
		decide(workflows.ApproveUpdate, workflows.IdeaDecision{Idea: "alpha"})
		decide(workflows.ApproveUpdate, workflows.IdeaDecision{Idea: "alpha"}) // decided already
		decide(workflows.ApproveUpdate, workflows.IdeaDecision{Idea: "omega"}) // no such idea
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		decide(workflows.RejectUpdate, workflows.IdeaDecision{Idea: "beta", Reason: "(too close to alpha)"})
		decide(workflows.ApproveUpdate, workflows.IdeaDecision{All: true})
	}, 2*time.Hour)
	in := campaignInput()
	in.NumIdeas, in.HoldIdeas = 3, true
	env.ExecuteWorkflow(workflows.CampaignWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var prog workflows.CampaignProgress
	require.NoError(t, env.GetWorkflowResult(&prog))

	for _, st := range waiting.Ideas {
		assert.Equal(t, workflows.StateAwaitingApproval, st.State, st.Name)
	}
	require.Len(t, got, 5)
	assert.Equal(t, outcome{names: []string{"alpha"}}, got[0])
	assert.ErrorContains(t, got[1].err, "idea alpha is running, not awaiting approval")
	assert.ErrorContains(t, got[2].err, `no idea named "omega"`)
	assert.Equal(t, outcome{names: []string{"beta"}}, got[3])
	assert.Equal(t, outcome{names: []string{"gamma"}}, got[4])

	assert.Equal(t, []string{"paper/nanoGPT/alpha", "paper/nanoGPT/gamma"}, f.childIDs())
	assert.Equal(t, time.Hour, f.children[0].Start, "alpha waited for its approval")
	states := map[string]string{}
	for _, st := range prog.Ideas {
		states[st.Name] = string(st.State) + " " + st.Error
	}
	assert.Equal(t, map[string]string{"alpha": "completed ", "beta": "rejected rejected by request (too close to alpha)", "gamma": "completed "}, states)
	assert.Contains(t, stages, string(workflows.StateAwaitingApproval))
}

// TestCampaignContinuesAsNew: past HistoryLimit the campaign lets its
// running paper finish, starts no other, and continues as new carrying its
// progress; every idea's paper starts exactly once over the runs.
func TestCampaignContinuesAsNew(t *testing.T) {
	in := campaignInput()
	in.NumIdeas, in.Parallel, in.HistoryLimit = 5, 2, 40
	var started []string
	var prog workflows.CampaignProgress
	runs := 0
	for ; runs < 10; runs++ {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		env.SetStartTime(campaignStart)
		env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: campaignID})
		f := newCampaignFake()
		f.ideas = ideasByIndex(activities.IdeaResult{Idea: idea("alpha")}, activities.IdeaResult{Idea: idea("beta")},
			activities.IdeaResult{Idea: idea("gamma")}, activities.IdeaResult{Idea: idea("delta")}, activities.IdeaResult{Idea: idea("eps")})
		f.register(env, true)
		env.SetCurrentHistoryLength(100) // past the limit from the start
		env.ExecuteWorkflow(workflows.CampaignWorkflow, in)
		require.True(t, env.IsWorkflowCompleted())
		started = append(started, f.childIDs()...)
		// Each run finishes the two papers it had started, no more.
		assert.LessOrEqual(t, len(f.childIDs()), 2, "run %d", runs)
		if runs > 0 {
			assert.Empty(t, f.ideaCalls, "a continued campaign generates no ideas")
			assert.Empty(t, f.preflights, "a continued campaign runs no preflight")
		}
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if !errors.As(err, &can) {
			require.NoError(t, err)
			require.NoError(t, env.GetWorkflowResult(&prog))
			break
		}
		in = workflows.CampaignInput{}
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
		require.NotNil(t, in.Carry)
		assert.Less(t, in.Carry.Next, 5)
	}
	assert.Equal(t, 2, runs, "continued as new after the 2nd and the 4th paper")
	// Each paper once; two started in one workflow task run in either order.
	assert.ElementsMatch(t, []string{"paper/nanoGPT/alpha", "paper/nanoGPT/beta", "paper/nanoGPT/gamma", "paper/nanoGPT/delta", "paper/nanoGPT/eps"}, started)
	require.Len(t, prog.Ideas, 5)
	for _, st := range prog.Ideas {
		assert.Equal(t, workflows.StateCompleted, st.State, st.Name)
	}
	assert.Equal(t, workflows.StateCompleted, prog.State)
}
