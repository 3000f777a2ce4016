package activities

import (
	"context"
	"errors"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A Temporal server outage must not cost an experiment. The SDK retries a
// failing heartbeat for one heartbeat timeout and then cancels the
// activity's context with the RPC error as its cause, as if the run had
// been cancelled: a server restart that takes a minute would kill hours of
// training. outlastOutage gives a script a context that ends on a real
// cancellation (the paper cancelled, the activity timed out or paused,
// the worker stopping) but not on an outage; the run then goes on and
// reports when the server is back. If the server timed the activity out
// meanwhile, its retry finds the finished run in the executions ledger
// (finishedEarlier) and returns it instead of running it again.
func outlastOutage(ctx context.Context) (context.Context, context.CancelFunc) {
	run, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	if !activity.IsActivity(ctx) {
		stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
		return run, func() { stop(); cancel(nil) }
	}
	stopping := activity.GetWorkerStopChannel(ctx)
	go func() {
		select {
		case <-run.Done():
			return
		case <-ctx.Done():
		}
		cause := context.Cause(ctx)
		if !serverOutage(cause) {
			cancel(cause)
			return
		}
		activity.GetLogger(ctx).Warn("the Temporal server has not answered heartbeats for a heartbeat timeout; the run goes on and reports when it is back", "error", cause)
		select {
		case <-run.Done():
		case <-stopping:
			cancel(errors.New("the worker is stopping"))
		}
	}()
	return run, func() { cancel(nil) }
}

// serverOutage tells an activity context cancelled because the server
// could not be reached (the SDK's last heartbeat error) from one cancelled
// on purpose.
func serverOutage(cause error) bool {
	var canceled *temporal.CanceledError
	switch {
	case cause == nil, errors.As(cause, &canceled), errors.Is(cause, context.Canceled),
		errors.Is(cause, activity.ErrActivityPaused), errors.Is(cause, activity.ErrActivityReset):
		return false
	case errors.Is(cause, context.DeadlineExceeded):
		return true
	}
	switch cause.(type) {
	case *serviceerror.Unavailable, *serviceerror.DeadlineExceeded, *serviceerror.ResourceExhausted:
		return true
	}
	if s, ok := status.FromError(cause); ok {
		switch s.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
			return true
		}
	}
	return false
}
