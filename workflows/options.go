package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
)

// TaskQueue is where the workers poll for workflows and activities.
const TaskQueue = "aiscientist"

// Search attributes registered on the namespace so papers are filterable in
// the Web UI (e.g. `Stage = "experiments"`).
var (
	TemplateKey = temporal.NewSearchAttributeKeyKeyword("Template")
	IdeaNameKey = temporal.NewSearchAttributeKeyKeyword("IdeaName")
	StageKey    = temporal.NewSearchAttributeKeyKeyword("Stage")
	// CostUSD is the model spend so far, e.g. `CostUSD > 5`.
	CostUSD = temporal.NewSearchAttributeKeyFloat64("CostUSD")
)

// Errors that retrying cannot fix: the stage fails at once with the message.
var nonRetryable = []string{
	activities.ErrTypeBadInput, activities.ErrTypeModel, activities.ErrTypeUnparsable,
	activities.ErrTypeMissingInput, activities.ErrTypeNoPDF,
}

// llmOptions: model calls take minutes at worst; transient provider errors
// (5xx, timeouts, 429) back off up to five minutes between tries.
func llmOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:             summaryOf(ctx),
		StartToCloseTimeout: 20 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			MaximumAttempts:        8,
			NonRetryableErrorTypes: nonRetryable,
		},
	})
}

// fileOptions: local file work and LaTeX builds are quick.
func fileOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:             summaryOf(ctx),
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: nonRetryable,
		},
	})
}

// runOptions: a script run heartbeats every few seconds, so a dead worker is
// noticed in a minute rather than after the run's whole time budget. A
// failing experiment is a result, not an error: retries here only cover
// infrastructure failures.
func runOptions(ctx workflow.Context, timeout time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:             summaryOf(ctx),
		StartToCloseTimeout: timeout + 5*time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        10, // a killed worker costs one attempt
			NonRetryableErrorTypes: nonRetryable,
		},
	})
}

type summaryKey struct{}

// summarize names the next activities for the Web UI ("write Method",
// "run_2 attempt 1"); the options builders copy it into ActivityOptions.
// Summaries are metadata only: replay ignores them.
func summarize(ctx workflow.Context, format string, args ...any) workflow.Context {
	return workflow.WithValue(ctx, summaryKey{}, fmt.Sprintf(format, args...))
}

func summaryOf(ctx workflow.Context) string {
	s, _ := ctx.Value(summaryKey{}).(string)
	return s
}
