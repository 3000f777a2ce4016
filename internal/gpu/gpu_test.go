package gpu

import (
	"errors"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
)

func fakeGPU(name string, total, used uint64, util uint32) *mock.Device {
	return &mock.Device{
		GetNameFunc:             func() (string, nvml.Return) { return name, nvml.SUCCESS },
		GetUUIDFunc:             func() (string, nvml.Return) { return "GPU-" + name, nvml.SUCCESS },
		GetMemoryInfoFunc:       func() (nvml.Memory, nvml.Return) { return nvml.Memory{Total: total, Used: used}, nvml.SUCCESS },
		GetUtilizationRatesFunc: func() (nvml.Utilization, nvml.Return) { return nvml.Utilization{Gpu: util}, nvml.SUCCESS },
	}
}

func fakeLib(initRet nvml.Return, devs ...nvml.Device) *mock.Interface {
	return &mock.Interface{
		InitFunc:                   func() nvml.Return { return initRet },
		ShutdownFunc:               func() nvml.Return { return nvml.SUCCESS },
		SystemGetDriverVersionFunc: func() (string, nvml.Return) { return "550.54.15", nvml.SUCCESS },
		DeviceGetCountFunc:         func() (int, nvml.Return) { return len(devs), nvml.SUCCESS },
		DeviceGetHandleByIndexFunc: func(i int) (nvml.Device, nvml.Return) {
			if i >= len(devs) {
				return nil, nvml.ERROR_INVALID_ARGUMENT
			}
			return devs[i], nvml.SUCCESS
		},
	}
}

func TestDiscover(t *testing.T) {
	noMemory := fakeGPU("H100 MIG 1g.10gb", 0, 0, 0)
	noMemory.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) { return nvml.Memory{}, nvml.ERROR_NOT_SUPPORTED }
	tests := []struct {
		name      string
		lib       *mock.Interface
		cpuSlots  int
		wantGPUs  bool
		wantNames []string
		wantNote  string
	}{
		{
			name: "two GPUs", lib: fakeLib(nvml.SUCCESS, fakeGPU("NVIDIA H100 80GB HBM3", 80<<30, 1<<30, 12), fakeGPU("NVIDIA H100 80GB HBM3", 80<<30, 0, 0)),
			wantGPUs: true, wantNames: []string{"NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"},
		},
		{
			name: "a field the GPU does not report", lib: fakeLib(nvml.SUCCESS, noMemory),
			wantGPUs: true, wantNames: []string{"H100 MIG 1g.10gb"},
		},
		{
			name: "no driver: CPU slots", lib: fakeLib(nvml.ERROR_LIBRARY_NOT_FOUND), cpuSlots: 3,
			wantNames: []string{"cpu", "cpu", "cpu"}, wantNote: "libnvidia-ml.so.1 not found",
		},
		{
			name: "driver without GPUs", lib: fakeLib(nvml.SUCCESS), cpuSlots: 1,
			wantNames: []string{"cpu"}, wantNote: "no GPU found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProbeWith(tt.lib)
			defer p.Close()
			inv := Discover(p, tt.cpuSlots)
			if inv.GPUs() != tt.wantGPUs {
				t.Errorf("GPUs() = %v, want %v", inv.GPUs(), tt.wantGPUs)
			}
			var names []string
			for i, d := range inv.Devices {
				names = append(names, d.Name)
				if d.Index != i {
					t.Errorf("device %d has index %d", i, d.Index)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.wantNames, ",") {
				t.Errorf("devices %v, want %v", names, tt.wantNames)
			}
			if !strings.Contains(inv.Note, tt.wantNote) {
				t.Errorf("note %q, want %q", inv.Note, tt.wantNote)
			}
		})
	}
}

func TestSampleAndInitOnce(t *testing.T) {
	lib := fakeLib(nvml.SUCCESS, fakeGPU("A100", 40<<30, 10<<30, 87))
	p := newProbeWith(lib)
	for range 3 {
		d, err := p.Sample(0)
		if err != nil || d.MemoryUsed != 10<<30 || d.Utilization != 87 || d.UUID != "GPU-A100" {
			t.Fatalf("Sample = %+v, %v", d, err)
		}
	}
	if n := len(lib.InitCalls()); n != 1 {
		t.Errorf("NVML initialised %d times, want once", n)
	}
	if _, err := p.Sample(5); err == nil {
		t.Error("Sample of a missing GPU succeeded")
	}
	p.Close()
	if n := len(lib.ShutdownCalls()); n != 1 {
		t.Errorf("Shutdown called %d times", n)
	}
	noLib := newProbeWith(fakeLib(nvml.ERROR_LIBRARY_NOT_FOUND))
	if _, err := noLib.Sample(0); !errors.Is(err, ErrNoNVML) {
		t.Errorf("Sample without NVML: %v, want ErrNoNVML", err)
	}
}

// On this machine (no NVIDIA driver) the real probe falls back cleanly; on
// a GPU host it lists the GPUs.
func TestDiscoverThisHost(t *testing.T) {
	p := NewProbe()
	defer p.Close()
	inv := Discover(p, 2)
	if len(inv.Devices) == 0 {
		t.Fatal("no slots at all")
	}
	t.Logf("this host: gpus=%v devices=%d driver=%q note=%q", inv.GPUs(), len(inv.Devices), inv.Driver, inv.Note)
	if !inv.GPUs() && len(inv.Devices) != 2 {
		t.Errorf("CPU host offers %d slots, want 2", len(inv.Devices))
	}
}
