package e2e

import (
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/worker/app"
)

// reserveMany reserves an experiment host n times, one after another, the
// way papers do, and returns the host of each reservation.
func reserveMany(ctx workflow.Context, n int) ([]string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: activities.ExperimentsQueue, StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	var hosts []string
	for i := range n {
		var h activities.HostInfo
		in := activities.ReserveInput{Paper: workflow.GetInfo(ctx).WorkflowExecution.ID}
		if err := workflow.ExecuteActivity(ctx, "ReserveHost", in).Get(ctx, &h); err != nil {
			return hosts, err
		}
		hosts = append(hosts, h.Host)
		if i%4 == 3 {
			// Papers do not all start at once: the pollers are back waiting.
			if err := workflow.Sleep(ctx, 50*time.Millisecond); err != nil {
				return hosts, err
			}
		}
	}
	return hosts, nil
}

// TestReservationsFollowDevices: a host with four slots takes about four
// times the papers of a host with one (hosts poll the shared queue in
// proportion to their devices; the server hands a task to the
// longest-waiting poller). The split is printed; the test asks only that
// the larger host takes most of them.
func TestReservationsFollowDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded server skipped in -short mode")
	}
	ctx, a := startOrchestrator(t, 5*time.Minute)
	for _, h := range []app.HostConfig{{Name: "small-host", CPUSlots: 1}, {Name: "big-host", CPUSlots: 4}} {
		if _, err := a.AddHost(h); err != nil {
			t.Fatal(err)
		}
	}
	const queue, n = "e2e-reserve", 60
	w := worker.New(a.Client, queue, worker.Options{})
	w.RegisterWorkflow(reserveMany)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	time.Sleep(2 * time.Second) // every host's pollers are waiting
	run, err := a.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, reserveMany, n)
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	if err := run.Get(ctx, &hosts); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, h := range hosts {
		count[h]++
	}
	t.Logf("%d reservations: big-host (4 slots) %d, small-host (1 slot) %d", n, count["big-host"], count["small-host"])
	if count["big-host"] <= n/2 {
		t.Errorf("the host with four slots took %d of %d papers; want most", count["big-host"], n)
	}
}
