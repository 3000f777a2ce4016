package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/aiscientist/aiscientist/internal/logging"
	"github.com/aiscientist/aiscientist/internal/throughput"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// benchCmd groups the benchmarks of the system itself.
func benchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Benchmarks of the system itself: bench throughput"}
	cmd.AddCommand(throughputCmd())
	return cmd
}

type throughputOpts struct {
	papers, slots, maxRuns int
	llmLatency, runTime    time.Duration
	json, keep, timeline   bool
	dataDir, runOrder      string
}

func throughputCmd() *cobra.Command {
	o := throughputOpts{papers: 8, slots: 2, maxRuns: 2, llmLatency: 200 * time.Millisecond, runTime: 2 * time.Second}
	cmd := &cobra.Command{
		Use:   "throughput [--papers N] [--slots K] [--llm-latency D1] [--run-duration D2] [--json]",
		Short: "Run N papers on K experiment slots (embedded server, scripted model) and report how busy the slots were",
		Long: `Starts an embedded Temporal server and a worker with K experiment slots in this
process, and runs N papers of a benchmark template at once: the scripted model
answers every call after D1, every experiment run holds its slot for D2 without
using the CPU (as a GPU run leaves the CPUs to the writers), plots cost nothing
(and, as always, run on the host's plot queue, not on a slot), the LaTeX build
and the review are the real ones. From the papers' histories it reports:

  makespan          the first paper's start to the last one's end
  lower bound       the larger of the slot time ÷ K and the longest paper's
                    critical path (its duration less the time its runs waited)
  schedule bound    the least any schedule could take: the first request for
                    a slot + the slot time ÷ K + the shortest writing any
                    paper did after its last run (the paper whose run ends
                    last still has to write)
  busy fraction     slot time ÷ (K × the time from the first run to the last)
  one per slot      the makespan if each slot took one whole paper at a time
                    (the reference system's model), from the same stage times
  activity overhead Temporal's cost per activity: schedule-to-start of the
                    activities that do not wait for a slot, and completion to
                    the next activity scheduled; p50 and p99
  papers done       when the first paper finished, and the papers on average
  CPU               CPU time of this process and its pdflatex and Python
                    children, and its share of the CPUs over the makespan
  peak memory       this process's (server, worker and benchmark together)
  largest history   events and bytes

and, when it misses a target (busy fraction ≥ 0.9, makespan ≤ 1.15 × the lower
bound and × the schedule bound, overhead p50 < 20 ms, memory < 1 GiB, histories
< 1 MiB), which activity the papers were in while slots stood idle.

--timeline prints each paper's runs (when it asked for a slot, when the run
started and ended) and plots (scheduled, started, ended).`,
		Example: `  starter bench throughput --papers 8 --slots 2 --llm-latency 200ms --run-duration 2s
  starter bench throughput --papers 50 --slots 4 --json`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.papers < 1 || o.slots < 1 || o.maxRuns < 1 || o.runTime <= 0 || o.llmLatency < 0 {
				return fmt.Errorf("--papers, --slots and --max-runs must be at least 1, --run-duration positive and --llm-latency not negative")
			}
			order, err := workflows.ParseRunOrder(o.runOrder)
			if err != nil {
				return fmt.Errorf("--run-order: %w", err)
			}
			o.runOrder = order
			r, papers, err := runThroughput(cmd.Context(), o, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if o.timeline {
				throughput.WriteTimeline(cmd.ErrOrStderr(), papers)
			}
			if o.json {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			printThroughput(cmd.OutOrStdout(), o, r)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.papers, "papers", o.papers, "papers at once (N)")
	f.IntVar(&o.slots, "slots", o.slots, "experiment slots of the embedded host (K)")
	f.DurationVar(&o.llmLatency, "llm-latency", o.llmLatency, "how long the scripted model takes to answer each call (D1)")
	f.DurationVar(&o.runTime, "run-duration", o.runTime, "how long each experiment run holds its slot (D2)")
	f.IntVar(&o.maxRuns, "max-runs", o.maxRuns, "experiment runs per paper after the baseline")
	f.StringVar(&o.runOrder, "run-order", workflows.RunOrderRounds, "order of the runs waiting for a slot: rounds (fewest runs done first) or finish-first (fewest runs left first), as starter launch --run-order")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	f.StringVar(&o.dataDir, "data-dir", "", "where the server, the artifacts and the papers go (default: a temporary folder, removed afterwards)")
	f.BoolVar(&o.keep, "keep", false, "keep the temporary folder (its path is printed)")
	f.BoolVar(&o.timeline, "timeline", false, "also print each paper's timeline: its start, when it asked for each slot, the runs and plots, its end")
	return cmd
}

func runThroughput(ctx context.Context, o throughputOpts, log io.Writer) (throughput.Report, []throughput.Paper, error) {
	dir := o.dataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "aisci-throughput-"); err != nil {
			return throughput.Report{}, nil, err
		}
		if o.keep {
			fmt.Fprintf(log, "benchmark folder: %s\n", dir)
		} else {
			defer os.RemoveAll(dir)
		}
	}
	templates := filepath.Join(dir, "templates")
	if _, err := throughput.WriteTemplate(templates, o.runTime, o.papers); err != nil {
		return throughput.Report{}, nil, err
	}
	logger, err := logging.New("warn")
	if err != nil {
		return throughput.Report{}, nil, err
	}
	a, err := app.Start(ctx, app.Config{Dev: true, DataDir: filepath.Join(dir, "data"), Port: -1, UIPort: -1, Templates: templates,
		Python: os.Getenv("AISCI_PYTHON"), CPUSlots: o.slots, Host: "bench", ScriptedLatency: o.llmLatency, Logger: logger})
	if err != nil {
		return throughput.Report{}, nil, err
	}
	defer a.Stop()
	fmt.Fprintf(log, "throughput: %d papers on %d slots, model answers after %s, runs of %s, %d CPUs; the embedded server is at %s\n",
		o.papers, o.slots, o.llmLatency, o.runTime, runtime.NumCPU(), a.Server.HostPort())
	id, err := app.StartCampaign(ctx, a.Client, workflows.CampaignInput{
		Template: throughput.TemplateName, Model: "scripted", NumIdeas: o.papers, SkipIdeaGeneration: true,
		SkipNoveltyCheck: true, SkipCitations: true, Parallel: o.papers, MaxRuns: o.maxRuns,
		RunTimeout: max(10*o.runTime, time.Minute), RunOrder: o.runOrder, ResultsDir: filepath.Join(dir, "results"),
	})
	if err != nil {
		return throughput.Report{}, nil, err
	}
	cpu0 := cpuSeconds()
	var final workflows.CampaignProgress
	done := make(chan error, 1)
	go func() { done <- a.Client.GetWorkflow(ctx, id, "").Get(ctx, &final) }()
	started := time.Now()
	for waiting := true; waiting; {
		select {
		case err := <-done:
			if err != nil {
				return throughput.Report{}, nil, fmt.Errorf("benchmark campaign %s: %w", id, err)
			}
			waiting = false
		case <-time.After(15 * time.Second):
			fmt.Fprintf(log, "  %s elapsed\n", time.Since(started).Round(time.Second))
		}
	}
	var papers []throughput.Paper
	for _, i := range final.Ideas {
		if i.State != workflows.StateCompleted {
			return throughput.Report{}, nil, fmt.Errorf("benchmark paper %s: %s %s", i.PaperID, i.State, i.Error)
		}
		p, err := paperTimes(ctx, a.Client, i.PaperID)
		if err != nil {
			return throughput.Report{}, nil, err
		}
		papers = append(papers, p)
	}
	r := throughput.Analyze(papers, o.slots)
	r.RunOrder = o.runOrder
	r.SetCPU(cpuSeconds()-cpu0, runtime.NumCPU())
	r.WorkerPeakRSSMiB = peakRSSMiB()
	return r, papers, nil
}

// paperTimes reads a paper's history into when its activities were
// scheduled, started and closed.
func paperTimes(ctx context.Context, c client.Client, id string) (throughput.Paper, error) {
	p := throughput.Paper{ID: id}
	byEvent := map[int64]int{} // scheduled event ID -> index in p.Activities
	var completed time.Time    // the last activity completion not yet answered
	var answerWT int64         // the workflow task that answers it
	var asked time.Time        // the device request of the next run
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return p, fmt.Errorf("history of %s: %w", id, err)
		}
		p.HistoryEvents++
		p.HistoryBytes += proto.Size(e)
		t := e.GetEventTime().AsTime()
		closed := func(scheduled int64) {
			if i, ok := byEvent[scheduled]; ok {
				p.Activities[i].Closed = t
			}
		}
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			p.Start = t
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
			p.End = t
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			switch {
			case !completed.IsZero() && answerWT == 0:
				answerWT = e.GetEventId()
			case answerWT != 0:
				completed, answerWT = time.Time{}, 0 // that task scheduled no activity
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			attr := e.GetActivityTaskScheduledEventAttributes()
			typ := attr.GetActivityType().GetName()
			byEvent[e.GetEventId()] = len(p.Activities)
			a := throughput.Activity{Type: typ, Slot: typ == "RunExperiment", Scheduled: t} // plots wait for no device
			switch {
			case typ == "AcquireDevice" && asked.IsZero(): // the first ask, if the run moved hosts
				asked = t
			case a.Slot:
				a.Asked, asked = asked, time.Time{}
			}
			p.Activities = append(p.Activities, a)
			if answerWT != 0 && attr.GetWorkflowTaskCompletedEventId() == answerWT {
				p.Gaps = append(p.Gaps, t.Sub(completed))
				completed, answerWT = time.Time{}, 0
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if i, ok := byEvent[e.GetActivityTaskStartedEventAttributes().GetScheduledEventId()]; ok {
				p.Activities[i].Started = t
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			closed(e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId())
			completed, answerWT = t, 0
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			closed(e.GetActivityTaskFailedEventAttributes().GetScheduledEventId())
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			closed(e.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId())
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
			closed(e.GetActivityTaskCanceledEventAttributes().GetScheduledEventId())
		}
	}
	return p, nil
}

// cpuSeconds is the user and system CPU time of this process and of its
// children that have ended (pdflatex, bibtex, Python).
func cpuSeconds() float64 {
	var total float64
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		}
	}
	return total
}

// peakRSSMiB is this process's peak resident memory (VmHWM), 0 where
// /proc does not say.
func peakRSSMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func printThroughput(w io.Writer, o throughputOpts, r throughput.Report) {
	fmt.Fprintf(w, "%d papers, %d slots, model latency %s, runs of %s, run order %s\n", r.Papers, r.Slots, o.llmLatency, o.runTime, r.RunOrder)
	fmt.Fprintf(w, "  makespan            %7.1f s\n", r.MakespanS)
	fmt.Fprintf(w, "  lower bound         %7.1f s   (slot time %.1f s / %d = %.1f s; longest paper's critical path %.1f s)\n",
		r.LowerBoundS, r.SlotSecondsS, r.Slots, r.SlotSecondsS/float64(r.Slots), r.CriticalPathS)
	fmt.Fprintf(w, "  makespan / bound    %7.2f     (target ≤ %.2f)\n", r.MakespanRatio, throughput.DefaultTargets.MakespanRatio)
	fmt.Fprintf(w, "  schedule bound      %7.1f s   (first slot asked for at %.1f s + slot time / %d + the shortest writing after a paper's last run, %.1f s: %.2f × the lower bound)\n",
		r.ScheduleBoundS, r.FirstAskS, r.Slots, r.MinWritingS, r.ScheduleBoundS/max(r.LowerBoundS, 1e-9))
	fmt.Fprintf(w, "  makespan / schedule %7.2f     (target ≤ %.2f)\n", r.ScheduleRatio, throughput.DefaultTargets.MakespanRatio)
	fmt.Fprintf(w, "  busy fraction       %7.2f     (of %d slots over the %.1f s from the first run to the last; target ≥ %.2f)\n",
		r.BusyFraction, r.Slots, r.BusyWindowS, throughput.DefaultTargets.BusyFraction)
	fmt.Fprintf(w, "  one paper per slot  %7.1f s   (the reference system's model, same stage times: %.1f× this makespan)\n", r.OnePerSlotS, r.SpeedupOverOne)
	fmt.Fprintf(w, "  activity overhead   p50 %.1f ms, p99 %.1f ms (schedule-to-start p50 %.1f / p99 %.1f ms; completion to next scheduled p50 %.1f / p99 %.1f ms; target p50 < %.0f ms)\n",
		r.OverheadP50Ms, r.OverheadP99Ms, r.ScheduleToStartP50Ms, r.ScheduleToStartP99Ms, r.NextScheduledP50Ms, r.NextScheduledP99Ms, throughput.DefaultTargets.OverheadP50Ms)
	fmt.Fprintf(w, "  papers done         first at %.1f s, on average at %.1f s\n", r.FirstDoneS, r.MeanDoneS)
	fmt.Fprintf(w, "  CPU                 %7.0f s   (%.0f%% of %d CPUs over the makespan: this process and its pdflatex, Python)\n", r.CPUSeconds, 100*r.CPUBusy, r.CPUs)
	fmt.Fprintf(w, "  peak memory         %7.0f MiB (this process: server, worker and benchmark)\n", r.WorkerPeakRSSMiB)
	fmt.Fprintf(w, "  largest history     %d events, %.0f KiB\n", r.MaxHistoryEvents, float64(r.MaxHistoryBytes)/1024)
	if len(r.Idle) > 0 {
		var parts []string
		for _, s := range r.Idle {
			parts = append(parts, fmt.Sprintf("%s %.1f s", s.Activity, s.Seconds))
		}
		fmt.Fprintf(w, "  idle slot time by what papers were doing: %s\n", strings.Join(parts, ", "))
	}
	if len(r.Tail) > 0 {
		var parts []string
		for _, s := range r.Tail {
			parts = append(parts, fmt.Sprintf("%s %.1f", s.Activity, s.Seconds))
		}
		fmt.Fprintf(w, "  after the last run  %7.1f s   (paper-seconds: %s)\n", r.TailS, strings.Join(parts, ", "))
	}
	if m := r.Misses(throughput.DefaultTargets); len(m) > 0 {
		fmt.Fprintf(w, "missed: %s\n", strings.Join(m, "; "))
	} else {
		fmt.Fprintln(w, "targets met")
	}
}
