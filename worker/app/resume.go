package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/aiscientist/aiscientist/workflows"
)

// Resumed says where a paper was resumed from.
type Resumed struct {
	Stage    workflows.Stage // the stage that runs again
	EventID  int64           // the workflow task the history was reset to
	NewRunID string
}

// ResumePaper continues a failed, cancelled, terminated or timed-out paper
// from the start of the stage it stopped in, by resetting its workflow to
// the workflow task that began that stage. Everything before it stays in
// the history, so finished activities — experiment runs included — are not
// run again; the stage itself starts over with fresh attempt counts (after
// a fix of what made it fail), working on the intact workspace. The new run
// keeps the workflow ID.
func ResumePaper(ctx context.Context, c client.Client, namespace, id string) (Resumed, error) {
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return Resumed{}, fmt.Errorf("workflow %s not found", id)
		}
		return Resumed{}, fmt.Errorf("describe %s: %w", id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	if t := info.GetType().GetName(); t != workflows.PaperWorkflowName {
		return Resumed{}, fmt.Errorf("%s is a %s; resume works on papers (resume a campaign's failed papers one by one)", id, t)
	}
	switch st := info.GetStatus(); st {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return Resumed{}, fmt.Errorf("paper %s is still running (paused or waiting for budget? see starter status %s)", id, id)
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return Resumed{}, fmt.Errorf("paper %s already completed", id)
	}
	runID := info.GetExecution().GetRunId()
	stage, eventID, err := lastStageStart(ctx, c, id, runID)
	if err != nil {
		return Resumed{}, err
	}
	if namespace == "" {
		namespace = "default"
	}
	resp, err := c.ResetWorkflowExecution(ctx, &workflowservice.ResetWorkflowExecutionRequest{
		Namespace:                 namespace,
		WorkflowExecution:         &commonpb.WorkflowExecution{WorkflowId: id, RunId: runID},
		Reason:                    "starter resume: from the start of stage " + string(stage),
		WorkflowTaskFinishEventId: eventID,
		RequestId:                 uuid.NewString(),
	})
	if err != nil {
		return Resumed{}, fmt.Errorf("reset %s to event %d: %w", id, eventID, err)
	}
	return Resumed{Stage: stage, EventID: eventID, NewRunID: resp.GetRunId()}, nil
}

// lastStageStart finds the last stage the paper entered and the workflow
// task completion that first published it. (Pauses, budget stops and
// failures change the State attribute, never the Stage.)
func lastStageStart(ctx context.Context, c client.Client, id, runID string) (workflows.Stage, int64, error) {
	var stage workflows.Stage
	var at int64
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return "", 0, fmt.Errorf("history of %s: %w", id, err)
		}
		attrs := ev.GetUpsertWorkflowSearchAttributesEventAttributes()
		if attrs == nil {
			continue
		}
		p := attrs.GetSearchAttributes().GetIndexedFields()[workflows.StageKey.GetName()]
		if p == nil {
			continue
		}
		var s workflows.Stage
		if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil || s == stage || s == workflows.StageDone {
			continue
		}
		stage, at = s, attrs.GetWorkflowTaskCompletedEventId()
	}
	if stage == "" {
		return "", 0, fmt.Errorf("paper %s never started a stage; launch it again instead", id)
	}
	return stage, at, nil
}
