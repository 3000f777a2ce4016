package activities

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestServerOutage: the causes the SDK gives a cancelled activity context,
// told apart: an unreachable server lets a run go on, a real cancellation
// stops it.
func TestServerOutage(t *testing.T) {
	tests := []struct {
		name  string
		cause error
		want  bool
	}{
		{"heartbeat RPC timed out", context.DeadlineExceeded, true},
		{"server unavailable", serviceerror.NewUnavailable("connection refused"), true},
		{"gRPC status unavailable", status.Error(codes.Unavailable, "transport is closing"), true},
		{"wrapped deadline", fmt.Errorf("heartbeat: %w", context.DeadlineExceeded), true},
		{"resource exhausted", serviceerror.NewResourceExhausted(0, "busy"), true},
		{"cancelled by the workflow", temporal.NewCanceledError(), false},
		{"activity timed out on the server", serviceerror.NewNotFound("invalid activityID or activity already timed out"), false},
		{"worker shut down", context.Canceled, false},
		{"paused", activity.ErrActivityPaused, false},
		{"reset", activity.ErrActivityReset, false},
		{"namespace gone", serviceerror.NewNamespaceNotFound("default"), false},
		{"no cause", nil, false},
		{"something else", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := serverOutage(tt.cause); got != tt.want {
				t.Errorf("serverOutage(%v) = %v, want %v", tt.cause, got, tt.want)
			}
		})
	}
}

// Outside an activity the run's context follows its parent.
func TestOutlastOutageOutsideActivity(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	run, stop := outlastOutage(parent)
	defer stop()
	cancel()
	select {
	case <-run.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the run's context outlived its cancelled parent")
	}
}
