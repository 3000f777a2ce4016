// Package gpu finds the accelerators an experiment host offers, through
// NVIDIA's management library (go-nvml). A host without the driver offers a
// configurable number of CPU slots instead, so the same routing serves
// laptops, CPU servers and GPU machines.
package gpu

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// Device is one slot experiments are routed to: a GPU, or a CPU slot.
type Device struct {
	Index int    `json:"index"`
	UUID  string `json:"uuid,omitempty"`
	Name  string `json:"name"`
	// MemoryTotal and MemoryUsed are in bytes (GPUs only).
	MemoryTotal uint64 `json:"memory_total,omitempty"`
	MemoryUsed  uint64 `json:"memory_used,omitempty"`
	// Utilization is the percentage of time a kernel ran lately (GPUs only).
	Utilization int  `json:"utilization"`
	CPU         bool `json:"cpu,omitempty"`
}

// Inventory is what a host offers.
type Inventory struct {
	Driver  string   `json:"driver,omitempty"` // NVIDIA driver version
	Devices []Device `json:"devices"`
	// Note says why the host offers CPU slots (no driver, no GPU).
	Note string `json:"note,omitempty"`
}

// GPUs reports whether the inventory holds real GPUs.
func (i Inventory) GPUs() bool { return len(i.Devices) > 0 && !i.Devices[0].CPU }

// Probe reads the devices through NVML. It is safe for concurrent use and
// keeps the library initialised between calls (heartbeats sample often).
type Probe struct {
	lib nvml.Interface

	mu   sync.Mutex
	init bool
	err  error
}

// NewProbe uses the system's NVML (libnvidia-ml.so.1, loaded on first use).
func NewProbe() *Probe { return &Probe{lib: nvml.New()} }

// newProbeWith lets tests supply a fake library.
func newProbeWith(lib nvml.Interface) *Probe { return &Probe{lib: lib} }

// ErrNoNVML means the driver's library is not installed or not usable.
var ErrNoNVML = errors.New("NVIDIA management library not available")

func (p *Probe) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.init {
		return p.err
	}
	p.init = true
	if r := p.lib.Init(); r != nvml.SUCCESS {
		p.err = fmt.Errorf("%w: %s", ErrNoNVML, nvmlError(r))
	}
	return p.err
}

// Close releases NVML.
func (p *Probe) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.init && p.err == nil {
		_ = p.lib.Shutdown()
	}
	p.init, p.err = false, nil
}

// GPUs lists the GPUs with their memory and utilisation.
func (p *Probe) GPUs() (string, []Device, error) {
	if err := p.start(); err != nil {
		return "", nil, err
	}
	driver, _ := p.lib.SystemGetDriverVersion()
	n, r := p.lib.DeviceGetCount()
	if r != nvml.SUCCESS {
		return driver, nil, fmt.Errorf("count GPUs: %s", nvmlError(r))
	}
	var out []Device
	for i := range n {
		d, err := p.device(i)
		if err != nil {
			return driver, nil, err
		}
		out = append(out, d)
	}
	return driver, out, nil
}

// Sample reads one GPU's current memory use and utilisation (heartbeats).
func (p *Probe) Sample(index int) (Device, error) {
	if err := p.start(); err != nil {
		return Device{}, err
	}
	return p.device(index)
}

func (p *Probe) device(i int) (Device, error) {
	h, r := p.lib.DeviceGetHandleByIndex(i)
	if r != nvml.SUCCESS {
		return Device{}, fmt.Errorf("GPU %d: %s", i, nvmlError(r))
	}
	d := Device{Index: i}
	// Name, UUID, memory and utilisation are each optional: some GPUs (MIG
	// slices, older boards) do not report every one.
	if s, r := h.GetName(); r == nvml.SUCCESS {
		d.Name = s
	}
	if s, r := h.GetUUID(); r == nvml.SUCCESS {
		d.UUID = s
	}
	if m, r := h.GetMemoryInfo(); r == nvml.SUCCESS {
		d.MemoryTotal, d.MemoryUsed = m.Total, m.Used
	}
	if u, r := h.GetUtilizationRates(); r == nvml.SUCCESS {
		d.Utilization = int(u.Gpu)
	}
	return d, nil
}

// Discover returns the host's GPUs, or cpuSlots CPU slots when there are
// none (cpuSlots <= 0: one slot per four cores, at least one).
func Discover(p *Probe, cpuSlots int) Inventory {
	driver, gpus, err := p.GPUs()
	if err == nil && len(gpus) > 0 {
		return Inventory{Driver: driver, Devices: gpus}
	}
	note := "no GPU found"
	if err != nil {
		note = err.Error()
	}
	return Inventory{Driver: driver, Devices: CPUSlots(cpuSlots), Note: note + "; offering CPU slots"}
}

// CPUSlots makes n CPU slots (n <= 0: one per four cores, at least one).
func CPUSlots(n int) []Device {
	if n <= 0 {
		n = max(runtime.NumCPU()/4, 1)
	}
	out := make([]Device, n)
	for i := range out {
		out[i] = Device{Index: i, Name: "cpu", CPU: true}
	}
	return out
}

func nvmlError(r nvml.Return) string {
	if r == nvml.ERROR_LIBRARY_NOT_FOUND {
		return "libnvidia-ml.so.1 not found (no NVIDIA driver on this host)"
	}
	return r.Error()
}
