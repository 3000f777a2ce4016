package activities

import (
	"context"
	"fmt"
	"sync"

	"go.temporal.io/sdk/activity"

	"github.com/aiscientist/aiscientist/internal/gpu"
)

// Task queues of experiment hosts. A paper reserves a host through the
// shared queue, asks the host's own queue for a device, and sends the run to
// that device's queue, which its host polls one task at a time; its plots go
// to the host's plot queue.
const ExperimentsQueue = "aiscientist-experiments"

// HostQueue is where one host answers for itself (device choice).
func HostQueue(host string) string { return "aiscientist-host-" + host }

// DeviceQueue runs one device's experiments, one at a time.
func DeviceQueue(host string, device int) string {
	return fmt.Sprintf("aiscientist-host-%s-dev%d", host, device)
}

// PlotQueue runs a host's plot.py scripts on its CPUs, a few at once: a
// plot needs no device, and waiting for one could mean waiting behind
// another paper's run of hours.
func PlotQueue(host string) string { return "aiscientist-plots-" + host }

// HostInfo is what a host tells the paper that reserved it.
type HostInfo struct {
	Host    string   `json:"host"`
	Devices []string `json:"devices"` // names, by index
	GPUs    bool     `json:"gpus"`
}

// ReserveInput asks for a host for one paper.
type ReserveInput struct {
	Paper string // workflow ID, for the host's log
	Avoid string // a host that stopped answering
}

// DeviceInput asks a host for a device for one run.
type DeviceInput struct {
	Paper string
	Run   int
	// Lapsed, when set, is the device promised this run before, whose queue
	// did not start it in time (busier than its grant said): that promise
	// ends before the device is chosen again.
	Lapsed *int `json:",omitempty"`
}

// Host is an experiment host: its name, its devices and the runs each
// device has been promised. Its activities are the host's own (reserve,
// pick a device); the runs themselves are a Runner's, registered on the
// device queues.
type Host struct {
	Name      string
	Inventory gpu.Inventory

	mu     sync.Mutex
	leases []int // runs promised to each device and not yet finished
}

// NewHost serves the devices of inv under name.
func NewHost(name string, inv gpu.Inventory) *Host {
	return &Host{Name: name, Inventory: inv, leases: make([]int, len(inv.Devices))}
}

// ReserveHost runs on the shared queue: the host whose worker picks it up
// offers itself. A host asked to be avoided (the paper's last, which went
// silent) fails the task so another host can take it; it is retried, and
// after a while accepted again, in case this host is the only one.
func (h *Host) ReserveHost(ctx context.Context, in ReserveInput) (HostInfo, error) {
	if in.Avoid == h.Name && !retriedEnough(ctx) {
		return HostInfo{}, fmt.Errorf("host %s was reported silent for %s; leaving the reservation to another host", h.Name, in.Paper)
	}
	info := HostInfo{Host: h.Name, GPUs: h.Inventory.GPUs()}
	for _, d := range h.Inventory.Devices {
		info.Devices = append(info.Devices, d.Name)
	}
	return info, nil
}

// DeviceGrant is the device a run goes to, and how many runs were promised
// it before this one: the run waits in the device's queue behind them, so
// its paper gives it that much longer to start before taking the host for
// dead (a busy host is not a silent one).
type DeviceGrant struct {
	Device int `json:"device"`
	Ahead  int `json:"ahead,omitempty"`
}

// AcquireDevice promises the run the device with the fewest runs promised,
// so two papers on one host do not queue behind each other while another
// device idles. The promise ends when the run finishes on that device.
func (h *Host) AcquireDevice(_ context.Context, in DeviceInput) (DeviceGrant, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.leases) == 0 {
		return DeviceGrant{}, badInput("host %s offers no devices", h.Name)
	}
	if d := in.Lapsed; d != nil && *d >= 0 && *d < len(h.leases) && h.leases[*d] > 0 {
		h.leases[*d]--
	}
	best := 0
	for i, n := range h.leases {
		if n < h.leases[best] {
			best = i
		}
	}
	g := DeviceGrant{Device: best, Ahead: h.leases[best]}
	h.leases[best]++
	return g, nil
}

// release ends a device's promise for one run.
func (h *Host) release(device int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if device >= 0 && device < len(h.leases) && h.leases[device] > 0 {
		h.leases[device]--
	}
}

// Device is the slot a Runner's scripts run on.
type Device struct {
	Host *Host
	// Index is the device's on its host; PlotSlot (the host's plot queue)
	// is promised to no run.
	Index int
	Slot  gpu.Device
	// Probe samples GPU memory and utilisation for heartbeats (nil: none).
	Probe *gpu.Probe
}

// PlotSlot is the Index of a host's plot runner.
const PlotSlot = -1

// NewPlotter is the slot of host's plot queue: its CPUs, no GPU.
func NewPlotter(host *Host) *Device {
	return &Device{Host: host, Index: PlotSlot, Slot: gpu.Device{Index: PlotSlot, Name: "plots", CPU: true}}
}

// env is what a run on this device sees: its GPU only, or none at all.
func (d *Device) env() []string {
	if d.Slot.CPU {
		return []string{"CUDA_VISIBLE_DEVICES="}
	}
	id := d.Slot.UUID
	if id == "" {
		id = fmt.Sprint(d.Slot.Index)
	}
	return []string{"CUDA_VISIBLE_DEVICES=" + id}
}

// RunHeartbeat is what a running script reports, so a dead run is noticed
// within a minute and its GPU use shows in the Web UI.
type RunHeartbeat struct {
	Log         string `json:"log"`
	ElapsedSec  int    `json:"elapsed_sec"`
	LimitSec    int    `json:"limit_sec,omitempty"` // the run's timeout
	Host        string `json:"host,omitempty"`
	Device      int    `json:"device"`
	GPUMemoryMB uint64 `json:"gpu_memory_mb,omitempty"`
	GPUUtil     int    `json:"gpu_util,omitempty"`
}

func (d *Device) heartbeat(log string, elapsedSec int) RunHeartbeat {
	hb := RunHeartbeat{Log: log, ElapsedSec: elapsedSec, Device: d.Index}
	if d.Host != nil {
		hb.Host = d.Host.Name
	}
	if d.Probe != nil && !d.Slot.CPU {
		if s, err := d.Probe.Sample(d.Slot.Index); err == nil {
			hb.GPUMemoryMB, hb.GPUUtil = s.MemoryUsed>>20, s.Utilization
		}
	}
	return hb
}

// done ends the run's promise on this device.
func (d *Device) done() {
	if d.Host != nil {
		d.Host.release(d.Index)
	}
}

// retriedEnough: after two refusals a host takes a reservation it was asked
// to avoid, since it may be the only host there is.
func retriedEnough(ctx context.Context) bool { return activity.GetInfo(ctx).Attempt >= 3 }
