package activities_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
)

// writeRun writes run_<i>/final_info.json into a workspace.
func writeRun(t *testing.T, dir string, run int, valAcc float64) {
	t.Helper()
	writeFile(t, filepath.Join(dir, fmt.Sprintf("run_%d", run), "final_info.json"), grokkingFinalInfo(valAcc))
}

func TestCoderTurnScriptedSweep(t *testing.T) {
	e := newEnv(t)
	ref, dir := grokkingPaper(t, e, "coder", llm.ScriptedModel)
	writeRun(t, dir, 0, 0.91)
	expPath := filepath.Join(dir, "experiment.py")
	original := readFile(t, expPath)
	if !strings.Contains(original, "\nWEIGHT_DECAY = 1.0\n") {
		t.Fatal("the grokking template no longer has the line WEIGHT_DECAY = 1.0")
	}

	impl := activities.CoderTurnInput{Paper: ref, Conversation: activities.ConvCoder, TurnID: "implement-1", Kind: activities.KindImplement, Run: 1, MaxRuns: 5}
	res := mustExecute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, impl)
	if !res.Applied || res.Done || res.Feedback != "" {
		t.Fatalf("implement = %+v, want applied, not done", res)
	}
	if len(res.Changed) != 1 || res.Changed[0] != "experiment.py" {
		t.Errorf("Changed = %v, want [experiment.py]", res.Changed)
	}
	if want := strings.Replace(original, "\nWEIGHT_DECAY = 1.0\n", "\nWEIGHT_DECAY = 0.1\n", 1); readFile(t, expPath) != want {
		t.Errorf("experiment.py after run 1's edit is not the original with WEIGHT_DECAY = 0.1")
	}
	if res.Usage.Calls != 1 || e.scripted.calls.Load() != 1 {
		t.Errorf("usage %+v, calls %d; want 1 call", res.Usage, e.scripted.calls.Load())
	}

	// Retrying the same turn returns the recorded result without a call.
	writeFile(t, expPath, original)
	again := mustExecute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, impl)
	if !again.Applied || again.Usage != res.Usage {
		t.Errorf("repeat = %+v, want the recorded %+v", again, res)
	}
	if n := e.scripted.calls.Load(); n != 1 {
		t.Errorf("model calls after the repeat = %d, want 1", n)
	}
	if readFile(t, expPath) != original {
		t.Error("the repeated turn edited experiment.py again")
	}
	writeFile(t, expPath, strings.Replace(original, "WEIGHT_DECAY = 1.0", "WEIGHT_DECAY = 0.1", 1))

	// The conversation keeps the prompts without file dumps.
	var conv struct {
		Messages []llm.Message                         `json:"messages"`
		Turns    map[string]activities.CoderTurnResult `json:"turns"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "chats", "coder.json"))), &conv); err != nil {
		t.Fatalf("chats/coder.json: %v", err)
	}
	if len(conv.Messages) != 2 || conv.Messages[0].Role != "user" || conv.Messages[1].Role != "assistant" {
		t.Fatalf("conversation = %+v", conv.Messages)
	}
	if strings.Contains(conv.Messages[0].Content, "Current files:") || strings.Contains(conv.Messages[0].Content, "import torch") {
		t.Error("the stored prompt still carries the file dump")
	}
	var key string
	for k := range conv.Turns {
		if strings.HasPrefix(k, "implement-1@") {
			key = k
		}
	}
	if key == "" {
		t.Fatalf("turn implement-1 not recorded under its workflow run: %v", conv.Turns)
	}

	// The same turn in another run of the workflow (after starter resume)
	// is asked afresh; in the same run it is found.
	calls := e.scripted.calls.Load()
	mustExecute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, activities.CoderTurnInput{Paper: ref, Conversation: activities.ConvCoder, TurnID: "implement-1", Kind: activities.KindImplement, Run: 1, MaxRuns: 5})
	if e.scripted.calls.Load() != calls {
		t.Error("a repeated turn in the same run called the model again")
	}
	raw := readFile(t, filepath.Join(dir, "chats", "coder.json"))
	writeFile(t, filepath.Join(dir, "chats", "coder.json"), strings.ReplaceAll(raw, key, "implement-1@an-earlier-run"))
	writeFile(t, expPath, original)
	mustExecute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, activities.CoderTurnInput{Paper: ref, Conversation: activities.ConvCoder, TurnID: "implement-1", Kind: activities.KindImplement, Run: 1, MaxRuns: 5})
	if e.scripted.calls.Load() == calls {
		t.Error("the turn of an earlier run was reused after a resume")
	}
	writeFile(t, filepath.Join(dir, "chats", "coder.json"), raw)
	writeFile(t, expPath, strings.Replace(original, "WEIGHT_DECAY = 1.0", "WEIGHT_DECAY = 0.1", 1))

	// Run 1 succeeded: notes for run 1, then run 2's value.
	writeRun(t, dir, 1, 0.95)
	next := mustExecute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, activities.CoderTurnInput{Paper: ref, Conversation: activities.ConvCoder, TurnID: "next-1", Kind: activities.KindNext, Run: 1, MaxRuns: 5, AllowDone: true})
	if !next.Applied || next.Done {
		t.Fatalf("next-1 = %+v", next)
	}
	if !strings.Contains(readFile(t, expPath), "\nWEIGHT_DECAY = 1.0\n") {
		t.Error("run 2 did not set WEIGHT_DECAY = 1.0")
	}
	notes := readFile(t, filepath.Join(dir, "notes.txt"))
	if !strings.Contains(notes, "## Run 1: WEIGHT_DECAY = 0.1") || !strings.HasPrefix(notes, "# Title: ") {
		t.Errorf("notes.txt after run 1:\n%s", notes)
	}

	// Run 2 was the last planned value: notes and ALL_COMPLETED.
	writeRun(t, dir, 2, 0.97)
	last := mustExecute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, activities.CoderTurnInput{Paper: ref, Conversation: activities.ConvCoder, TurnID: "next-2", Kind: activities.KindNext, Run: 2, MaxRuns: 5, AllowDone: true})
	if !last.Done || !last.Applied {
		t.Errorf("next-2 = %+v, want Done", last)
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "notes.txt")), "## Run 2: WEIGHT_DECAY = 1.0") {
		t.Error("notes for run 2 missing")
	}
}

func TestCoderTurnMissingBaseline(t *testing.T) {
	e := newEnv(t)
	ref, dir := grokkingPaper(t, e, "nobase", llm.ScriptedModel)
	// The template ships a baseline; a workspace can still lack one.
	if err := os.RemoveAll(filepath.Join(dir, "run_0")); err != nil {
		t.Fatal(err)
	}
	_, err := execute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, activities.CoderTurnInput{Paper: ref, Conversation: activities.ConvCoder, TurnID: "t", Kind: activities.KindImplement, Run: 1, MaxRuns: 5})
	wantFinal(t, err, activities.ErrTypeMissingInput)
	_, err = execute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, activities.CoderTurnInput{Paper: ref, Conversation: activities.ConvCoder, TurnID: "u", Kind: "dance"})
	wantFinal(t, err, activities.ErrTypeBadInput)
	if n := e.scripted.calls.Load(); n != 0 {
		t.Errorf("model called %d times for turns that cannot start", n)
	}
}

const badSearchReply = "THOUGHT: change it.\n\nexperiment.py\n```python\n<<<<<<< SEARCH\nTHIS_LINE_DOES_NOT_EXIST = 42\n=======\nTHIS_LINE_DOES_NOT_EXIST = 43\n>>>>>>> REPLACE\n```\n"

func editReply(path, search, replace string) string {
	return "THOUGHT: edit.\n\n" + path + "\n```python\n<<<<<<< SEARCH\n" + search + "=======\n" + replace + ">>>>>>> REPLACE\n```\n"
}

func TestCoderTurnWithFakeModel(t *testing.T) {
	tests := []struct {
		name         string
		reply        string
		kind         string
		allowDone    bool
		wantApplied  bool
		wantDone     bool
		wantNoChange bool
		wantCalls    int
		wantFeedback string
		notCreated   []string // paths relative to the workspace that must not exist
	}{
		{
			name: "search does not match", reply: badSearchReply, kind: activities.KindEditFailed,
			wantCalls: activities.MaxEditReflections + 1, wantFeedback: "1 of 1 edit blocks failed",
		},
		{
			name: "ALL_COMPLETED too early", reply: "THOUGHT: nothing to do.\nALL_COMPLETED\n", kind: activities.KindEditFailed,
			wantCalls: activities.MaxEditReflections + 1, wantFeedback: "ALL_COMPLETED before any successful run",
		},
		{
			name: "ALL_COMPLETED allowed", reply: "THOUGHT: nothing to do.\n**ALL_COMPLETED**\n", kind: activities.KindNext, allowDone: true,
			wantApplied: true, wantDone: true, wantCalls: 1,
		},
		{
			name: "ALL_COMPLETED inside a sentence, with a full stop", reply: "THOUGHT: All runs are done, ALL_COMPLETED.\n", kind: activities.KindNext, allowDone: true,
			wantApplied: true, wantDone: true, wantCalls: 1,
		},
		{
			name: "ALL_COMPLETED ignored while plotting", reply: "ALL_COMPLETED\n", kind: activities.KindPlot, allowDone: true,
			wantCalls: activities.MaxEditReflections + 1, wantFeedback: "no SEARCH/REPLACE blocks",
		},
		{
			name: "no blocks", reply: "THOUGHT: I would rather not.", kind: activities.KindEditFailed,
			wantCalls: activities.MaxEditReflections + 1, wantFeedback: "no SEARCH/REPLACE blocks",
		},
		{
			name: "malformed block", reply: "experiment.py\n```python\n<<<<<<< SEARCH\nWEIGHT_DECAY = 1.0\n```\n", kind: activities.KindEditFailed,
			wantCalls: activities.MaxEditReflections + 1, wantFeedback: "",
		},
		{
			name: "edit outside the workspace", reply: editReply("../../etc/x", "", "pwned\n"), kind: activities.KindEditFailed,
			wantCalls: activities.MaxEditReflections + 1, wantFeedback: "failed", notCreated: []string{"../../etc/x"},
		},
		{
			name: "edit of a file not allowed", reply: editReply("run.sh", "", "rm -rf /\n"), kind: activities.KindEditFailed,
			wantCalls: activities.MaxEditReflections + 1, wantFeedback: "failed", notCreated: []string{"run.sh"},
		},
		{
			name: "latex file not editable by the coder", reply: editReply("latex/template.tex", "", "% x\n"), kind: activities.KindEditFailed,
			wantCalls: activities.MaxEditReflections + 1, wantFeedback: "failed",
		},
		{
			name: "experiment.py not editable in a LaTeX fix", reply: editReply("experiment.py", "WEIGHT_DECAY = 1.0\n", "WEIGHT_DECAY = 9\n"), kind: activities.KindLatexFix,
			wantCalls: activities.MaxEditReflections + 1, wantFeedback: "failed",
		},
		{
			name: "LaTeX fix with NO CHANGES", reply: "THOUGHT: cannot fix.\nNO CHANGES", kind: activities.KindLatexFix,
			wantNoChange: true, wantCalls: 1,
		},
		{
			name: "notes append", reply: editReply("notes.txt", "", "\n## More notes\n"), kind: activities.KindNotes,
			wantApplied: true, wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := constant(t, tt.reply)
			e := newEnv(t, withFake(f))
			ref, dir := grokkingPaper(t, e, "fake", fakeModelName)
			writeRun(t, dir, 0, 0.9)
			writeRun(t, dir, 1, 0.9)
			before := map[string]string{}
			for _, p := range []string{"experiment.py", "plot.py", "notes.txt", "latex/template.tex"} {
				before[p] = readFile(t, filepath.Join(dir, p))
			}
			res := mustExecute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, activities.CoderTurnInput{
				Paper: ref, Conversation: activities.ConvCoder, TurnID: "t1", Kind: tt.kind, Run: 1, Attempt: 1, MaxAttempts: 4, MaxRuns: 5, AllowDone: tt.allowDone, Reason: "test",
			})
			if res.Applied != tt.wantApplied || res.Done != tt.wantDone || res.NoChanges != tt.wantNoChange {
				t.Errorf("result = %+v, want Applied=%v Done=%v NoChanges=%v", res, tt.wantApplied, tt.wantDone, tt.wantNoChange)
			}
			if f.calls() != tt.wantCalls || res.Usage.Calls != tt.wantCalls {
				t.Errorf("model calls = %d (usage %d), want %d", f.calls(), res.Usage.Calls, tt.wantCalls)
			}
			if tt.name == "search does not match" && (res.BlocksFailed != 1 || res.BlocksApplied != 0) {
				t.Errorf("blocks applied %d, failed %d; want 0 and 1", res.BlocksApplied, res.BlocksFailed)
			}
			if !tt.wantApplied && !tt.wantNoChange && res.Feedback == "" {
				t.Error("a turn that applied nothing has no Feedback")
			}
			if !strings.Contains(res.Feedback, tt.wantFeedback) {
				t.Errorf("Feedback = %q, want it to contain %q", res.Feedback, tt.wantFeedback)
			}
			if !tt.wantApplied {
				for p, content := range before {
					if readFile(t, filepath.Join(dir, p)) != content {
						t.Errorf("%s changed although nothing was applied", p)
					}
				}
			}
			for _, p := range tt.notCreated {
				if exists(filepath.Join(dir, p)) {
					t.Errorf("%s was created", p)
				}
			}
			if tt.wantApplied && tt.kind == activities.KindNotes && !strings.HasSuffix(readFile(t, filepath.Join(dir, "notes.txt")), "## More notes\n") {
				t.Error("notes.txt was not appended to")
			}
			// Every request carries the file dump on its newest message only.
			for i := 0; i < f.calls(); i++ {
				req := f.request(i)
				if req.Messages[0].Role != "system" {
					t.Fatalf("request %d starts with %q, want the system prompt", i, req.Messages[0].Role)
				}
				for j, m := range req.Messages[1:] {
					newest := j == len(req.Messages)-2
					has := strings.Contains(m.Content, "Current files:\n") || strings.Contains(m.Content, "Current file:\n")
					if has != newest {
						t.Errorf("request %d message %d (%s): file dump present=%v, want %v", i, j+1, m.Role, has, newest)
					}
				}
			}
			// Reflections continue the conversation: each request extends the last.
			if f.calls() > 1 {
				r0, r1 := f.request(0), f.request(1)
				if len(r1.Messages) != len(r0.Messages)+2 || r1.Messages[2].Role != "assistant" || r1.Messages[2].Content != tt.reply {
					t.Errorf("second request does not continue the first: %d then %d messages", len(r0.Messages), len(r1.Messages))
				}
			}
		})
	}
}

// The reflection message for a failed SEARCH shows the model the failure.
func TestCoderTurnReflectionFeedback(t *testing.T) {
	f := newFakeModel(t, func(n int, _ openai.ChatCompletionRequest) fakeReply {
		if n == 1 {
			return fakeReply{Content: badSearchReply}
		}
		return fakeReply{Content: editReply("experiment.py", "WEIGHT_DECAY = 1.0\n", "WEIGHT_DECAY = 0.25\n")}
	})
	e := newEnv(t, withFake(f))
	ref, dir := grokkingPaper(t, e, "reflect", fakeModelName)
	res := mustExecute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, activities.CoderTurnInput{Paper: ref, Conversation: activities.ConvCoder, TurnID: "t", Kind: activities.KindEditFailed, Run: 1, Reason: "x"})
	if !res.Applied || res.Feedback != "" || f.calls() != 2 {
		t.Fatalf("result = %+v after %d calls, want applied on the second", res, f.calls())
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "experiment.py")), "\nWEIGHT_DECAY = 0.25\n") {
		t.Error("the corrected edit was not applied")
	}
	msgs := f.request(1).Messages
	fb := msgs[len(msgs)-1].Content
	if !strings.Contains(fb, "could not be applied") || !strings.Contains(fb, "block 1 does not match any lines in experiment.py") {
		t.Errorf("reflection message does not describe the failed block:\n%s", fb)
	}
}

// Edited Python that does not compile goes back to the model in the same
// turn; a turn that never compiles is not applied, so it is never run.
func TestCoderTurnSyntaxCheck(t *testing.T) {
	needPython(t)
	broken := editReply("experiment.py", "WEIGHT_DECAY = 1.0\n", "WEIGHT_DECAY = (0.5\n")
	fixed := editReply("experiment.py", "WEIGHT_DECAY = (0.5\n", "WEIGHT_DECAY = 0.7\n")
	tests := []struct {
		name        string
		replies     []string
		wantApplied bool
		wantCalls   int
	}{
		{"fixed on reflection", []string{broken, fixed}, true, 2},
		{"never compiles", []string{broken}, false, activities.MaxEditReflections + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeModel(t, func(n int, _ openai.ChatCompletionRequest) fakeReply {
				if n > len(tt.replies) { // an edit that leaves the file as broken as it is
					return fakeReply{Content: editReply("experiment.py", "", fmt.Sprintf("# try %d\n", n))}
				}
				return fakeReply{Content: tt.replies[n-1]}
			})
			e := newEnv(t, withFake(f))
			ref, dir := grokkingPaper(t, e, "syntax", fakeModelName)
			writeRun(t, dir, 0, 0.9)
			res := mustExecute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, activities.CoderTurnInput{
				Paper: ref, Conversation: activities.ConvCoder, TurnID: "t1", Kind: activities.KindImplement, Run: 1, Attempt: 1, MaxAttempts: 4, MaxRuns: 5,
			})
			if res.Applied != tt.wantApplied || f.calls() != tt.wantCalls {
				t.Fatalf("applied %v after %d calls (feedback %q), want %v after %d", res.Applied, f.calls(), res.Feedback, tt.wantApplied, tt.wantCalls)
			}
			second := f.request(1).Messages
			if msg := second[len(second)-1].Content; !strings.Contains(msg, "experiment.py does not compile") || !strings.Contains(msg, "Error") {
				t.Errorf("the reflection does not show the compiler's complaint: %.300s", msg)
			}
			if !tt.wantApplied && !strings.Contains(res.Feedback, "does not compile") {
				t.Errorf("Feedback = %q", res.Feedback)
			}
			if res.BlocksApplied != f.calls() || res.BlocksFailed != 0 {
				t.Errorf("blocks applied %d, failed %d; want %d and 0 (every reply's block applied)", res.BlocksApplied, res.BlocksFailed, f.calls())
			}
			if tt.wantApplied && !strings.Contains(readFile(t, filepath.Join(dir, "experiment.py")), "WEIGHT_DECAY = 0.7\n") {
				t.Error("the fix is not in experiment.py")
			}
			if exists(filepath.Join(dir, "__pycache__")) {
				t.Error("the syntax check left __pycache__ in the workspace")
			}
		})
	}
}

// TestCoderTurnLongConversation: a conversation far longer than the
// model's window still gets a reply: the provider's context-overflow
// error leads to a trimmed retry (the task, the latest turns and the
// current files), not a failed paper.
func TestCoderTurnLongConversation(t *testing.T) {
	const window = 12000 // tokens the fake model takes, at 3 characters a token
	edit := "THOUGHT: Lower the weight decay.\n\nexperiment.py\n```python\n<<<<<<< SEARCH\nWEIGHT_DECAY = 1.0\n=======\nWEIGHT_DECAY = 0.1\n>>>>>>> REPLACE\n```\n"
	var sizes []int
	f := newFakeModel(t, func(_ int, req openai.ChatCompletionRequest) fakeReply {
		n := 0
		for _, m := range req.Messages {
			n += len(m.Content)
		}
		sizes = append(sizes, n)
		if n > 3*window {
			return fakeReply{Status: http.StatusBadRequest, Message: fmt.Sprintf("This model's maximum context length is %d tokens. However, your messages resulted in %d tokens. (context_length_exceeded)", window, n/3)}
		}
		return fakeReply{Content: edit}
	})
	e := newEnv(t, withFake(f))
	ref, dir := grokkingPaper(t, e, "long", fakeModelName)
	writeRun(t, dir, 0, 0.91)
	// 40 earlier turns of 2,000 characters each: about 27k tokens.
	type msg struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	var history []msg
	for i := 0; i < 20; i++ {
		history = append(history, msg{"user", fmt.Sprintf("turn %d: %s", i, strings.Repeat("u", 2000))}, msg{"assistant", fmt.Sprintf("reply %d: %s", i, strings.Repeat("a", 2000))})
	}
	b, _ := json.Marshal(map[string]any{"messages": history, "turns": map[string]any{}})
	writeFile(t, filepath.Join(dir, "chats", "coder.json"), string(b))

	in := activities.CoderTurnInput{Paper: ref, Conversation: activities.ConvCoder, TurnID: "run1-attempt1-implement", Kind: activities.KindImplement, Run: 1, MaxRuns: 5}
	res := mustExecute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, in)
	if !res.Applied {
		t.Fatalf("turn = %+v, want the edit applied", res)
	}
	if len(sizes) < 2 || sizes[0] <= 3*window || sizes[len(sizes)-1] > 3*window {
		t.Errorf("request sizes %v: want a first one too long, then a trimmed one that fits", sizes)
	}
	last := f.request(f.calls() - 1)
	if !strings.Contains(last.Messages[len(last.Messages)-1].Content, "Current files") && !strings.Contains(last.Messages[len(last.Messages)-1].Content, "Current file") {
		t.Error("the trimmed request lost the current files")
	}
	var conv struct {
		Messages []msg `json:"messages"`
	}
	_ = json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "chats", "coder.json"))), &conv)
	if len(conv.Messages) != 42 {
		t.Errorf("the stored conversation has %d messages, want all 40 earlier ones kept and the new exchange", len(conv.Messages))
	}
}
