package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/aiscientist/aiscientist/internal/gpu"
)

// acquire starts an AcquireDevice and returns where its device arrives.
func acquire(ctx context.Context, h *Host, paper string, rank int) <-chan int {
	got := make(chan int, 1)
	go func() {
		d, err := h.AcquireDevice(ctx, DeviceInput{Paper: paper, Rank: rank})
		if err != nil {
			d = -1
		}
		got <- d
	}()
	return got
}

func waitFor(t *testing.T, h *Host, waiting int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, w := h.load(); w == waiting {
			return
		}
	}
	t.Fatalf("never %d waiting", waiting)
}

func recv(t *testing.T, c <-chan int) int {
	t.Helper()
	select {
	case d := <-c:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no device given")
		return -1
	}
}

func idle(t *testing.T, c <-chan int) {
	t.Helper()
	select {
	case d := <-c:
		t.Fatalf("given device %d while every device is held", d)
	case <-time.After(20 * time.Millisecond):
	}
}

// TestDeviceOrder: free devices go to the runs of the papers the host
// serves (the first two per device to ask), by rank, then arrival; a paper
// whose last run ended makes room for the next.
func TestDeviceOrder(t *testing.T) {
	ctx := context.Background()
	h := NewHost("h", gpu.Inventory{Devices: gpu.CPUSlots(2)}) // serves 4 papers
	if a, b := recv(t, acquire(ctx, h, "a", 1)), recv(t, acquire(ctx, h, "b", 1)); a == b {
		t.Fatalf("two papers given device %d", a)
	}
	h.claim(0, "a")
	h.claim(1, "b")
	// Arrival order: e (rank 1024), c (1), f (2), d (2). Served: a, b,
	// then e and c, the first to ask; f once e is done, before d.
	waits := map[string]<-chan int{}
	for i, w := range []struct {
		paper string
		rank  int
	}{{"e", 1 << 10}, {"c", 1}, {"f", 2}, {"d", 2}} {
		waits[w.paper] = acquire(ctx, h, w.paper, w.rank)
		waitFor(t, h, i+1)
	}
	for _, c := range waits {
		idle(t, c)
	}
	var order []string
	next := func(holder string, last bool) {
		t.Helper()
		h.release(0, holder, last)
		for p, c := range waits {
			select {
			case d := <-c:
				if d != 0 {
					t.Fatalf("%s given device %d, want the freed 0", p, d)
				}
				h.claim(0, p)
				order = append(order, p)
				delete(waits, p)
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		t.Fatal("nobody given the freed device")
	}
	next("a", false) // a's run ended; a plans its next
	next("e", true)  // e's plots ended: f takes its place among those served
	next("c", false)
	next("d", false)
	if want := []string{"e", "f", "c", "d"}; !slices.Equal(order, want) {
		t.Errorf("devices given in order %v, want %v", order, want)
	}
	if busy, waiting := h.load(); busy != 2 || waiting != 0 {
		t.Errorf("load = %d busy, %d waiting; want 2, 0", busy, waiting)
	}
}

// TestDeviceHandOver: what frees a device besides a finished run, and
// what does not.
func TestDeviceHandOver(t *testing.T) {
	tests := []struct {
		name string
		// setup leaves device 0 held by "a" (given, maybe started) and
		// returns a waiter "b"; then step runs.
		started bool
		step    func(h *Host, cancelB context.CancelFunc)
		wantB   bool // b is given the device
	}{
		{name: "grant never claimed lapses", started: false, step: func(*Host, context.CancelFunc) {}, wantB: true},
		{name: "claimed grant does not lapse", started: true, step: func(*Host, context.CancelFunc) {}, wantB: false},
		{name: "run ends", started: true, step: func(h *Host, _ context.CancelFunc) { h.release(0, "", false) }, wantB: true},
		{name: "a retry's run ending keeps the device for its paper", started: true, step: func(h *Host, _ context.CancelFunc) {
			h.claim(0, "a") // attempt 2 starts before attempt 1 is known to be over
			h.release(0, "", false)
		}, wantB: false},
		{name: "cancelled waiter leaves the line", started: true, step: func(h *Host, cancel context.CancelFunc) {
			cancel()
			waitFor(t, h, 0)
			h.release(0, "", false)
		}, wantB: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHost("h", gpu.Inventory{Devices: gpu.CPUSlots(1)})
			h.ClaimTimeout = 50 * time.Millisecond
			if d := recv(t, acquire(context.Background(), h, "a", 1)); d != 0 {
				t.Fatalf("a given %d", d)
			}
			if tt.started {
				h.claim(0, "a")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b := acquire(ctx, h, "b", 1)
			waitFor(t, h, 1)
			tt.step(h, cancel)
			select {
			case d := <-b: // -1: the wait ended without a device
				if !tt.wantB && d >= 0 {
					t.Fatalf("b given %d", d)
				}
				if tt.wantB && d != 0 {
					t.Fatalf("b given %d, want 0", d)
				}
			case <-time.After(300 * time.Millisecond):
				if tt.wantB {
					t.Fatal("b never given the device")
				}
			}
		})
	}
}

// TestDeviceGrantWhileCancelled: a waiter cancelled just as it is given
// a device hands it on; nothing is held afterwards.
func TestDeviceGrantWhileCancelled(t *testing.T) {
	h := NewHost("h", gpu.Inventory{Devices: gpu.CPUSlots(1)})
	for i := range 200 {
		ctx, cancel := context.WithCancel(context.Background())
		first := recv(t, acquire(context.Background(), h, "a", 1))
		b := acquire(ctx, h, fmt.Sprint("b", i), 1)
		waitFor(t, h, 1)
		go cancel()
		h.release(first, "", false)
		if d := recv(t, b); d >= 0 {
			h.claim(d, fmt.Sprint("b", i))
			h.release(d, "", false)
		}
		if busy, waiting := h.load(); busy != 0 || waiting != 0 {
			t.Fatalf("try %d: %d busy, %d waiting after every run ended", i, busy, waiting)
		}
	}
}

// TestReserveBusyHost: a host serving a full window of papers (two per
// device) leaves a new paper to other hosts (on its first tries); once a
// paper's last run ends, it takes the next.
func TestReserveBusyHost(t *testing.T) {
	h := NewHost("h", gpu.Inventory{Devices: gpu.CPUSlots(1)})
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(h.ReserveHost)
	reserve := func() error {
		_, err := env.ExecuteActivity(h.ReserveHost, ReserveInput{Paper: "c"})
		return err
	}
	if err := reserve(); err != nil {
		t.Fatalf("idle host: %v", err)
	}
	first := recv(t, acquire(context.Background(), h, "a", 1))
	h.claim(first, "a")
	if err := reserve(); err != nil {
		t.Fatalf("one paper on one device: %v", err)
	}
	b := acquire(context.Background(), h, "b", 1)
	waitFor(t, h, 1)
	if err := reserve(); err == nil || !strings.Contains(err.Error(), "less busy host") {
		t.Fatalf("two papers on one device: %v, want it left to another host", err)
	}
	h.release(first, "a", true)
	h.claim(recv(t, b), "b")
	if err := reserve(); err != nil {
		t.Fatalf("a done, b running: %v", err)
	}
}
