// Package activities holds every side effect of a paper: LLM calls, file
// edits, experiment runs, LaTeX builds and reviews. Activities are methods on
// dependency structs so the worker injects them once: Activities for the
// orchestration queue, Host for an experiment host's own queues, Runner for
// one device's queue (or the host's plot queue).
package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"go.temporal.io/sdk/temporal"

	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/sandbox"
	"github.com/aiscientist/aiscientist/internal/scholar"
	"github.com/aiscientist/aiscientist/internal/store"
	"github.com/aiscientist/aiscientist/internal/store/s3store"
	"github.com/aiscientist/aiscientist/internal/template"
)

// Activities are the dependencies every activity shares.
type Activities struct {
	Store     store.Local
	Templates string // folder holding the templates
	LLM       *llm.Registry
	Python    string // explicit interpreter (worker --python / AISCI_PYTHON); empty: discover
	LaTeX     latex.Compiler
	// Sandbox runs every experiment and plot script (bubblewrap; the zero
	// value is an enabled sandbox without limits, Disabled runs directly).
	Sandbox sandbox.Config
	// Remote, when set, holds every workspace (S3 or MinIO); Store is then
	// this worker's cache of it. See workspace.go.
	Remote *s3store.Store
	// Literature searches Semantic Scholar, OpenAlex and arXiv (one per
	// process: its rate limits and cache are shared by every paper).
	Literature *scholar.Service
	// ModelSlots, when set, bounds the model calls this worker makes at
	// once (worker --llm-concurrency): a buffered channel used as a
	// semaphore, shared by every Activities of the process.
	ModelSlots chan struct{}

	pythons sync.Map // template name → interpreter that imports its packages
}

// PaperRef names a paper's workspace; the history carries this, not files.
type PaperRef struct {
	Key      string `json:"key"` // artifact-store key of the workspace
	Name     string `json:"name"`
	Template string `json:"template"`
	Model    string `json:"model"`
}

// Error types the workflows look for.
const (
	ErrTypeBadInput     = "BadInput"     // invalid template, missing tool: fix the setup, then resume
	ErrTypeModel        = "ModelRefused" // bad key or unknown model
	ErrTypeRateLimited  = "RateLimited"
	ErrTypeUnparsable   = "UnparsableReply"
	ErrTypeNoPDF        = "NoPDF"
	ErrTypeMissingInput = "MissingInput"
	ErrTypeTruncated    = "TruncatedReply"
)

func badInput(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeBadInput, nil)
}

// chat calls the model and maps failures onto Temporal's retry rules:
// a refused key or model is final, a 429 waits as long as the provider asked.
func (a *Activities) chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	c, err := a.LLM.Client(req.Model)
	if err != nil {
		return llm.Response{}, temporalError(err)
	}
	if a.ModelSlots != nil {
		select {
		case a.ModelSlots <- struct{}{}:
			defer func() { <-a.ModelSlots }()
		case <-ctx.Done():
			return llm.Response{}, ctx.Err()
		}
	}
	resp, err := c.Chat(ctx, req)
	if err != nil {
		return llm.Response{}, temporalError(fmt.Errorf("chat with %s: %w", req.Model, err))
	}
	if resp.FinishReason != llm.FinishLength {
		return resp, nil
	}
	// Cut off at the output cap: never parse half a reply. First the same
	// request with twice the room, when the model has it (a reasoning
	// model that spent its tokens thinking answers empty); then once more
	// asking for a complete, more concise reply; if that is cut off too,
	// the call fails (and Temporal retries it a bounded number of times).
	spent := resp.Usage
	if roomier, ok := moreRoom(a.LLM, req); ok {
		if resp, err = c.Chat(ctx, roomier); err != nil {
			return llm.Response{}, temporalError(fmt.Errorf("chat with %s: %w", req.Model, err))
		}
		resp.Usage = resp.Usage.Add(spent)
		if resp.FinishReason != llm.FinishLength {
			return resp, nil
		}
		req, spent = roomier, resp.Usage
	}
	retry := req
	retry.Messages = append(append([]llm.Message(nil), req.Messages...),
		llm.Message{Role: "assistant", Content: resp.Content},
		llm.Message{Role: "user", Content: "Your reply was cut off at the output limit. Reply again from the start, complete and more concise."})
	again, err := c.Chat(ctx, retry)
	if err != nil {
		return llm.Response{}, temporalError(fmt.Errorf("chat with %s: %w", req.Model, err))
	}
	again.Usage = again.Usage.Add(spent)
	if again.FinishReason == llm.FinishLength {
		return llm.Response{}, temporal.NewApplicationError(fmt.Sprintf("model %s was cut off at its output limit twice", req.Model), ErrTypeTruncated)
	}
	return again, nil
}

// moreRoom is req with twice the reply's room, when the model allows more
// than req got.
func moreRoom(reg *llm.Registry, req llm.Request) (llm.Request, bool) {
	info, err := reg.Model(req.Model)
	if err != nil {
		return req, false
	}
	answer := req.MaxTokens
	if answer <= 0 {
		if answer = info.OutputCap; answer <= 0 {
			answer = llm.DefaultOutputCap
		}
	}
	roomier := req
	roomier.MaxTokens = 2 * answer
	return roomier, info.RequestTokens(roomier.MaxTokens) > info.RequestTokens(req.MaxTokens)
}

func temporalError(err error) error {
	if llm.IsPermanent(err) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeModel, err)
	}
	if d := llm.RetryAfter(err); d > 0 {
		return temporal.NewApplicationErrorWithOptions(err.Error(), ErrTypeRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: d, Cause: err})
	}
	return err
}

// template loads a template, making "unknown template" final.
func (a *Activities) template(name string) (template.Template, error) {
	t, err := template.Load(a.Templates, name)
	if err != nil {
		return template.Template{}, badInput("%v", err)
	}
	return t, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return store.WriteFile(path, append(b, '\n'))
}

func readText(dir, rel string) string {
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return ""
	}
	return string(b)
}

func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }

func nonRetryable(typ, msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, typ, nil)
}
