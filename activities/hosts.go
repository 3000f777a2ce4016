package activities

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/aiscientist/aiscientist/internal/gpu"
)

// Task queues of experiment hosts. A paper reserves a host through the
// shared queue, asks the host's own queue for a device, and sends the run to
// that device's queue, which its host polls one task at a time.
const ExperimentsQueue = "aiscientist-experiments"

// HostQueue is where one host answers for itself (device choice).
func HostQueue(host string) string { return "aiscientist-host-" + host }

// DeviceQueue runs one device's experiments, one at a time.
func DeviceQueue(host string, device int) string {
	return fmt.Sprintf("aiscientist-host-%s-dev%d", host, device)
}

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
	Paper string // workflow ID: the run that starts on the device claims it by this
	Run   int
	// Rank orders the waiting runs of the papers a host is serving: the
	// highest first (a paper's plots, which end its runs, before anyone's
	// experiments), then the longest waiting. See Host for which papers
	// it serves first.
	Rank int
}

// DeviceWait is what a paper waiting for a device heartbeats, for the Web UI.
type DeviceWait struct {
	Host   string `json:"host"`
	Ahead  int    `json:"ahead"`  // waiting runs that go first
	Busy   int    `json:"busy"`   // devices in use
	Served bool   `json:"served"` // the paper is among those the host serves first
}

// Host is an experiment host: its name, its devices and who holds each.
// Its activities are the host's own (reserve, wait for a device); the runs
// themselves are a Runner's, registered on the device queues.
//
// Free devices go first to the runs of the papers the host is serving: the
// Window() papers that came first and have not finished their runs. A
// paper alternates between a run and a model turn that plans the next, so
// one paper cannot keep a device busy, but two per device can. Serving
// those to the end (rather than every paper in turn) finishes papers one
// after another: their writing overlaps the others' runs instead of every
// paper writing at once after the last run.
type Host struct {
	Name      string
	Inventory gpu.Inventory
	// ClaimTimeout frees a device given to a paper whose run does not start
	// on it within this long (the paper was cancelled between the two
	// activities); default 2 min.
	ClaimTimeout time.Duration
	// StaleAfter drops a paper from those served when it has neither
	// waited for nor held a device for this long (it failed, or was
	// cancelled, before its last run); default 30 min.
	StaleAfter time.Duration

	mu      sync.Mutex
	devices []deviceState
	waiting []*deviceWaiter
	papers  map[string]*hostPaper
	seq     uint64
}

// deviceState: holds counts the runs given or running on the device (one,
// or briefly two when a retry or a late run arrives after its grant lapsed;
// the device queue still runs them one at a time).
type deviceState struct {
	holds   int
	granted string      // the paper the device was given to, until its run starts
	expiry  *time.Timer // frees the grant if its run never starts
}

type deviceWaiter struct {
	in    DeviceInput
	seq   uint64
	grant chan int // receives the device, once
}

// hostPaper is a paper with runs on this host: when it first asked (its
// place in line) and when it last waited for or held a device.
type hostPaper struct {
	first uint64
	seen  time.Time
}

// NewHost serves the devices of inv under name.
func NewHost(name string, inv gpu.Inventory) *Host {
	return &Host{Name: name, Inventory: inv, devices: make([]deviceState, len(inv.Devices)), papers: map[string]*hostPaper{}}
}

// Window is how many papers the host serves first: two per device.
func (h *Host) Window() int { return 2 * len(h.devices) }

// ReserveHost runs on the shared queue: the host whose worker picks it up
// offers itself. A host asked to be avoided (the paper's last, which went
// silent) fails the task so another host can take it; it is retried, and
// after a while accepted again, in case this host is the only one. So does
// a host already serving a full window of papers, so that papers spread
// over the hosts there are instead of queueing on whichever answered first.
func (h *Host) ReserveHost(ctx context.Context, in ReserveInput) (HostInfo, error) {
	if in.Avoid == h.Name && !retriedEnough(ctx) {
		return HostInfo{}, fmt.Errorf("host %s was reported silent for %s; leaving the reservation to another host", h.Name, in.Paper)
	}
	if n := h.serving(); n >= h.Window() && len(h.devices) > 0 && !retriedEnough(ctx) {
		return HostInfo{}, fmt.Errorf("host %s is serving %d papers on %d devices; leaving %s to a less busy host", h.Name, n, len(h.devices), in.Paper)
	}
	info := HostInfo{Host: h.Name, GPUs: h.Inventory.GPUs()}
	for _, d := range h.Inventory.Devices {
		info.Devices = append(info.Devices, d.Name)
	}
	return info, nil
}

// AcquireDevice waits until a device of this host is free and gives it to
// the run (see Host for the order). The wait heartbeats, so a paper
// notices a dead host within its heartbeat timeout, and ends when the
// paper is cancelled. The device stays the run's until the run finishes on
// it (Runner), or ClaimTimeout passes without it starting there.
func (h *Host) AcquireDevice(ctx context.Context, in DeviceInput) (int, error) {
	if len(h.devices) == 0 {
		return 0, badInput("host %s offers no devices", h.Name)
	}
	w := h.enqueue(in)
	select {
	case d := <-w.grant:
		return d, nil
	default:
	}
	tick := time.NewTicker(deviceHeartbeat)
	defer tick.Stop()
	for {
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, h.waitStatus(w))
		}
		select {
		case d := <-w.grant:
			return d, nil
		case <-tick.C:
		case <-ctx.Done():
			h.leave(w)
			return 0, ctx.Err()
		}
	}
}

// deviceHeartbeat: how often a waiting paper tells the server it waits.
const deviceHeartbeat = 10 * time.Second

func (h *Host) enqueue(in DeviceInput) *deviceWaiter {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	w := &deviceWaiter{in: in, seq: h.seq, grant: make(chan int, 1)}
	h.touch(in.Paper)
	h.waiting = append(h.waiting, w)
	h.dispatch()
	return w
}

// touch records that paper waits for or holds a device now (mu held).
func (h *Host) touch(paper string) {
	if paper == "" {
		return
	}
	p := h.papers[paper]
	if p == nil {
		h.seq++
		p = &hostPaper{first: h.seq}
		h.papers[paper] = p
	}
	p.seen = time.Now()
}

// leave takes a cancelled waiter out of the line, handing on a device it
// was given meanwhile.
func (h *Host) leave(w *deviceWaiter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i := slices.Index(h.waiting, w); i >= 0 {
		h.waiting = slices.Delete(h.waiting, i, i+1)
		h.dispatch()
		return
	}
	select {
	case d := <-w.grant:
		h.unhold(d, w.in.Paper)
	default:
	}
}

// served is the set of papers served first: the Window() earliest of
// those not gone stale (mu held).
func (h *Host) served() map[string]bool {
	stale := h.StaleAfter
	if stale <= 0 {
		stale = 30 * time.Minute
	}
	active := map[string]bool{}
	for _, w := range h.waiting {
		active[w.in.Paper] = true
	}
	for _, d := range h.devices {
		if d.granted != "" {
			active[d.granted] = true
		}
	}
	ids := make([]string, 0, len(h.papers))
	for id, p := range h.papers {
		if !active[id] && time.Since(p.seen) > stale {
			delete(h.papers, id)
			continue
		}
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Compare(h.papers[a].first, h.papers[b].first) })
	out := map[string]bool{}
	for _, id := range ids[:min(len(ids), h.Window())] {
		out[id] = true
	}
	return out
}

// before: waiter a goes before b.
func before(a, b *deviceWaiter, served map[string]bool) bool {
	if sa, sb := served[a.in.Paper], served[b.in.Paper]; sa != sb {
		return sa
	}
	if a.in.Rank != b.in.Rank {
		return a.in.Rank > b.in.Rank
	}
	return a.seq < b.seq
}

// dispatch gives every free device to the best waiter (mu held).
func (h *Host) dispatch() {
	if len(h.waiting) == 0 {
		return
	}
	served := h.served()
	for d := range h.devices {
		if h.devices[d].holds > 0 || len(h.waiting) == 0 {
			continue
		}
		best := 0
		for i, w := range h.waiting {
			if before(w, h.waiting[best], served) {
				best = i
			}
		}
		w := h.waiting[best]
		h.waiting = slices.Delete(h.waiting, best, best+1)
		st := &h.devices[d]
		st.holds, st.granted = 1, w.in.Paper
		paper := w.in.Paper
		st.expiry = time.AfterFunc(h.claimTimeout(), func() { h.lapse(d, paper) })
		w.grant <- d
	}
}

func (h *Host) claimTimeout() time.Duration {
	if h.ClaimTimeout > 0 {
		return h.ClaimTimeout
	}
	return 2 * time.Minute
}

// lapse frees a device whose grant was never claimed. While another run
// holds the device (a retry that came first), the grantee's run is queued
// behind it, so the grant waits on.
func (h *Host) lapse(device int, paper string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := &h.devices[device]
	switch {
	case st.granted != paper:
	case st.holds > 1:
		st.expiry = time.AfterFunc(h.claimTimeout(), func() { h.lapse(device, paper) })
	default:
		h.unhold(device, paper)
	}
}

// unhold drops one hold on the device and hands it on when free (mu held).
func (h *Host) unhold(device int, paper string) {
	st := &h.devices[device]
	if st.granted == paper && paper != "" {
		st.granted = ""
		if st.expiry != nil {
			st.expiry.Stop()
			st.expiry = nil
		}
	}
	if st.holds > 0 {
		st.holds--
	}
	h.dispatch()
}

// claim: paper's run starts on device. A run the device was given to keeps
// its hold; any other (a retry, a run whose grant lapsed) adds one.
func (h *Host) claim(device int, paper string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if device < 0 || device >= len(h.devices) {
		return
	}
	h.touch(paper)
	st := &h.devices[device]
	if st.granted != "" && st.granted == paper {
		st.granted = ""
		if st.expiry != nil {
			st.expiry.Stop()
			st.expiry = nil
		}
		return
	}
	st.holds++
}

// release: paper's run on device ended; last says it was the paper's last
// run here (its plots succeeded), so the host serves the next paper.
func (h *Host) release(device int, paper string, last bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if paper != "" {
		if last {
			delete(h.papers, paper)
		} else {
			h.touch(paper)
		}
	}
	if device >= 0 && device < len(h.devices) {
		h.unhold(device, "")
	}
}

// load is how many devices are held and how many runs wait.
func (h *Host) load() (busy, waiting int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range h.devices {
		if d.holds > 0 {
			busy++
		}
	}
	return busy, len(h.waiting)
}

// serving is how many papers the host serves (not gone stale).
func (h *Host) serving() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.served())
}

func (h *Host) waitStatus(w *deviceWaiter) DeviceWait {
	h.mu.Lock()
	defer h.mu.Unlock()
	served := h.served()
	st := DeviceWait{Host: h.Name, Served: served[w.in.Paper]}
	for _, o := range h.waiting {
		if o != w && before(o, w, served) {
			st.Ahead++
		}
	}
	for _, d := range h.devices {
		if d.holds > 0 {
			st.Busy++
		}
	}
	return st
}

// Device is the slot a Runner's scripts run on.
type Device struct {
	Host  *Host
	Index int
	Slot  gpu.Device
	// Probe samples GPU memory and utilisation for heartbeats (nil: none).
	Probe *gpu.Probe
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

// start: a run of paper begins on this device.
func (d *Device) start(paper string) {
	if d.Host != nil {
		d.Host.claim(d.Index, paper)
	}
}

// done: paper's run ended (last: its last on this host); the device goes
// to the next paper waiting.
func (d *Device) done(paper string, last bool) {
	if d.Host != nil {
		d.Host.release(d.Index, paper, last)
	}
}

// retriedEnough: after two refusals a host takes a reservation it was asked
// to avoid, since it may be the only host there is.
func retriedEnough(ctx context.Context) bool { return activity.GetInfo(ctx).Attempt >= 3 }
