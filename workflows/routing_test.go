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
	t.Run("runs and plots go to the reserved host's device", func(t *testing.T) {
		o := runPaper(t, paperInput(), func(f *paperFake) {
			f.device = func(activities.DeviceInput) (activities.DeviceGrant, error) {
				return activities.DeviceGrant{Device: 1}, nil
			}
		})
		require.NoError(t, o.err)
		assert.Equal(t, []string{"aiscientist-host-hostA-dev1", "aiscientist-host-hostA-dev1"}, o.fake.queues)
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
		for _, q := range o.fake.queues {
			assert.Equal(t, "aiscientist-host-hostB-dev0", q)
		}
		assert.True(t, strings.Contains(strings.Join(o.prog.Warnings, "\n"), "host hostA did not pick up its work"), o.prog.Warnings)
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
