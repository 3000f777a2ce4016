package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/aiscientist/aiscientist/workflows"
)

// ReplayReport describes a history that replayed cleanly.
type ReplayReport struct {
	WorkflowType string
	Events       int
	// Markers are the workflow.GetVersion change IDs recorded in the
	// history, in order of first appearance.
	Markers []string
}

// Names the SDK uses for GetVersion markers (internal_command_state_machine.go,
// versionMarkerName and versionMarkerChangeIDName); not exported by the SDK.
const (
	versionMarkerName   = "Version"
	versionMarkerChange = "change-id"
)

// ReplayWorkflow fetches a run's history (runID empty: the latest run) and
// replays it against this build's workflow code.
func ReplayWorkflow(ctx context.Context, c client.Client, workflowID, runID string) (ReplayReport, error) {
	h, err := FetchHistory(ctx, c, workflowID, runID)
	if err != nil {
		return ReplayReport{}, err
	}
	return ReplayHistory(h)
}

// FetchHistory reads every page of a run's history (runID empty: the
// latest run).
func FetchHistory(ctx context.Context, c client.Client, workflowID, runID string) (*historypb.History, error) {
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			var nf *serviceerror.NotFound
			if errors.As(err, &nf) {
				if runID != "" {
					return nil, fmt.Errorf("workflow %s not found (run %s)", workflowID, runID)
				}
				return nil, fmt.Errorf("workflow %s not found", workflowID)
			}
			return nil, fmt.Errorf("history of workflow %s: %w", workflowID, err)
		}
		h.Events = append(h.Events, e)
	}
	if len(h.Events) == 0 {
		return nil, fmt.Errorf("workflow %s not found (empty history)", workflowID)
	}
	return h, nil
}

// ReplayHistoryFile replays a JSON history, as written by SaveHistoryFile,
// `temporal workflow show --output json` or the Web UI's download.
func ReplayHistoryFile(path string) (ReplayReport, error) {
	h, err := LoadHistoryFile(path)
	if err != nil {
		return ReplayReport{}, err
	}
	return ReplayHistory(h)
}

// LoadHistoryFile reads a JSON history with the SDK's reader, which accepts
// both plain protojson and the CLI's shorthand payloads.
func LoadHistoryFile(path string) (*historypb.History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("history file: %w", err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		return nil, fmt.Errorf("history file %s: %w", path, err)
	}
	return h, nil
}

// SaveHistoryFile writes a history as indented protojson, the format of
// workflows/testdata, so it can be replayed with --file or added there.
func SaveHistoryFile(path string, h *historypb.History) error {
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode history: %w", err)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("save history: %w", err)
		}
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	return nil
}

// failureMessage picks the message out of the task failure that the
// replayer reports only as proto text ("replay workflow failed with
// failure: message:\"[TMPRL1100] nondeterministic workflow: ...\" ...").
var failureMessage = regexp.MustCompile(`message:\s*"((?:[^"\\]|\\.)*)"`)

// ReplayHistory replays a history against the workflows as compiled into
// this binary.
func ReplayHistory(h *historypb.History) (ReplayReport, error) {
	rep, err := describeHistory(h)
	if err != nil {
		return rep, err
	}
	// An encrypted history replays with the key (AISCI_CODEC_KEY).
	var ropts worker.WorkflowReplayerOptions
	cdc, err := CodecFromEnv()
	if err != nil {
		return rep, err
	}
	if cdc != nil {
		ropts.DataConverter, ropts.FailureConverter = cdc.DataConverter(), cdc.FailureConverter()
	}
	r, err := worker.NewWorkflowReplayerWithOptions(ropts)
	if err != nil {
		return rep, err
	}
	workflows.RegisterWorkflows(r)
	// A nil logger would print the replayed workflow's own logs.
	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := r.ReplayWorkflowHistory(quiet, h); err != nil {
		msg := err.Error()
		if strings.Contains(msg, "[TMPRL1100]") || strings.Contains(msg, "nondeterministic") {
			// The replayer wraps the task failure's proto text; keep its message.
			if m := failureMessage.FindStringSubmatch(msg); m != nil {
				if u, uerr := strconv.Unquote(`"` + m[1] + `"`); uerr == nil {
					msg = u
				}
			}
			return rep, fmt.Errorf("non-deterministic: %s", msg)
		}
		if strings.Contains(msg, "unable to find workflow type") {
			// The SDK's message names the type and the registered ones.
			return rep, fmt.Errorf("unknown workflow type: %w", err)
		}
		return rep, fmt.Errorf("replay %s: %w", rep.WorkflowType, err)
	}
	return rep, nil
}

// describeHistory reads the workflow type, event count and version markers.
func describeHistory(h *historypb.History) (ReplayReport, error) {
	events := h.GetEvents()
	if len(events) == 0 {
		return ReplayReport{}, errors.New("empty history")
	}
	start := events[0].GetWorkflowExecutionStartedEventAttributes()
	if start == nil {
		return ReplayReport{}, fmt.Errorf("history starts with %v, not a workflow start", events[0].GetEventType())
	}
	rep := ReplayReport{WorkflowType: start.GetWorkflowType().GetName(), Events: len(events)}
	dc, err := DataConverter()
	if err != nil {
		return rep, err
	}
	seen := map[string]bool{}
	for _, e := range events {
		m := e.GetMarkerRecordedEventAttributes()
		if e.GetEventType() != enumspb.EVENT_TYPE_MARKER_RECORDED || m.GetMarkerName() != versionMarkerName {
			continue
		}
		var id string
		if err := dc.FromPayloads(m.GetDetails()[versionMarkerChange], &id); err != nil {
			return rep, fmt.Errorf("event %d: version marker: %w", e.GetEventId(), err)
		}
		if !seen[id] {
			seen[id] = true
			rep.Markers = append(rep.Markers, id)
		}
	}
	return rep, nil
}
