package app

import (
	"cmp"
	"fmt"
	"os"
	"regexp"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/gpu"
)

// HostWorkers are the workers that make a process an experiment host.
type HostWorkers struct {
	Host    *activities.Host
	workers []worker.Worker
	probe   *gpu.Probe
}

// Stop stops polling the host's queues; runs in progress are cancelled
// (their sandboxes die with them) and their papers move to another host.
func (h *HostWorkers) Stop() {
	for _, w := range h.workers {
		w.Stop()
	}
	if h.probe != nil {
		h.probe.Close()
	}
}

var hostChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// HostName is a task-queue-safe name for this machine.
func HostName(name string) string {
	if name == "" {
		name, _ = os.Hostname()
	}
	name = strings.Trim(hostChars.ReplaceAllString(name, "-"), "-")
	if name == "" {
		name = "host"
	}
	return name
}

// HostConfig describes one experiment host of this process.
type HostConfig struct {
	Name     string // default: the machine's name
	CPUSlots int    // experiments at once without GPUs (0: one per four cores)
	// PlotSlots is how many plot.py scripts run at once (0: DefaultPlotSlots).
	PlotSlots int
	// Artifacts is the host's own workspace folder (default: the worker's);
	// with a remote store it is only a cache, so hosts share no files.
	Artifacts string
}

// reservePollers is how many pollers a host with devices devices runs on
// the shared queue: two per device, within what a worker sensibly holds.
func reservePollers(devices int) int { return min(max(2*devices, 2), 64) }

// DefaultPlotSlots is how many plot.py scripts a host runs at once.
const DefaultPlotSlots = 2

// AddHost makes this process the experiment host hc.Name: it answers
// reservations on the shared queue and device choices on its own queue,
// runs experiments on one queue per GPU (or CPU slot), one at a time, and
// plots on its plot queue, a few at a time.
func (a *App) AddHost(hc HostConfig) (*HostWorkers, error) {
	name := HostName(hc.Name)
	probe := gpu.NewProbe()
	inv := gpu.Discover(probe, hc.CPUSlots)
	h := &HostWorkers{Host: activities.NewHost(name, inv), probe: probe}
	// The server hands a reservation to the longest-waiting poller of the
	// shared queue, so hosts take papers roughly in proportion to their
	// pollers: two per device, so a big host takes more papers than a small
	// one instead of as many (TestReservationsFollowDevices: 4 slots beside
	// 1 took 45 of 60).
	shared := worker.New(a.Client, activities.ExperimentsQueue, worker.Options{BackgroundActivityContext: a.actCtx,
		MaxConcurrentActivityTaskPollers: reservePollers(len(inv.Devices))})
	shared.RegisterActivity(h.Host.ReserveHost)
	own := worker.New(a.Client, activities.HostQueue(name), worker.Options{BackgroundActivityContext: a.actCtx})
	own.RegisterActivity(h.Host.AcquireDevice)
	// Plots read the runs' results and draw them: CPU work, so they wait
	// for no device.
	plotSlots := cmp.Or(max(hc.PlotSlots, 0), DefaultPlotSlots)
	plots := worker.New(a.Client, activities.PlotQueue(name), worker.Options{MaxConcurrentActivityExecutionSize: plotSlots, BackgroundActivityContext: a.actCtx})
	plotter := activities.NewRunner(a.newActivities(hc.Artifacts), activities.NewPlotter(h.Host))
	plots.RegisterActivityWithOptions(plotter.RunPlot, activity.RegisterOptions{Name: "RunPlot"})
	h.workers = append(h.workers, shared, own, plots)
	for i, d := range inv.Devices {
		dev := &activities.Device{Host: h.Host, Index: i, Slot: d, Probe: probe}
		// One run at a time: the device is the run's alone.
		w := worker.New(a.Client, activities.DeviceQueue(name, i), worker.Options{MaxConcurrentActivityExecutionSize: 1, BackgroundActivityContext: a.actCtx})
		w.RegisterActivity(activities.NewRunner(a.newActivities(hc.Artifacts), dev))
		h.workers = append(h.workers, w)
	}
	for _, w := range h.workers {
		if err := w.Start(); err != nil {
			h.Stop()
			return nil, fmt.Errorf("experiment host %s: start worker: %w", name, err)
		}
	}
	a.hosts = append(a.hosts, h)
	kind := "CPU slots"
	if inv.GPUs() {
		kind = "GPUs"
	}
	a.logger.Info("experiment host ready", zap.String("host", name), zap.Int(strings.ToLower(kind), len(inv.Devices)), zap.String("note", inv.Note))
	return h, nil
}
