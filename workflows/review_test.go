package workflows_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestReviewWorkflow: a standalone review runs the ensemble concurrently,
// counts what it cost and returns the review itself.
func TestReviewWorkflow(t *testing.T) {
	tests := []struct {
		name      string
		failing   map[int]bool
		wantErr   string
		wantNotes int
	}{
		{name: "every member answers"},
		{name: "one member fails", failing: map[int]bool{1: true}, wantNotes: 1},
		{name: "every member fails", failing: map[int]bool{0: true, 1: true, 2: true}, wantErr: "no usable reply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			var mu sync.Mutex
			started := 0
			env.OnActivity(acts.ReviewMember, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.ReviewInput) (activities.MemberResult, error) {
					mu.Lock()
					started++
					mu.Unlock()
					if tt.failing[in.Member] {
						return activities.MemberResult{}, temporal.NewNonRetryableApplicationError("no usable reply", activities.ErrTypeUnparsable, nil)
					}
					return activities.MemberResult{Overall: 3, Metered: activities.Metered{Usage: llm.Usage{Calls: 1, PromptTokens: 100}}}, nil
				})
			env.OnActivity(acts.MetaReview, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.MetaInput) (activities.ReviewResult, error) {
					assert.True(t, in.WithForm)
					r := paper.Review{Summary: "meta", Overall: 3, Decision: "Reject"}
					return activities.ReviewResult{Overall: 3, Decision: "Reject", Reviews: len(in.Members), Form: &r,
						Metered: activities.Metered{Usage: llm.Usage{Calls: 2, PromptTokens: 10}}}, nil
				})
			in := workflows.ReviewWorkflowInput{Review: activities.ReviewInput{
				Paper: activities.PaperRef{Key: workflows.ReviewKey("20260101_000000", "btxdoc"), Name: "btxdoc", Model: "scripted"},
				PDF:   "btxdoc.pdf", Spec: activities.ReviewSpec{Ensemble: 3}, WithForm: true}}
			env.ExecuteWorkflow(workflows.ReviewWorkflow, in)
			require.True(t, env.IsWorkflowCompleted())
			assert.Equal(t, 3, started)
			if tt.wantErr != "" {
				require.Error(t, env.GetWorkflowError())
				assert.Contains(t, env.GetWorkflowError().Error(), tt.wantErr)
				return
			}
			require.NoError(t, env.GetWorkflowError())
			var res workflows.ReviewWorkflowResult
			require.NoError(t, env.GetWorkflowResult(&res))
			require.NotNil(t, res.Result.Form)
			assert.Equal(t, "meta", res.Result.Form.Summary)
			ok := 3 - len(tt.failing)
			assert.Equal(t, ok, res.Result.Reviews)
			assert.Equal(t, llm.Usage{Calls: ok + 2, PromptTokens: 100*ok + 10}, res.Progress.Tokens)
			assert.Len(t, res.Progress.Notes, tt.wantNotes)
			assert.Equal(t, workflows.StateCompleted, res.Progress.State)
		})
	}
}
