package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestBaselineWorkflow: a standalone baseline runs run_0 on the host it
// names (or on whichever answers), with the template's run timeout, and
// reports what the host cached; a silent named host is an error that says
// what to start, not a move to another host.
func TestBaselineWorkflow(t *testing.T) {
	measured := paper.FinalInfo{"x_plus_y": {Means: map[string]float64{"final_val_acc": 0.99}}}
	tests := []struct {
		name        string
		in          workflows.BaselineInput
		silent      bool // the device never starts the run
		run         func(activities.RunInput) activities.RunResult
		wantErr     string
		wantQueue   string
		wantReserve int
		want        workflows.BaselineResult
	}{
		{
			name: "on the named host, recomputed",
			in:   workflows.BaselineInput{Template: "grokking", Host: "gpu1", Rerun: true, Stamp: "20260101_000000"},
			run: func(in activities.RunInput) activities.RunResult {
				return activities.RunResult{OK: true, Duration: 75 * time.Second, Results: measured, Cache: "/a/baselines/gpu1/grokking/full/abc/run_0"}
			},
			wantQueue: "aiscientist-host-gpu1-dev0",
			want: workflows.BaselineResult{Host: "gpu1", Attempts: 1, Seconds: 75, Workspace: "/ws/grokking/20260101_000000_baseline_full",
				Cache: "/a/baselines/gpu1/grokking/full/abc/run_0", Results: measured},
		},
		{
			name: "on any host, already cached there",
			in:   workflows.BaselineInput{Template: "grokking", Quick: true, Stamp: "20260101_000000"},
			run: func(activities.RunInput) activities.RunResult {
				return activities.RunResult{OK: true, Cached: true, Results: measured, Cache: "/c"}
			},
			wantQueue: "aiscientist-host-hostA-dev0", wantReserve: 1,
			want: workflows.BaselineResult{Host: "hostA", Attempts: 1, Cached: true, Workspace: "/ws/grokking/20260101_000000_baseline_quick", Cache: "/c", Results: measured},
		},
		{
			name: "a named host that is not there",
			in:   workflows.BaselineInput{Template: "grokking", Host: "gone", Stamp: "20260101_000000"}, silent: true,
			wantErr: "is a worker running there (worker --host gone)?",
		},
		{
			name: "a baseline that fails twice",
			in:   workflows.BaselineInput{Template: "grokking", Host: "gpu1", Stamp: "20260101_000000"},
			run: func(activities.RunInput) activities.RunResult {
				return activities.RunResult{Error: "experiment.py exited with status 1: KeyError: 'x'"}
			},
			wantErr: "the template's own baseline failed: experiment.py exited with status 1: KeyError: 'x' (its logs: /ws/grokking/20260101_000000_baseline_full/logs)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			var mu sync.Mutex
			var runs []activities.RunInput
			var queues []string
			reserves := 0
			env.OnActivity(acts.PrepareBaseline, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.BaselineSetup) (activities.BaselineWorkspace, error) {
					return activities.BaselineWorkspace{Dir: "/ws/" + in.Paper.Key, RunTimeout: 3 * time.Hour}, nil
				})
			env.OnActivity(hostActs.ReserveHost, mock.Anything, mock.Anything).Return(
				func(context.Context, activities.ReserveInput) (activities.HostInfo, error) {
					reserves++
					return activities.HostInfo{Host: "hostA", Devices: []string{"cpu"}}, nil
				})
			env.OnActivity(hostActs.AcquireDevice, mock.Anything, mock.Anything).Return(
				func(context.Context, activities.DeviceInput) (activities.DeviceGrant, error) {
					if tt.silent {
						return activities.DeviceGrant{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
					}
					return activities.DeviceGrant{}, nil
				})
			env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				if info.ActivityType.Name == "RunExperiment" {
					mu.Lock()
					queues = append(queues, info.TaskQueue)
					mu.Unlock()
				}
			})
			env.OnActivity(runner.RunExperiment, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.RunInput) (activities.RunResult, error) {
					mu.Lock()
					runs = append(runs, in)
					mu.Unlock()
					return tt.run(in), nil
				})
			env.ExecuteWorkflow(workflows.BaselineWorkflow, tt.in)
			require.True(t, env.IsWorkflowCompleted())
			if tt.wantErr != "" {
				require.Error(t, env.GetWorkflowError())
				assert.Contains(t, env.GetWorkflowError().Error(), tt.wantErr)
				assert.Zero(t, reserves, "a named host's baseline must not move to another host")
				return
			}
			require.NoError(t, env.GetWorkflowError())
			var res workflows.BaselineResult
			require.NoError(t, env.GetWorkflowResult(&res))
			assert.Equal(t, tt.want, res)
			assert.Equal(t, tt.wantReserve, reserves)
			require.Len(t, runs, 1)
			assert.Equal(t, []string{tt.wantQueue}, queues)
			r := runs[0]
			assert.Equal(t, 0, r.Run)
			assert.Equal(t, tt.in.Quick, r.Quick)
			assert.Equal(t, tt.in.Rerun, r.Fresh)
			assert.True(t, r.Report)
			assert.Equal(t, 3*time.Hour, r.Timeout, "the template's own run timeout")
			assert.Equal(t, workflows.BaselineKey(tt.in.Template, tt.in.Stamp, tt.in.Quick), r.Paper.Key)
		})
	}
}
