package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
)

// Errors that retrying cannot fix: the stage fails at once with the message.
var nonRetryable = []string{
	activities.ErrTypeBadInput, activities.ErrTypeModel, activities.ErrTypeUnparsable,
	activities.ErrTypeMissingInput, activities.ErrTypeNoPDF,
}

// llmOptions: model calls take minutes at worst; transient provider errors
// (5xx, timeouts, 429) back off up to five minutes between tries.
func llmOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:             summaryOf(ctx),
		StartToCloseTimeout: 20 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			MaximumAttempts:        8,
			NonRetryableErrorTypes: nonRetryable,
		},
	})
}

// fileOptions: local file work and LaTeX builds are quick.
func fileOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:             summaryOf(ctx),
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: nonRetryable,
		},
	})
}

// runOptions: a script run heartbeats every few seconds, so a dead worker is
// noticed in a minute rather than after the run's whole time budget. A
// failing experiment is a result, not an error: retries here only cover
// infrastructure failures.
func runOptions(ctx workflow.Context, timeout time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:             summaryOf(ctx),
		StartToCloseTimeout: timeout + 5*time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        10, // a killed worker costs one attempt
			NonRetryableErrorTypes: nonRetryable,
		},
	})
}

// reserveOptions: any host may answer; none at all is worth waiting for
// (hosts come and go), for wait.
func reserveOptions(ctx workflow.Context, wait time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                summaryOf(ctx),
		TaskQueue:              activities.ExperimentsQueue,
		ScheduleToStartTimeout: wait,
		StartToCloseTimeout:    time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 10 * time.Second, MaximumAttempts: 10},
	})
}

// hostOptions: a host that does not pick up its own task within timeout is
// taken for dead (a schedule-to-start timeout is final, not retried).
func hostOptions(ctx workflow.Context, host string, timeout time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                summaryOf(ctx),
		TaskQueue:              activities.HostQueue(host),
		ScheduleToStartTimeout: timeout,
		StartToCloseTimeout:    time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3, NonRetryableErrorTypes: nonRetryable},
	})
}

// deviceOptions are runOptions on one device's queue; a device that does
// not start the run within startTimeout is taken for dead with its host.
// priority orders the runs waiting for the device (1 first).
func deviceOptions(ctx workflow.Context, host string, device int, timeout, startTimeout time.Duration, priority int) workflow.Context {
	ctx = runOptions(ctx, timeout)
	opts := workflow.GetActivityOptions(ctx)
	opts.TaskQueue = activities.DeviceQueue(host, device)
	opts.ScheduleToStartTimeout = startTimeout
	opts.Priority = temporal.Priority{PriorityKey: priority}
	return workflow.WithActivityOptions(ctx, opts)
}

// plotOptions are runOptions on a host's plot queue. Its few slots are
// shared by the host's papers, so a plot may wait behind others: a host
// that does not start it within hostTimeout plus one plot's limit is taken
// for dead.
func plotOptions(ctx workflow.Context, host string, timeout, hostTimeout time.Duration) workflow.Context {
	ctx = runOptions(ctx, timeout)
	opts := workflow.GetActivityOptions(ctx)
	opts.TaskQueue = activities.PlotQueue(host)
	opts.ScheduleToStartTimeout = hostTimeout + timeout
	return workflow.WithActivityOptions(ctx, opts)
}

// priorityLevels is the server's default number of priority keys
// (matching.priorityLevels).
const priorityLevels = 5

// runPriority is the priority key (1 first) of run number run (0: the
// baseline), after which its paper needs after more runs.
//
// RunOrderRounds, the default: fewest runs done first, so papers advance
// together, a run each in turn. Every paper then keeps runs waiting until
// the last round, and while one paper's model writes its next run another
// paper's run takes the slot: the slots stay busy to the end.
//
// RunOrderFinishFirst: fewest runs left first (shortest remaining work),
// so papers finish one after another, the first much sooner, and their
// writing overlaps the others' runs. Its cost is the end: the papers
// served last are left with all their runs, and one paper's runs, with
// its model turns between them, cannot keep two slots busy.
func runPriority(order string, run, after int) int {
	k := run
	if order == RunOrderFinishFirst {
		k = after
	}
	return 1 + min(max(k, 0), priorityLevels-1)
}

type summaryKey struct{}

// summarize names the next activities for the Web UI ("write Method",
// "run_2 attempt 1"); the options builders copy it into ActivityOptions.
// Summaries are metadata only: replay ignores them.
func summarize(ctx workflow.Context, format string, args ...any) workflow.Context {
	return workflow.WithValue(ctx, summaryKey{}, fmt.Sprintf(format, args...))
}

func summaryOf(ctx workflow.Context) string {
	s, _ := ctx.Value(summaryKey{}).(string)
	return s
}
