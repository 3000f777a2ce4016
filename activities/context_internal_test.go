package activities

import (
	"strings"
	"testing"

	"github.com/aiscientist/aiscientist/internal/llm"
)

func TestFitConversation(t *testing.T) {
	turn := func(i int, role string, n int) llm.Message {
		return llm.Message{Role: role, Content: role + string(rune('a'+i)) + strings.Repeat("x", n)}
	}
	// The task and its reply, then 6 exchanges, then the newest message:
	// each message is about 100 tokens.
	var msgs []llm.Message
	for i := 0; i < 7; i++ {
		msgs = append(msgs, turn(i, "user", 300), turn(i, "assistant", 300))
	}
	msgs = append(msgs, turn(7, "user", 300))
	roles := func(ms []llm.Message) string {
		var b strings.Builder
		for _, m := range ms {
			b.WriteString(m.Content[:len(m.Role)+1] + " ")
		}
		return strings.TrimSpace(b.String())
	}
	tests := []struct {
		name          string
		window, reply int
		want          string
		note          string
	}{
		{name: "no window known", window: 0, want: roles(msgs)},
		{name: "it all fits", window: 100000, reply: 8192, want: roles(msgs)},
		{name: "the task, the latest exchange that fits and the newest", window: 700, reply: 100,
			want: "usera assistanta userg assistantg userh", note: "[10 earlier messages"},
		{name: "only the task and the newest", window: 420, reply: 100, want: "usera assistanta userh", note: "[12 earlier messages"},
		{name: "only the newest", window: 150, reply: 30, want: "userh", note: "[14 earlier messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fitConversation("", msgs, tt.window, tt.reply)
			// The note is prepended to the first kept message after the task.
			plain := make([]llm.Message, len(got))
			for i, m := range got {
				plain[i] = m
				if j := strings.Index(m.Content, "]\n\n"); j >= 0 && strings.HasPrefix(m.Content, "[") {
					plain[i].Content = m.Content[j+3:]
					if tt.note == "" || !strings.HasPrefix(m.Content, tt.note) {
						t.Errorf("note %q, want %q", m.Content[:j+1], tt.note)
					}
				}
			}
			if r := roles(plain); r != tt.want {
				t.Errorf("kept %s\nwant %s", r, tt.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Role == got[i-1].Role {
					t.Errorf("roles do not alternate at %d: %s", i, roles(plain))
				}
			}
		})
	}
}
