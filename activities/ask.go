package activities

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/aiscientist/aiscientist/internal/llm"
)

// MaxReasks is how often a reply that does not parse is sent back with the
// parse error before the request is given up: at most MaxReasks+1 replies per
// request. Models usually fix a quoted format error on the first re-ask; a
// model that fails three times in a row will not be talked round, and every
// further try costs money. Temporal does not retry the failure (it is final),
// since a retry would repeat the same conversation.
const MaxReasks = 2

// maxQuotedError bounds the parse error quoted in a final error message, so a
// huge reply echoed by a parser does not flood the workflow's history.
const maxQuotedError = 200

// ask sends req and hands the reply to parse. A reply that does not parse is
// kept as an assistant turn, followed by a user turn from correction(err),
// which must quote err so the model can fix it, and the model is asked again,
// at most MaxReasks times. It returns the accepted reply and the whole
// conversation (req.Messages, every turn, the accepted reply last).
//
// When no reply parses, the error is a final ErrTypeUnparsable naming what,
// the number of replies and the last parse error; the conversation is still
// returned for transcripts. Model errors from chat are returned as they are.
func (a *Activities) ask(ctx context.Context, req llm.Request, what string, parse func(reply string) error, correction func(err error) string) (llm.Response, []llm.Message, error) {
	msgs := append([]llm.Message(nil), req.Messages...)
	var perr error
	for try := 0; try <= MaxReasks; try++ {
		if try > 0 {
			msgs = append(msgs, llm.Message{Role: "user", Content: correction(perr)})
		}
		activity.RecordHeartbeat(ctx, fmt.Sprintf("%s: reply %d", what, try+1))
		req.Messages = msgs
		resp, err := a.chat(ctx, req)
		if err != nil {
			return llm.Response{}, msgs, err
		}
		msgs = append(msgs, llm.Message{Role: "assistant", Content: resp.Content})
		if perr = parse(resp.Content); perr == nil {
			return resp, msgs, nil
		}
	}
	return llm.Response{}, msgs, nonRetryable(ErrTypeUnparsable,
		fmt.Sprintf("%s: no usable reply in %d tries: %s", what, MaxReasks+1, clip(perr.Error(), maxQuotedError)))
}

// IsUnparsable reports whether err is ask's "no usable reply" failure, which
// callers holding an earlier good answer may fall back from.
func IsUnparsable(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == ErrTypeUnparsable
}

// clip shortens s to at most n bytes (on a rune boundary), marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
