package workflows

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
)

// routingVersion: papers started before it ran their experiments on the
// workflow task queue; later ones on experiment hosts.
const routingVersion = "experiment-hosts"

// hostBaselineVersion: full papers started before it used the template's
// run_0; later ones run the baseline on their host (cached there).
const hostBaselineVersion = "host-baseline"

// maxHostMoves bounds how often one run moves to another host before the
// paper gives up: more means the hosts themselves are failing.
const maxHostMoves = 5

// reserveOptions: any host may answer; none at all is worth waiting for
// (hosts come and go), for HostWait.
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

// deviceOptions are runOptions on one device's queue.
func deviceOptions(ctx workflow.Context, host string, device int, timeout, startTimeout time.Duration) workflow.Context {
	ctx = runOptions(ctx, timeout)
	opts := workflow.GetActivityOptions(ctx)
	opts.TaskQueue = activities.DeviceQueue(host, device)
	opts.ScheduleToStartTimeout = startTimeout
	return workflow.WithActivityOptions(ctx, opts)
}

func isScheduleToStart(err error) bool {
	var te *temporal.TimeoutError
	return errors.As(err, &te) && te.TimeoutType() == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START
}

// onHost runs an experiment or plot run on a device of the paper's host,
// reserving a host first. A host that stops answering (its queued task is
// never picked up) is dropped and the run moves to another; the run's own
// retries cover a host that answers again.
func (p *paperRun) onHost(ctx workflow.Context, what string, act any, in any, timeout time.Duration, out *activities.RunResult) error {
	if err := p.checkpoint(ctx); err != nil {
		return err
	}
	var avoid string
	for moves := 0; moves <= maxHostMoves; moves++ {
		if p.host.Host == "" {
			p.prog.Host = "waiting for an experiment host"
			err := workflow.ExecuteActivity(reserveOptions(ctx, p.in.HostWait), p.hostActs.ReserveHost,
				activities.ReserveInput{Paper: p.prog.Paper, Avoid: avoid}).Get(ctx, &p.host)
			if err != nil {
				p.prog.Host = ""
				return fmt.Errorf("no experiment host took the paper within %s (start a worker on a GPU or CPU host): %w", p.in.HostWait, err)
			}
			p.prog.Host = p.host.Host
			workflow.GetLogger(ctx).Info("experiment host reserved", "paper", p.prog.Paper, "host", p.host.Host, "devices", len(p.host.Devices))
		}
		var dev int
		err := workflow.ExecuteActivity(hostOptions(ctx, p.host.Host, p.in.HostTimeout), p.hostActs.AcquireDevice,
			activities.DeviceInput{Paper: p.prog.Paper, Run: p.prog.Run}).Get(ctx, &dev)
		if err == nil {
			p.prog.Device = dev
			err = workflow.ExecuteActivity(deviceOptions(ctx, p.host.Host, dev, timeout, p.in.HostTimeout), act, in).Get(ctx, out)
		}
		if !isScheduleToStart(err) {
			return err
		}
		p.warn(ctx, fmt.Sprintf("%s: host %s did not pick up its work within %s; moving to another host", what, p.host.Host, p.in.HostTimeout))
		avoid, p.host = p.host.Host, activities.HostInfo{}
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: moved between hosts %d times without finishing", what, maxHostMoves+1), "HostsFailing", nil)
}
