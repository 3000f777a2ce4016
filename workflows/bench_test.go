package workflows_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestBenchReviewWorkflow: a benchmark reviews the papers not reviewed
// before, a few at a time, counts the ones whose review fails and names
// them in the table; more papers than a batch continue as new.
func TestBenchReviewWorkflow(t *testing.T) {
	papers := func(n int) []workflows.BenchPaper {
		var out []workflows.BenchPaper
		for i := range n {
			out = append(out, workflows.BenchPaper{ID: fmt.Sprintf("p%d", i), File: "paper.txt"})
		}
		return out
	}
	tests := []struct {
		name         string
		in           workflows.BenchInput
		done         []string
		failing      map[string]bool
		refused      bool     // the provider refuses the key
		wantReviewed []string // papers whose review ran
		wantFailed   int
		continued    bool
	}{
		{
			name:         "papers reviewed before are skipped, a failing one is named",
			in:           workflows.BenchInput{Name: "b", Papers: papers(6), Review: activities.ReviewSpec{Model: "scripted", Ensemble: 2}, Concurrency: 2},
			done:         []string{"p1", "p4"},
			failing:      map[string]bool{"p3": true},
			wantReviewed: []string{"p0", "p2", "p3", "p5"},
			wantFailed:   1,
		},
		{
			name:    "a refused model key stops the benchmark",
			in:      workflows.BenchInput{Name: "b", Papers: papers(6), Review: activities.ReviewSpec{Model: "gpt-x", Ensemble: 1}, Concurrency: 1},
			refused: true, wantReviewed: []string{"p0"},
		},
		{
			name:         "more papers than a batch continue as new",
			in:           workflows.BenchInput{Name: "b", Papers: papers(5), Review: activities.ReviewSpec{Model: "scripted", Ensemble: 1}, Concurrency: 3, Batch: 2},
			wantReviewed: []string{"p0", "p1"},
			continued:    true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			var mu sync.Mutex
			running, most := 0, 0
			reviewed := map[string]bool{}
			var table activities.BenchInput
			env.OnActivity(acts.BenchDone, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.BenchInput) ([]string, error) {
					assert.Equal(t, "bench/b", in.Key)
					return tt.done, nil
				})
			env.OnActivity(acts.ReviewMember, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.ReviewInput) (activities.MemberResult, error) {
					id := strings.TrimPrefix(in.Paper.Key, "bench/b/")
					mu.Lock()
					reviewed[id] = true
					mu.Unlock()
					assert.Equal(t, "paper.txt", in.PDF)
					if tt.refused {
						return activities.MemberResult{}, temporal.NewNonRetryableApplicationError("OPENAI_API_KEY refused", activities.ErrTypeModel, nil)
					}
					if tt.failing[id] {
						return activities.MemberResult{}, temporal.NewNonRetryableApplicationError("no usable reply", activities.ErrTypeUnparsable, nil)
					}
					return activities.MemberResult{Overall: 4, Metered: activities.Metered{Usage: llm.Usage{Calls: 1}}}, nil
				})
			env.OnActivity(acts.MetaReview, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.MetaInput) (activities.ReviewResult, error) {
					mu.Lock()
					running++
					most = max(most, running)
					mu.Unlock()
					return activities.ReviewResult{Overall: 4, Decision: "Reject", Metered: activities.Metered{Usage: llm.Usage{Calls: 1}}}, nil
				}).After(time.Minute)
			env.SetOnActivityCompletedListener(func(info *activity.Info, _ converter.EncodedValue, _ error) {
				if info.ActivityType.Name == "MetaReview" {
					mu.Lock()
					running--
					mu.Unlock()
				}
			})
			env.OnActivity(acts.WriteBenchReviews, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.BenchInput) (activities.BenchTable, error) {
					table = in
					return activities.BenchTable{Path: "/a/reviews.csv", Reviewed: len(in.IDs) - tt.wantFailed, Missing: tt.wantFailed}, nil
				})
			env.ExecuteWorkflow(workflows.BenchReviewWorkflow, tt.in)
			require.True(t, env.IsWorkflowCompleted())
			var got []string
			for _, p := range tt.in.Papers {
				if reviewed[p.ID] {
					got = append(got, p.ID)
				}
			}
			assert.Equal(t, tt.wantReviewed, got)
			assert.LessOrEqual(t, most, tt.in.Concurrency, "papers reviewed at once")
			if tt.continued {
				assert.True(t, workflow.IsContinueAsNewError(env.GetWorkflowError()), "%v", env.GetWorkflowError())
				return
			}
			if tt.refused {
				require.Error(t, env.GetWorkflowError())
				assert.Contains(t, env.GetWorkflowError().Error(), "OPENAI_API_KEY refused")
				return
			}
			require.NoError(t, env.GetWorkflowError())
			var res workflows.BenchResult
			require.NoError(t, env.GetWorkflowResult(&res))
			assert.Equal(t, len(tt.done)+len(tt.wantReviewed)-tt.wantFailed, res.Progress.Reviewed)
			assert.Equal(t, tt.wantFailed, res.Progress.Failed)
			assert.Equal(t, workflows.StateCompleted, res.Progress.State)
			require.Len(t, table.Errors, len(tt.in.Papers))
			for i, p := range tt.in.Papers {
				if tt.failing[p.ID] {
					assert.Contains(t, table.Errors[i], "no usable reply")
					assert.Contains(t, res.Progress.Errors, p.ID+": no usable reply")
				} else {
					assert.Empty(t, table.Errors[i])
				}
			}
		})
	}
}

// TestBenchReviewBudget: at its budget a benchmark waits, saying how to
// go on, and resumes when the budget is raised.
func TestBenchReviewBudget(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	calls := 0
	env.OnActivity(acts.BenchDone, mock.Anything, mock.Anything).Return([]string(nil), nil)
	env.OnActivity(acts.ReviewMember, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReviewInput) (activities.MemberResult, error) {
			calls++
			assert.True(t, in.Budget.Limited())
			return activities.MemberResult{Overall: 4, Metered: activities.Metered{Usage: llm.Usage{Calls: 1, CostUSD: 0.01}}}, nil
		})
	env.OnActivity(acts.MetaReview, mock.Anything, mock.Anything).Return(activities.ReviewResult{Overall: 4}, nil)
	env.OnActivity(acts.WriteBenchReviews, mock.Anything, mock.Anything).Return(activities.BenchTable{Reviewed: 3}, nil)
	var waiting workflows.BenchProgress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.ProgressQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&waiting))
		env.SignalWorkflow(workflows.BudgetUpdate, workflows.BudgetChange{LimitUSD: 1})
	}, time.Hour)
	in := workflows.BenchInput{Name: "b", Papers: []workflows.BenchPaper{{ID: "a", File: "paper.pdf"}, {ID: "b", File: "paper.pdf"}, {ID: "c", File: "paper.pdf"}},
		Review: activities.ReviewSpec{Model: "m", Ensemble: 1}, Concurrency: 1, BudgetUSD: 0.015}
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.BenchWorkflowID("b")})
	env.ExecuteWorkflow(workflows.BenchReviewWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, workflows.StateBudgetExhausted, waiting.State)
	assert.Contains(t, waiting.Budget.Note, "raise it with: starter budget bench-review/b --usd N")
	// The second paper's reviewer spent past the limit; its meta-review waits.
	assert.Equal(t, 1, waiting.Reviewed)
	var res workflows.BenchResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, 3, res.Progress.Reviewed)
	assert.Equal(t, 3, calls)
}
