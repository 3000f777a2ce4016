package activities_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
)

func TestPreparePaper(t *testing.T) {
	e := newEnv(t)
	ref, dir := grokkingPaper(t, e, "prep", llm.ScriptedModel)

	if want := filepath.Join(e.root, "papers", "grokking", "prep"); dir != want {
		t.Errorf("workspace = %q, want %q", dir, want)
	}
	tpl := filepath.Join(e.acts.Templates, "grokking")
	for _, f := range []string{"experiment.py", "plot.py", "prompt.json", "seed_ideas.json", "latex/template.tex"} {
		if got, want := readFile(t, filepath.Join(dir, f)), readFile(t, filepath.Join(tpl, f)); got != want {
			t.Errorf("%s differs from the template's copy", f)
		}
	}
	if got, want := readFile(t, filepath.Join(dir, "latex", "skeleton.tex")), readFile(t, filepath.Join(tpl, "latex", "template.tex")); got != want {
		t.Error("latex/skeleton.tex is not the template's template.tex")
	}
	var idea paper.Idea
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "idea.json"))), &idea); err != nil {
		t.Fatalf("idea.json: %v", err)
	}
	if idea.Name != testIdea.Name || idea.Title != testIdea.Title || idea.Experiment != testIdea.Experiment || idea.Novelty != testIdea.Novelty {
		t.Errorf("idea.json = %+v, want %+v", idea, testIdea)
	}
	notes := readFile(t, filepath.Join(dir, "notes.txt"))
	for _, want := range []string{"# Title: " + testIdea.Title, "# Experiment description: " + testIdea.Experiment} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes.txt lacks %q:\n%s", want, notes)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "logs")); err != nil || !st.IsDir() {
		t.Errorf("logs/ missing: %v", err)
	}

	// A second call leaves the work done since alone.
	writeFile(t, filepath.Join(dir, "notes.txt"), "my own notes\n")
	writeFile(t, filepath.Join(dir, "experiment.py"), "edited\n")
	other := testIdea
	other.Title = "Another Title"
	dir2 := mustExecute[string](t, e, e.acts.PreparePaper, activities.PaperSetup{Paper: ref, Idea: other})
	if dir2 != dir {
		t.Errorf("second call returned %q, want %q", dir2, dir)
	}
	if got := readFile(t, filepath.Join(dir, "notes.txt")); got != "my own notes\n" {
		t.Errorf("notes.txt overwritten: %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "experiment.py")); got != "edited\n" {
		t.Errorf("experiment.py overwritten: %q", got)
	}
	if strings.Contains(readFile(t, filepath.Join(dir, "idea.json")), "Another Title") {
		t.Error("idea.json overwritten by the second call")
	}
}

func TestPreparePaperBadInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		ref  activities.PaperRef
		want string
	}{
		{"unknown template", activities.PaperRef{Key: "nope/p", Name: "p", Template: "no_such_template"}, "no_such_template"},
		{"template name climbing out", activities.PaperRef{Key: "x/p", Name: "p", Template: "../templates"}, "unknown template"},
		{"key climbing out", activities.PaperRef{Key: "../../etc", Name: "p", Template: "grokking"}, "invalid key"},
		{"empty key", activities.PaperRef{Key: "", Name: "p", Template: "grokking"}, "invalid key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := execute[string](t, e, e.acts.PreparePaper, activities.PaperSetup{Paper: tt.ref, Idea: testIdea})
			ae := wantFinal(t, err, activities.ErrTypeBadInput)
			if !strings.Contains(ae.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", ae.Error(), tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(filepath.Join(e.root, "papers")); len(entries) != 0 {
		t.Errorf("failed preparations left workspaces behind: %v", entries)
	}
}

// ideaReply is a well-formed reply of the idea step.
func ideaReply(name, extra string) string {
	return "THOUGHT:\nA fine idea." + extra + "\n\nNEW IDEA JSON:\n```json\n" +
		`{"Name": "` + name + `", "Title": "Title of ` + name + `", "Experiment": "Change a constant.", "Interestingness": 6, "Feasibility": 8, "Novelty": 5}` +
		"\n```\n"
}

func TestGenerateIdeaScripted(t *testing.T) {
	e := newEnv(t)
	in := activities.IdeaInput{CampaignKey: "grokking/c1", Template: "grokking", Model: llm.ScriptedModel, Index: 0, Reflections: 3}
	res := mustExecute[activities.IdeaResult](t, e, e.acts.GenerateIdea, in)
	if res.Idea.Name != "weight_decay_grokking" || res.Duplicate || res.Exhausted {
		t.Fatalf("idea 0 = %+v", res)
	}
	if err := res.Idea.Validate(); err != nil {
		t.Errorf("idea does not validate: %v", err)
	}
	// Round 1 proposes, round 2 says "I am done": two calls, not three.
	if got := e.scripted.calls.Load(); got != 2 {
		t.Errorf("model calls = %d, want 2 (the reflection said it was done)", got)
	}
	if res.Usage.Calls != 2 || res.Usage.PromptTokens == 0 || res.Usage.CompletionTokens == 0 {
		t.Errorf("usage = %+v", res.Usage)
	}
	camp := filepath.Join(e.root, "campaigns", "grokking", "c1")
	var stored activities.IdeaResult
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(camp, "ideas", "000.json"))), &stored); err != nil {
		t.Fatalf("ideas/000.json: %v", err)
	}
	if stored.Idea.Name != res.Idea.Name || stored.Idea.Title != res.Idea.Title {
		t.Errorf("ideas/000.json = %+v", stored.Idea)
	}
	var all []paper.Idea
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(camp, "ideas.json"))), &all); err != nil {
		t.Fatalf("ideas.json: %v", err)
	}
	if len(all) != 1 || all[0].Name != res.Idea.Name {
		t.Errorf("ideas.json = %+v", all)
	}

	// The same index again: the stored idea, without a model call.
	again := mustExecute[activities.IdeaResult](t, e, e.acts.GenerateIdea, in)
	if again.Idea.Name != res.Idea.Name || again.Usage != res.Usage {
		t.Errorf("repeat = %+v, want the stored %+v", again, res)
	}
	if got := e.scripted.calls.Load(); got != 2 {
		t.Errorf("model calls after the repeat = %d, want still 2", got)
	}

	// The next index proposes a different idea, kept through reflection.
	in.Index = 1
	next := mustExecute[activities.IdeaResult](t, e, e.acts.GenerateIdea, in)
	if next.Idea.Name != "learning_rate_grokking" || next.Duplicate {
		t.Errorf("idea 1 = %+v, want learning_rate_grokking, not a duplicate", next)
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(camp, "ideas.json"))), &all); err != nil || len(all) != 2 {
		t.Errorf("ideas.json after idea 1 = %+v, %v", all, err)
	}
}

func TestGenerateIdeaStoredIdeaSkipsModel(t *testing.T) {
	f := constant(t, ideaReply("cached_idea", " I am done"))
	e := newEnv(t, withFake(f))
	in := activities.IdeaInput{CampaignKey: "grokking/c", Template: "grokking", Model: fakeModelName, Index: 4, Reflections: 3}
	first := mustExecute[activities.IdeaResult](t, e, e.acts.GenerateIdea, in)
	if first.Idea.Name != "cached_idea" || f.calls() != 1 {
		t.Fatalf("first = %+v after %d calls; want cached_idea after 1 call", first, f.calls())
	}
	second := mustExecute[activities.IdeaResult](t, e, e.acts.GenerateIdea, in)
	if second.Idea.Name != "cached_idea" {
		t.Errorf("second = %+v", second)
	}
	if f.calls() != 1 {
		t.Errorf("model calls = %d after the repeat, want 1", f.calls())
	}
	if !exists(filepath.Join(e.root, "campaigns", "grokking", "c", "ideas", "004.json")) {
		t.Error("ideas/004.json missing")
	}
	// The request carried the system prompt and the idea step's header.
	req := f.request(0)
	if len(req.Messages) != 2 || req.Messages[0].Role != "system" || !strings.HasPrefix(req.Messages[1].Content, "## Idea generation") {
		t.Errorf("request messages = %+v", req.Messages)
	}
	if !strings.Contains(req.Messages[1].Content, "- batch_size_grokking:") {
		t.Error("the prompt does not list the template's seed ideas as already proposed")
	}
}

func TestGenerateIdeaReflectionRounds(t *testing.T) {
	tests := []struct {
		name        string
		reflections int
		replies     []string
		wantCalls   int
		wantName    string
	}{
		{"one round", 1, []string{ideaReply("a_idea", "")}, 1, "a_idea"},
		{"zero means one", 0, []string{ideaReply("a_idea", "")}, 1, "a_idea"},
		{"done early", 3, []string{ideaReply("a_idea", ""), ideaReply("b_idea", " I am done")}, 2, "b_idea"},
		{"all rounds", 3, []string{ideaReply("a_idea", ""), ideaReply("b_idea", ""), ideaReply("c_idea", "")}, 3, "c_idea"},
		{"bad reply gets a retry", 2, []string{"no json here", ideaReply("a_idea", ""), ideaReply("b_idea", "")}, 3, "b_idea"},
		{"last valid idea survives bad reflections", 2, []string{ideaReply("a_idea", ""), "junk", "more junk", "junk", "junk"}, 4, "a_idea"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeModel(t, func(n int, _ openai.ChatCompletionRequest) fakeReply {
				return fakeReply{Content: tt.replies[min(n, len(tt.replies))-1]}
			})
			e := newEnv(t, withFake(f))
			res := mustExecute[activities.IdeaResult](t, e, e.acts.GenerateIdea, activities.IdeaInput{CampaignKey: "grokking/r", Template: "grokking", Model: fakeModelName, Reflections: tt.reflections})
			if res.Idea.Name != tt.wantName {
				t.Errorf("idea = %q, want %q", res.Idea.Name, tt.wantName)
			}
			if f.calls() != tt.wantCalls || res.Usage.Calls != tt.wantCalls {
				t.Errorf("calls = %d (usage %d), want %d", f.calls(), res.Usage.Calls, tt.wantCalls)
			}
			// The conversation is kept, every reply (good or not) included.
			chat := readFile(t, filepath.Join(e.root, "campaigns", "grokking", "r", "ideas", "000_chat.md"))
			for _, r := range tt.replies[:tt.wantCalls] {
				if !strings.Contains(chat, r) {
					t.Errorf("ideas/000_chat.md lacks the reply %q", firstLine(r))
				}
			}
			if tt.wantCalls > 1 {
				last := f.request(f.calls() - 1)
				if msg := last.Messages[len(last.Messages)-1].Content; !strings.HasPrefix(msg, "## Idea reflection") {
					t.Errorf("follow-up prompt starts %q, want the reflection header", firstLine(msg))
				}
			}
		})
	}
}

func TestGenerateIdeaUnparsable(t *testing.T) {
	f := constant(t, "THOUGHT: I refuse to write JSON today.")
	e := newEnv(t, withFake(f))
	_, err := execute[activities.IdeaResult](t, e, e.acts.GenerateIdea, activities.IdeaInput{CampaignKey: "grokking/u", Template: "grokking", Model: fakeModelName, Reflections: 2})
	wantFinal(t, err, activities.ErrTypeUnparsable)
	// Round 1 never parses: its reply and MaxReasks re-asks, then the idea is dropped.
	if want := 1 + activities.MaxReasks; f.calls() != want {
		t.Errorf("model calls = %d, want %d", f.calls(), want)
	}
	if exists(filepath.Join(e.root, "campaigns", "grokking", "u", "ideas", "000.json")) {
		t.Error("an unparsable idea was stored")
	}
}

func TestGenerateIdeaFromSeeds(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		index         int
		wantName      string
		wantExhausted bool
	}{
		{0, "batch_size_grokking", false},
		{1, "init_scale_grokking", false},
		{2, "", true},
		{7, "", true},
	}
	for _, tt := range tests {
		res := mustExecute[activities.IdeaResult](t, e, e.acts.GenerateIdea, activities.IdeaInput{CampaignKey: "grokking/seeds", Template: "grokking", Model: llm.ScriptedModel, Index: tt.index, FromSeeds: true})
		if res.Idea.Name != tt.wantName || res.Exhausted != tt.wantExhausted || res.Duplicate {
			t.Errorf("seed %d = %+v, want name %q exhausted %v", tt.index, res, tt.wantName, tt.wantExhausted)
		}
		if res.Usage.Calls != 0 {
			t.Errorf("seed %d cost %d model calls", tt.index, res.Usage.Calls)
		}
	}
	if n := e.scripted.calls.Load(); n != 0 {
		t.Errorf("seeds called the model %d times", n)
	}
	var all []paper.Idea
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(e.root, "campaigns", "grokking", "seeds", "ideas.json"))), &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "batch_size_grokking" || all[1].Name != "init_scale_grokking" {
		t.Errorf("ideas.json = %+v", all)
	}
}

func TestGenerateIdeaDuplicate(t *testing.T) {
	f := newFakeModel(t, func(n int, _ openai.ChatCompletionRequest) fakeReply {
		return fakeReply{Content: ideaReply([]string{"same_idea", "other_idea", "same_idea"}[n-1], "")}
	})
	e := newEnv(t, withFake(f))
	want := []bool{false, false, true}
	for i, dup := range want {
		res := mustExecute[activities.IdeaResult](t, e, e.acts.GenerateIdea, activities.IdeaInput{CampaignKey: "grokking/d", Template: "grokking", Model: fakeModelName, Index: i, Reflections: 1})
		if res.Duplicate != dup {
			t.Errorf("idea %d (%s): Duplicate = %v, want %v", i, res.Idea.Name, res.Duplicate, dup)
		}
	}
	// The second prompt lists the first idea as already proposed.
	if !strings.Contains(f.request(1).Messages[1].Content, "- same_idea: Title of same_idea") {
		t.Error("the earlier idea is not listed in the next prompt")
	}
}

func TestGenerateIdeaBadInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		in   activities.IdeaInput
	}{
		{"unknown template", activities.IdeaInput{CampaignKey: "x/c", Template: "missing", Model: llm.ScriptedModel}},
		{"bad campaign key", activities.IdeaInput{CampaignKey: "../c", Template: "grokking", Model: llm.ScriptedModel}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := execute[activities.IdeaResult](t, e, e.acts.GenerateIdea, tt.in)
			wantFinal(t, err, activities.ErrTypeBadInput)
		})
	}
}

// TestChatErrorMapping checks how model failures reach Temporal's retry
// rules, through a real activity and the real OpenAI client.
func TestChatErrorMapping(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		header       http.Header
		nonRetryable bool
		typ          string
		delay        time.Duration
	}{
		{name: "401 bad key", status: 401, nonRetryable: true, typ: activities.ErrTypeModel},
		{name: "403 forbidden", status: 403, nonRetryable: true, typ: activities.ErrTypeModel},
		{name: "404 unknown model", status: 404, nonRetryable: true, typ: activities.ErrTypeModel},
		{name: "429 with Retry-After", status: 429, header: http.Header{"Retry-After": {"7"}}, typ: activities.ErrTypeRateLimited, delay: 7 * time.Second},
		{name: "429 without Retry-After", status: 429},
		{name: "500", status: 500},
		{name: "502", status: 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeModel(t, func(int, openai.ChatCompletionRequest) fakeReply {
				return fakeReply{Status: tt.status, Header: tt.header}
			})
			e := newEnv(t, withFake(f))
			_, err := execute[activities.IdeaResult](t, e, e.acts.GenerateIdea, activities.IdeaInput{CampaignKey: "grokking/e", Template: "grokking", Model: fakeModelName, Reflections: 1})
			ae := appError(t, err)
			if ae.NonRetryable() != tt.nonRetryable {
				t.Errorf("NonRetryable = %v, want %v (%v)", ae.NonRetryable(), tt.nonRetryable, err)
			}
			if tt.typ != "" && ae.Type() != tt.typ {
				t.Errorf("Type = %q, want %q", ae.Type(), tt.typ)
			}
			if ae.NextRetryDelay() != tt.delay {
				t.Errorf("NextRetryDelay = %v, want %v", ae.NextRetryDelay(), tt.delay)
			}
			if f.calls() != 1 {
				t.Errorf("model calls = %d, want 1 (retries are Temporal's job)", f.calls())
			}
		})
	}

	t.Run("no key configured", func(t *testing.T) {
		e := newEnv(t)
		_, err := execute[activities.IdeaResult](t, e, e.acts.GenerateIdea, activities.IdeaInput{CampaignKey: "grokking/k", Template: "grokking", Model: "gpt-4o", Reflections: 1})
		ae := wantFinal(t, err, activities.ErrTypeModel)
		if !strings.Contains(ae.Error(), "OPENAI_API_KEY") {
			t.Errorf("error %q does not name OPENAI_API_KEY", ae.Error())
		}
	})
	t.Run("scripted not available", func(t *testing.T) {
		e := newEnv(t)
		e.acts.LLM.Scripted = nil
		_, err := execute[activities.IdeaResult](t, e, e.acts.GenerateIdea, activities.IdeaInput{CampaignKey: "grokking/s", Template: "grokking", Model: llm.ScriptedModel, Reflections: 1})
		wantFinal(t, err, activities.ErrTypeModel)
	})
}

func firstLine(s string) string { return strings.SplitN(s, "\n", 2)[0] }

// TestTruncatedReplyGetsMoreRoom: a reply cut off at the output cap (a
// reasoning model that spent it thinking answers empty) is asked again
// with twice the room, then once more for a concise reply, before the
// call fails; every reply is paid for.
func TestTruncatedReplyGetsMoreRoom(t *testing.T) {
	cut := fakeReply{Content: "", Finish: openai.FinishReasonLength}
	for _, tt := range []struct {
		name      string
		replies   []fakeReply
		wantCalls int
		wantMax   []int
		wantErr   string
	}{
		{name: "more room is enough", replies: []fakeReply{cut, {Content: ideaReply("roomy", " I am done")}},
			wantCalls: 2, wantMax: []int{llm.DefaultOutputCap, 2 * llm.DefaultOutputCap}},
		{name: "then a concise reply", replies: []fakeReply{cut, cut, {Content: ideaReply("concise", " I am done")}},
			wantCalls: 3, wantMax: []int{llm.DefaultOutputCap, 2 * llm.DefaultOutputCap, 2 * llm.DefaultOutputCap}},
		{name: "cut off every time", replies: []fakeReply{cut, cut, cut, cut, cut, cut, cut, cut, cut},
			wantErr: "cut off at its output limit twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeModel(t, func(n int, _ openai.ChatCompletionRequest) fakeReply {
				if n <= len(tt.replies) { // n counts from 1
					return tt.replies[n-1]
				}
				return cut
			})
			e := newEnv(t, withFake(f))
			res, err := execute[activities.IdeaResult](t, e, e.acts.GenerateIdea, activities.IdeaInput{
				CampaignKey: "grokking/cut", Template: "grokking", Model: fakeModelName, Reflections: 1})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Usage.Calls != tt.wantCalls || f.calls() != tt.wantCalls {
				t.Errorf("calls = %d (usage %d), want %d", f.calls(), res.Usage.Calls, tt.wantCalls)
			}
			for i, want := range tt.wantMax {
				if got := f.request(i).MaxTokens; got != want {
					t.Errorf("request %d max_tokens = %d, want %d", i, got, want)
				}
			}
		})
	}
}
