package workflows_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/aiscientist/aiscientist/activities"
)

// TestPaperRouting drives the routing through the fake's device
// answers: the first host's device queue never starts the run (its worker
// died), so the paper reserves another host, avoiding the first.
func TestPaperRouting(t *testing.T) {
	t.Run("runs go to the reserved host's device, plots to its plot queue", func(t *testing.T) {
		var asks int
		o := runPaper(t, paperInput(), func(f *paperFake) {
			f.device = func(activities.DeviceInput) (activities.DeviceGrant, error) {
				asks++
				return activities.DeviceGrant{Device: 1}, nil
			}
		})
		require.NoError(t, o.err)
		assert.Equal(t, []string{"aiscientist-host-hostA-dev1", "aiscientist-plots-hostA"}, o.fake.queues)
		assert.Equal(t, 1, asks, "only the run asks for a device")
		assert.Equal(t, "hostA", o.prog.Host)
	})
	t.Run("a silent host loses the paper to another", func(t *testing.T) {
		var reserves []activities.ReserveInput
		o := runPaper(t, paperInput(), func(f *paperFake) {
			f.reserve = func(in activities.ReserveInput) (activities.HostInfo, error) {
				reserves = append(reserves, in)
				if in.Avoid == "hostA" {
					return activities.HostInfo{Host: "hostB", Devices: []string{"H100"}, GPUs: true}, nil
				}
				return activities.HostInfo{Host: "hostA", Devices: []string{"cpu"}}, nil
			}
			first := true
			f.device = func(activities.DeviceInput) (activities.DeviceGrant, error) {
				if first { // hostA's worker is gone: its queue never starts the task
					first = false
					return activities.DeviceGrant{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
				}
				return activities.DeviceGrant{}, nil
			}
		})
		require.NoError(t, o.err)
		require.Len(t, reserves, 2)
		assert.Equal(t, "", reserves[0].Avoid)
		assert.Equal(t, "hostA", reserves[1].Avoid)
		assert.Equal(t, "hostB", o.prog.Host)
		assert.Equal(t, []string{"aiscientist-host-hostB-dev0", "aiscientist-plots-hostB"}, o.fake.queues)
		assert.True(t, strings.Contains(strings.Join(o.prog.Warnings, "\n"), "host hostA did not pick up its work"), o.prog.Warnings)
	})
	t.Run("a busy device is asked again on the same host", func(t *testing.T) {
		var asks []activities.DeviceInput
		var reserves int
		o := runPaper(t, paperInput(), func(f *paperFake) {
			f.reserve = func(activities.ReserveInput) (activities.HostInfo, error) {
				reserves++
				return activities.HostInfo{Host: "hostA", Devices: []string{"cpu0", "cpu1"}}, nil
			}
			f.device = func(in activities.DeviceInput) (activities.DeviceGrant, error) {
				asks = append(asks, in)
				return activities.DeviceGrant{Device: len(asks) % 2, Ahead: 1}, nil
			}
			first := true
			f.runErr = func(activities.RunInput) error {
				if first { // the device's queue was longer than its grant said
					first = false
					return temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
				}
				return nil
			}
		})
		require.NoError(t, o.err)
		assert.Equal(t, 1, reserves, "the host answered: the paper keeps it")
		require.Len(t, asks, 2) // run 1 twice
		assert.Nil(t, asks[0].Lapsed)
		require.NotNil(t, asks[1].Lapsed)
		assert.Equal(t, 1, *asks[1].Lapsed, "the lapsed promise is released")
		assert.Equal(t, "hostA", o.prog.Host)
		assert.Contains(t, strings.Join(o.prog.Warnings, "\n"), "device 1 of host hostA did not start the run")
		assert.NotContains(t, strings.Join(o.prog.Warnings, "\n"), "moving to another host")
	})
	t.Run("a device that never starts the run moves the paper", func(t *testing.T) {
		var reserves []activities.ReserveInput
		o := runPaper(t, paperInput(), func(f *paperFake) {
			f.reserve = hostAThenB(&reserves)
			f.runErr = func(activities.RunInput) error {
				if len(reserves) == 1 { // hostA answers, but its device never runs anything
					return temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
				}
				return nil
			}
		})
		require.NoError(t, o.err)
		require.Len(t, reserves, 2)
		assert.Equal(t, "hostA", reserves[1].Avoid)
		assert.Equal(t, "hostB", o.prog.Host)
	})
	t.Run("a host whose plot queue is silent loses the plot to another", func(t *testing.T) {
		var reserves []activities.ReserveInput
		o := runPaper(t, paperInput(), func(f *paperFake) {
			f.reserve = hostAThenB(&reserves)
			f.plotErr = func(activities.PlotInput) error {
				if len(reserves) == 1 { // hostA ran the experiments, then its worker died
					return temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
				}
				return nil
			}
		})
		require.NoError(t, o.err)
		require.Len(t, reserves, 2)
		assert.Equal(t, "hostA", reserves[1].Avoid)
		assert.Equal(t, []string{"aiscientist-host-hostA-dev0", "aiscientist-plots-hostA", "aiscientist-plots-hostB"}, o.fake.queues)
		assert.Contains(t, strings.Join(o.prog.Warnings, "\n"), "plot attempt 1: host hostA did not pick up its work within 15m0s; moving to another host")
		assert.Equal(t, 3, o.prog.Figures)
	})
	t.Run("hosts that keep failing end the paper", func(t *testing.T) {
		o := runPaper(t, paperInput(), func(f *paperFake) {
			f.device = func(activities.DeviceInput) (activities.DeviceGrant, error) {
				return activities.DeviceGrant{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
			}
		})
		require.Error(t, o.err)
		assert.Contains(t, o.err.Error(), "moved between hosts 6 times")
	})
}

// hostAThenB reserves hostA, or hostB when asked to avoid hostA, and
// records every reservation in reserves.
func hostAThenB(reserves *[]activities.ReserveInput) func(activities.ReserveInput) (activities.HostInfo, error) {
	return func(in activities.ReserveInput) (activities.HostInfo, error) {
		*reserves = append(*reserves, in)
		if in.Avoid == "hostA" {
			return activities.HostInfo{Host: "hostB", Devices: []string{"cpu"}}, nil
		}
		return activities.HostInfo{Host: "hostA", Devices: []string{"cpu"}}, nil
	}
}
