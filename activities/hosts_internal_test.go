package activities

import (
	"context"
	"testing"

	"github.com/aiscientist/aiscientist/internal/gpu"
)

// TestAcquireDeviceAhead: runs are promised the least busy device, and
// each grant says how many runs are promised that device before it, so a
// paper waiting behind them is not taken for one whose host died.
func TestAcquireDeviceAhead(t *testing.T) {
	h := NewHost("h", gpu.Inventory{Devices: gpu.CPUSlots(2)})
	steps := []struct {
		release int // device whose run ends first (-1: none)
		want    DeviceGrant
	}{
		{-1, DeviceGrant{Device: 0}},
		{-1, DeviceGrant{Device: 1}},
		{-1, DeviceGrant{Device: 0, Ahead: 1}},
		{-1, DeviceGrant{Device: 1, Ahead: 1}},
		{0, DeviceGrant{Device: 0, Ahead: 1}}, // device 0's first run ended
		{1, DeviceGrant{Device: 1, Ahead: 1}},
		{-1, DeviceGrant{Device: 0, Ahead: 2}},
	}
	for i, s := range steps {
		if s.release >= 0 {
			h.release(s.release)
		}
		g, err := h.AcquireDevice(context.Background(), DeviceInput{Paper: "p"})
		if err != nil || g != s.want {
			t.Fatalf("step %d: %+v, %v; want %+v", i, g, err, s.want)
		}
	}
	if _, err := NewHost("none", gpu.Inventory{}).AcquireDevice(context.Background(), DeviceInput{}); err == nil {
		t.Error("a host without devices gave one")
	}
}
