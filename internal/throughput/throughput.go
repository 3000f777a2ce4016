// Package throughput analyses a run of the throughput benchmark (`starter
// bench throughput`): from when every activity of every paper was
// scheduled, started and closed, how long the whole took (makespan), how
// long it had to take at least (the lower bound), how busy the experiment
// slots were, how long a one-paper-per-slot schedule would have taken with
// the same stage times (the reference system's model: a GPU is held for a
// whole idea), and what the orchestration itself cost per activity. Plain
// Go: the starter turns workflow histories into Papers.
package throughput

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Activity is one activity execution of a paper, as its history records it
// (the last attempt's start).
type Activity struct {
	Type string
	// Slot: it ran on an experiment slot (a device queue); others are
	// model calls, LaTeX, workspace work, on the orchestration queue.
	Slot                       bool
	Scheduled, Started, Closed time.Time
	// Asked is when the paper asked for the slot (its AcquireDevice was
	// scheduled), zero where the run itself was the request.
	Asked time.Time
}

// AskedAt is when a slot activity began waiting for its slot.
func (a Activity) AskedAt() time.Time {
	if a.Asked.IsZero() {
		return a.Scheduled
	}
	return a.Asked
}

// Paper is one paper workflow: when it started and closed, its activities
// in the order they were scheduled, and its history's size.
type Paper struct {
	ID            string
	Start, End    time.Time
	Activities    []Activity
	HistoryEvents int
	HistoryBytes  int
	// Gaps are the times from an activity's completion to the next
	// activity the workflow scheduled in answer (the workflow task between).
	Gaps []time.Duration
}

// Report is the benchmark's result; its JSON keys are what scripts read.
type Report struct {
	Papers int `json:"papers"`
	Slots  int `json:"slots"`
	// RunOrder is how waiting runs were ordered (starter --run-order).
	RunOrder string `json:"run_order,omitempty"`
	// MakespanS is the first paper's start to the last paper's end.
	MakespanS float64 `json:"makespan_s"`
	// LowerBoundS is the larger of the total slot time divided by the
	// slots and the longest paper's critical path (its duration less the
	// time its runs waited for a slot: from asking for a device to the
	// run's start).
	LowerBoundS float64 `json:"lower_bound_s"`
	// ScheduleBoundS is the least any schedule of these stage times could
	// take: no run starts before the first paper asks for a slot, the slot
	// time takes the slots at least SlotSecondsS ÷ K after that, and the
	// paper whose run ends last still has its writing to do (at least the
	// shortest any paper had after its last run). The lower bound
	// adds neither the wait for the first request nor that writing to the
	// slot time, so no schedule comes near it when the writing is long
	// beside the runs.
	ScheduleBoundS float64 `json:"schedule_bound_s"`
	ScheduleRatio  float64 `json:"makespan_over_schedule_bound"`
	FirstAskS      float64 `json:"first_ask_s"`
	MinWritingS    float64 `json:"min_writing_after_last_run_s"`
	SlotSecondsS   float64 `json:"slot_seconds_s"`
	CriticalPathS  float64 `json:"critical_path_s"`
	MakespanRatio  float64 `json:"makespan_over_lower_bound"`
	BusyFraction   float64 `json:"busy_fraction"`
	BusyWindowS    float64 `json:"busy_window_s"`
	OnePerSlotS    float64 `json:"one_per_slot_s"`
	SpeedupOverOne float64 `json:"speedup_over_one_per_slot"`
	// Temporal's own cost per activity: schedule-to-start of activities
	// that do not wait for a slot, and completion to the next scheduling.
	ScheduleToStartP50Ms float64 `json:"schedule_to_start_p50_ms"`
	ScheduleToStartP99Ms float64 `json:"schedule_to_start_p99_ms"`
	NextScheduledP50Ms   float64 `json:"completed_to_next_scheduled_p50_ms"`
	NextScheduledP99Ms   float64 `json:"completed_to_next_scheduled_p99_ms"`
	OverheadP50Ms        float64 `json:"activity_overhead_p50_ms"`
	OverheadP99Ms        float64 `json:"activity_overhead_p99_ms"`
	// FirstDoneS and MeanDoneS are when the first paper and the average
	// paper finished, from the first paper's start: what a researcher
	// waiting for results sees.
	FirstDoneS float64 `json:"first_paper_done_s"`
	MeanDoneS  float64 `json:"mean_paper_done_s"`
	// CPUSeconds is the CPU time the process and its children (pdflatex,
	// Python) used; CPUBusy is that ÷ (the CPUs × the makespan). Near 1 the
	// machine's CPUs, not the slots, set the pace.
	CPUSeconds       float64 `json:"cpu_seconds"`
	CPUs             int     `json:"cpus"`
	CPUBusy          float64 `json:"cpu_busy_fraction"`
	WorkerPeakRSSMiB float64 `json:"worker_peak_rss_mib"`
	MaxHistoryEvents int     `json:"max_history_events"`
	MaxHistoryBytes  int     `json:"max_history_bytes"`
	// Idle says what the papers were doing while slots stood idle inside
	// the busy window, the largest share first.
	Idle []IdleShare `json:"idle,omitempty"`
	// TailS is the time from the last run's end to the last paper's end,
	// and Tail what the papers ran meanwhile (paper-seconds by activity).
	TailS float64     `json:"tail_s"`
	Tail  []IdleShare `json:"tail,omitempty"`
}

// IdleShare is how much idle slot time fell while papers were in one
// activity type and none had a run waiting.
type IdleShare struct {
	Activity string  `json:"activity"`
	Seconds  float64 `json:"seconds"`
}

// Analyze computes the report for papers that shared slots experiment
// slots.
func Analyze(papers []Paper, slots int) Report {
	r := Report{Papers: len(papers), Slots: slots}
	if len(papers) == 0 || slots <= 0 {
		return r
	}
	first, last := papers[0].Start, papers[0].End
	var slotBusy time.Duration
	var runs []Activity
	var s2s, gaps []float64
	crit := make([]time.Duration, len(papers))
	var firstAsk time.Time
	minWriting := time.Duration(-1)
	for i, p := range papers {
		first, last = minTime(first, p.Start), maxTime(last, p.End)
		waited := time.Duration(0)
		var lastRun time.Time
		for _, a := range p.Activities {
			if a.Started.IsZero() || a.Closed.IsZero() {
				continue
			}
			if a.Slot {
				slotBusy += a.Closed.Sub(a.Started)
				waited += a.Started.Sub(a.AskedAt())
				runs = append(runs, a)
				lastRun = maxTime(lastRun, a.Closed)
				if firstAsk.IsZero() || a.AskedAt().Before(firstAsk) {
					firstAsk = a.AskedAt()
				}
			} else {
				s2s = append(s2s, ms(a.Started.Sub(a.Scheduled)))
			}
		}
		crit[i] = p.End.Sub(p.Start) - waited
		if w := p.End.Sub(lastRun); !lastRun.IsZero() && (minWriting < 0 || w < minWriting) {
			minWriting = w
		}
		for _, g := range p.Gaps {
			gaps = append(gaps, ms(g))
		}
		r.MaxHistoryEvents = max(r.MaxHistoryEvents, p.HistoryEvents)
		r.MaxHistoryBytes = max(r.MaxHistoryBytes, p.HistoryBytes)
	}
	makespan := last.Sub(first)
	r.MakespanS = makespan.Seconds()
	var sumDone time.Duration
	for i, p := range papers {
		d := p.End.Sub(first)
		sumDone += d
		if i == 0 || d.Seconds() < r.FirstDoneS {
			r.FirstDoneS = d.Seconds()
		}
	}
	r.MeanDoneS = sumDone.Seconds() / float64(len(papers))
	r.SlotSecondsS = slotBusy.Seconds()
	r.CriticalPathS = slices.Max(crit).Seconds()
	r.LowerBoundS = math.Max(r.SlotSecondsS/float64(slots), r.CriticalPathS)
	if r.LowerBoundS > 0 {
		r.MakespanRatio = r.MakespanS / r.LowerBoundS
	}
	r.ScheduleBoundS = r.LowerBoundS
	if !firstAsk.IsZero() {
		r.FirstAskS, r.MinWritingS = firstAsk.Sub(first).Seconds(), minWriting.Seconds()
		r.ScheduleBoundS = math.Max(r.LowerBoundS, r.FirstAskS+r.SlotSecondsS/float64(slots)+r.MinWritingS)
	}
	if r.ScheduleBoundS > 0 {
		r.ScheduleRatio = r.MakespanS / r.ScheduleBoundS
	}
	r.OnePerSlotS = onePerSlot(crit, slots).Seconds()
	if r.MakespanS > 0 {
		r.SpeedupOverOne = r.OnePerSlotS / r.MakespanS
	}
	if len(runs) > 0 {
		// The window in which slots had work to do: from the first request
		// for a slot to the last run's end.
		from, to := runs[0].AskedAt(), runs[0].Closed
		for _, a := range runs {
			from, to = minTime(from, a.AskedAt()), maxTime(to, a.Closed)
		}
		r.BusyWindowS = to.Sub(from).Seconds()
		if r.BusyWindowS > 0 {
			r.BusyFraction = r.SlotSecondsS / (float64(slots) * r.BusyWindowS)
		}
		r.Idle = idleCauses(papers, runs, slots, from, to)
		r.TailS = last.Sub(to).Seconds()
		r.Tail = inFlight(papers, to, last)
	}
	r.ScheduleToStartP50Ms, r.ScheduleToStartP99Ms = percentile(s2s, 50), percentile(s2s, 99)
	r.NextScheduledP50Ms, r.NextScheduledP99Ms = percentile(gaps, 50), percentile(gaps, 99)
	all := append(append([]float64{}, s2s...), gaps...)
	r.OverheadP50Ms, r.OverheadP99Ms = percentile(all, 50), percentile(all, 99)
	return r
}

// onePerSlot is the makespan when each slot takes one whole paper at a
// time (in order, to the first free slot) and a paper takes its critical
// path: what a system that holds a GPU for a whole idea would need.
func onePerSlot(crit []time.Duration, slots int) time.Duration {
	free := make([]time.Duration, slots)
	for _, c := range crit {
		i := slices.Index(free, slices.Min(free))
		free[i] += c
	}
	return slices.Max(free)
}

// Idle causes that are not an activity type.
const (
	// TooFewPapers: every running paper had its own run executing.
	TooFewPapers = "(too few papers: each running paper's run was executing)"
	// BetweenActivities: a paper was between activities (its workflow task).
	BetweenActivities = "(workflow between activities)"
)

// idleCauses samples the busy window every 100 ms: where fewer runs were
// executing than there are slots and none was waiting, the idle slots are
// charged to the activity types the papers were executing then.
func idleCauses(papers []Paper, runs []Activity, slots int, from, to time.Time) []IdleShare {
	const step = 100 * time.Millisecond
	shares := map[string]float64{}
	for t := from; t.Before(to); t = t.Add(step) {
		running, waiting := 0, 0
		for _, a := range runs {
			switch {
			case !t.Before(a.Started) && t.Before(a.Closed):
				running++
			case !t.Before(a.AskedAt()) && t.Before(a.Started):
				waiting++
			}
		}
		if running >= slots || waiting > 0 {
			continue
		}
		idle := float64(slots-running) * step.Seconds()
		// Papers whose own run executes are not what the slots wait for.
		doing := map[string]int{}
		n := 0
		for _, p := range papers {
			if t.Before(p.Start) || !t.Before(p.End) {
				continue
			}
			inRun, busy := false, false
			for _, a := range p.Activities {
				if !t.Before(a.Scheduled) && t.Before(a.Closed) {
					if a.Slot {
						inRun = true
					} else {
						doing[a.Type]++
						busy = true
					}
				}
			}
			switch {
			case inRun:
			case busy:
				n++
			default:
				doing[BetweenActivities]++
				n++
			}
		}
		if n == 0 {
			shares[TooFewPapers] += idle
			continue
		}
		total := 0
		for _, k := range doing {
			total += k
		}
		for typ, k := range doing {
			shares[typ] += idle * float64(k) / float64(total)
		}
	}
	return sortedShares(shares)
}

// inFlight is what the papers executed between from and to, in
// paper-seconds by activity type (sampled every 100 ms).
func inFlight(papers []Paper, from, to time.Time) []IdleShare {
	const step = 100 * time.Millisecond
	shares := map[string]float64{}
	for t := from; t.Before(to); t = t.Add(step) {
		for _, p := range papers {
			for _, a := range p.Activities {
				if !t.Before(a.Scheduled) && t.Before(a.Closed) {
					shares[a.Type] += step.Seconds()
				}
			}
		}
	}
	return sortedShares(shares)
}

func sortedShares(shares map[string]float64) []IdleShare {
	out := make([]IdleShare, 0, len(shares))
	for typ, s := range shares {
		out = append(out, IdleShare{Activity: typ, Seconds: math.Round(s*10) / 10})
	}
	sort.Slice(out, func(i, j int) bool {
		return cmp.Or(cmp.Compare(out[j].Seconds, out[i].Seconds), strings.Compare(out[i].Activity, out[j].Activity)) < 0
	})
	return out
}

// SetCPU records the CPU time used over the run on cpus CPUs.
func (r *Report) SetCPU(seconds float64, cpus int) {
	r.CPUSeconds, r.CPUs = seconds, cpus
	if cpus > 0 && r.MakespanS > 0 {
		r.CPUBusy = seconds / (float64(cpus) * r.MakespanS)
	}
}

// Targets are the issue's: on 2 cores, N=8, K=2, D1=200 ms, D2=2 s.
type Targets struct {
	BusyFraction, MakespanRatio, OverheadP50Ms float64
	PeakRSSMiB                                 float64
	HistoryBytes                               int
}

// DefaultTargets are the benchmark's published targets.
var DefaultTargets = Targets{BusyFraction: 0.9, MakespanRatio: 1.15, OverheadP50Ms: 20, PeakRSSMiB: 1024, HistoryBytes: 1 << 20}

// Misses lists the targets r misses, each with what kept it from them.
func (r Report) Misses(t Targets) []string {
	var out []string
	why := ""
	if len(r.Idle) > 0 {
		why = fmt.Sprintf(" (slots stood idle mostly while papers ran %s: %.1f s)", r.Idle[0].Activity, r.Idle[0].Seconds)
	}
	if r.BusyFraction < t.BusyFraction {
		out = append(out, fmt.Sprintf("busy fraction %.2f < %.2f%s", r.BusyFraction, t.BusyFraction, why))
	}
	if r.MakespanRatio > t.MakespanRatio {
		tail := ""
		if len(r.Tail) > 0 {
			var parts []string
			for _, s := range r.Tail[:min(3, len(r.Tail))] {
				parts = append(parts, fmt.Sprintf("%s %.1f", s.Activity, s.Seconds))
			}
			tail = fmt.Sprintf(" (the %.1f s after the last run went to %s paper-seconds)", r.TailS, strings.Join(parts, ", "))
		}
		bound := ""
		if r.ScheduleBoundS > r.LowerBoundS*t.MakespanRatio {
			bound = fmt.Sprintf(" [no schedule of these stage times can meet it: they need at least %.1f s = %.2f × the lower bound]",
				r.ScheduleBoundS, r.ScheduleBoundS/r.LowerBoundS)
		}
		out = append(out, fmt.Sprintf("makespan %.2f × the lower bound > %.2f%s%s%s%s", r.MakespanRatio, t.MakespanRatio, bound, why, tail, r.cpuNote()))
	}
	if r.ScheduleRatio > t.MakespanRatio {
		out = append(out, fmt.Sprintf("makespan %.2f × the schedule bound > %.2f%s%s", r.ScheduleRatio, t.MakespanRatio, why, r.cpuNote()))
	}
	if r.OverheadP50Ms > t.OverheadP50Ms {
		out = append(out, fmt.Sprintf("activity overhead p50 %.1f ms > %.0f ms", r.OverheadP50Ms, t.OverheadP50Ms))
	}
	if r.WorkerPeakRSSMiB > t.PeakRSSMiB {
		out = append(out, fmt.Sprintf("worker peak memory %.0f MiB > %.0f MiB", r.WorkerPeakRSSMiB, t.PeakRSSMiB))
	}
	if r.MaxHistoryBytes > t.HistoryBytes {
		out = append(out, fmt.Sprintf("largest history %d bytes > %d", r.MaxHistoryBytes, t.HistoryBytes))
	}
	return out
}

// cpuNote names the CPUs as the limit when they were nearly always busy:
// the writing of many papers then waits for a CPU, not for a slot.
func (r Report) cpuNote() string {
	if r.CPUBusy < 0.8 {
		return ""
	}
	return fmt.Sprintf(" (the %d CPUs were %.0f%% busy: the writing waited for CPU time, %.0f CPU-seconds in all)", r.CPUs, 100*r.CPUBusy, r.CPUSeconds)
}

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// WriteTimeline writes one line per paper, times in seconds from the first
// paper's start: its start, each slot activity as asked→started–closed,
// its end.
func WriteTimeline(w io.Writer, papers []Paper) {
	if len(papers) == 0 {
		return
	}
	t0 := papers[0].Start
	for _, p := range papers {
		t0 = minTime(t0, p.Start)
	}
	at := func(t time.Time) string { return strconv.FormatFloat(t.Sub(t0).Seconds(), 'f', 1, 64) }
	fmt.Fprintln(w, "timeline (s from the first start; a run is asked→started–ended, a plot scheduled→started–ended):")
	for _, p := range papers {
		var runs []string
		for _, a := range p.Activities {
			switch {
			case a.Closed.IsZero():
			case a.Slot:
				runs = append(runs, fmt.Sprintf("run %s→%s–%s", at(a.AskedAt()), at(a.Started), at(a.Closed)))
			case a.Type == "RunPlot": // on the host's CPUs, beside the slots
				runs = append(runs, fmt.Sprintf("plot %s→%s–%s", at(a.Scheduled), at(a.Started), at(a.Closed)))
			}
		}
		fmt.Fprintf(w, "  %s  start %s  %s  end %s\n", p.ID, at(p.Start), strings.Join(runs, ", "), at(p.End))
	}
}
