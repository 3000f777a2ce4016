package activities

import (
	"context"
	"fmt"

	"github.com/aiscientist/aiscientist/internal/llm"
)

// Keeping a long conversation within the model's context window. The
// coder's conversation grows with every turn (one real experiment phase is
// about 56k tokens, past deepseek-chat's 64k), but what a turn needs is the
// task (the first exchange), the latest turns and the current files, which
// ride on the newest message; notes.txt records every run. So the turns in
// between are left out, as many as needed, with a note saying so.

// tokensOf estimates a text's tokens: three characters a token errs high
// for prose, code and LaTeX alike.
func tokensOf(s string) int { return (len(s) + 2) / 3 }

// fitConversation returns msgs (user and assistant turns alternating, the
// newest user message last) within window tokens for system, msgs and a
// reply of reply tokens. It keeps the first exchange and the latest turns
// that fit; window 0 means no limit.
func fitConversation(system string, msgs []llm.Message, window, reply int) []llm.Message {
	if window <= 0 {
		return msgs
	}
	room := window - reply - tokensOf(system)
	total := 0
	for _, m := range msgs {
		total += tokensOf(m.Content)
	}
	if total <= room || len(msgs) <= 3 {
		return msgs
	}
	head := msgs[:2] // the task and the first reply
	used := tokensOf(head[0].Content) + tokensOf(head[1].Content)
	start := len(msgs) - 1 // the newest message is always sent
	used += tokensOf(msgs[start].Content)
	// Whole exchanges (assistant reply, then the user turn before it),
	// newest first, while they fit.
	for start-2 >= 2 && used+tokensOf(msgs[start-1].Content)+tokensOf(msgs[start-2].Content) <= room {
		used += tokensOf(msgs[start-1].Content) + tokensOf(msgs[start-2].Content)
		start -= 2
	}
	if used > room {
		head = nil // even the task does not fit beside the newest message
	}
	dropped := start - len(head)
	if dropped <= 0 {
		return msgs
	}
	tail := append([]llm.Message(nil), msgs[start:]...)
	tail[0].Content = fmt.Sprintf("[%d earlier messages of this conversation are left out to fit the model's context window; notes.txt and the current files hold what they did.]\n\n%s", dropped, tail[0].Content)
	return append(append([]llm.Message(nil), head...), tail...)
}

// chatWithin sends a conversation fitted to the model's context window; a
// provider that still finds it too long gets it again with half the room,
// twice at most, before the error stands.
func (a *Activities) chatWithin(ctx context.Context, req llm.Request) (llm.Response, error) {
	window, reply := 0, 0
	if info, err := a.LLM.Model(req.Model); err == nil {
		window, reply = info.ContextWindow, info.RequestTokens(req.MaxTokens)
	}
	full := req.Messages
	for tries := 0; ; tries++ {
		req.Messages = fitConversation(req.System, full, window, reply)
		resp, err := a.chat(ctx, req)
		if err == nil || !llm.IsContextOverflow(err) || tries == 2 {
			return resp, err
		}
		sent := tokensOf(req.System) + reply
		for _, m := range req.Messages {
			sent += tokensOf(m.Content)
		}
		window = sent / 2
	}
}
