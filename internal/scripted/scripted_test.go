package scripted_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/aiscientist/aiscientist/internal/editblock"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/scripted"
)

// The prompts below imitate the shape of the activities' prompts: a "## ..."
// header on the first line, then the facts the scripted model reads.

func ideaGenPrompt(proposed ...string) string {
	var b strings.Builder
	b.WriteString("## Idea generation\nStudy grokking.\n\n<experiment.py>\nLEARNING_RATE = 1e-3\nWEIGHT_DECAY = 0.5\nTRAIN_FRACTION = 0.5\n</experiment.py>\n\nIdeas already proposed (do not repeat them):\n")
	for _, p := range proposed {
		b.WriteString("- " + p + ": Some title\n")
	}
	if len(proposed) == 0 {
		b.WriteString("(none yet)\n")
	}
	b.WriteString("\nRespond in exactly this format:\nTHOUGHT:\n...\nNEW IDEA JSON:\n```json\n{\"Name\": \"...\", \"Title\": \"...\"}\n```\nThis is reflection round 1 of 3.")
	return b.String()
}

const reflectPrompt = "## Idea reflection\nThis is reflection round 2 of 3.\nIf there is nothing to improve, repeat the previous JSON exactly and write \"I am done\"."

const sweepIdea = "Sweep the constant WEIGHT_DECAY in experiment.py over the values 0.1, 0.3 (one run per value) and compare validation accuracy."

const experimentPy = "import torch\n\nLEARNING_RATE = 1e-3\nWEIGHT_DECAY = 0.5\nBETA1 = 0.9\n\n\ndef main():\n    print(WEIGHT_DECAY)\n"

const plotPy = "import matplotlib\n\n# Run folder -> legend label.\nlabels = {\n    \"run_0\": \"Baseline\",\n}\n\n\ndef main():\n    pass\n"

// filesDump renders files the way the coder turn attaches them.
func filesDump(files ...string) string {
	var b strings.Builder
	b.WriteString("\n\nCurrent files:\n")
	for i := 0; i+1 < len(files); i += 2 {
		fence := "```"
		for strings.Contains(files[i+1], fence) {
			fence += "`"
		}
		b.WriteString(files[i] + "\n" + fence + "python\n" + strings.TrimRight(files[i+1], "\n") + "\n" + fence + "\n\n")
	}
	return b.String()
}

func implementPrompt(files string) string {
	return "## Implement run 1\nYour goal is to implement the following idea: Weight decay.\nThe proposed experiment is as follows: " + sweepIdea +
		"\n\nYou have up to 5 runs to complete the experiments.\nBaseline results:\nx_plus_y: final_val_acc=1\n" + files
}

func runCompletedPrompt(run int, files string) string {
	return "## Run " + strconv.Itoa(run) + " completed\nRun " + strconv.Itoa(run) + " completed. Here are the results:\nx_plus_y: final_val_acc=0.97\n\nCompare them with the baseline and decide whether to change your plan.\n" + files
}

func parseIdea(t *testing.T, reply string) paper.Idea {
	t.Helper()
	js, err := llm.ExtractJSONAfter(reply, "NEW IDEA JSON:")
	if err != nil {
		t.Fatalf("no idea JSON in reply:\n%s", reply)
	}
	idea, err := paper.ParseIdea(js)
	if err != nil {
		t.Fatalf("idea JSON does not validate: %v\n%s", err, js)
	}
	return idea
}

func TestReplyIdeaGeneration(t *testing.T) {
	tests := []struct {
		name     string
		proposed []string
		want     string
	}{
		{"nothing proposed", nil, "weight_decay_grokking"},
		{"seed ideas only", []string{"batch_size_grokking", "init_scale_grokking"}, "weight_decay_grokking"},
		{"first used", []string{"batch_size_grokking", "weight_decay_grokking"}, "learning_rate_grokking"},
		{"first two used", []string{"weight_decay_grokking", "learning_rate_grokking"}, "train_fraction_grokking"},
		{"only second used", []string{"learning_rate_grokking"}, "weight_decay_grokking"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := scripted.Reply([]string{ideaGenPrompt(tt.proposed...)})
			idea := parseIdea(t, reply)
			if idea.Name != tt.want {
				t.Errorf("Name = %q, want %q", idea.Name, tt.want)
			}
			if strings.Contains(reply, "I am done") {
				t.Error("the first round must not say it is done")
			}
			if !strings.Contains(idea.Experiment, scripted.Disclaimer) {
				t.Error("the idea's Experiment lacks the disclaimer")
			}
			if !strings.Contains(idea.Experiment, "Sweep the constant ") {
				t.Error("the idea's Experiment does not describe a sweep")
			}
		})
	}
}

func TestReplyIdeaReflectionIsDone(t *testing.T) {
	reply := scripted.Reply([]string{ideaGenPrompt(), reflectPrompt})
	if !strings.Contains(reply, "I am done") {
		t.Errorf("reflection reply does not say \"I am done\":\n%s", reply)
	}
	if idea := parseIdea(t, reply); idea.Name != "weight_decay_grokking" {
		t.Errorf("reflection changed the idea to %q", idea.Name)
	}
}

// The reflection round should repeat the idea the first round proposed. The
// handler only passes user messages to Reply, so the assistant's JSON (which
// ideaReply(all, true) looks for) is never visible and the reflection always
// falls back to the first idea. See the report: scripted.go ideaReply.
func TestReplyIdeaReflectionKeepsProposedIdea(t *testing.T) {
	first := ideaGenPrompt("weight_decay_grokking")
	proposed := parseIdea(t, scripted.Reply([]string{first})).Name
	again := parseIdea(t, scripted.Reply([]string{first, reflectPrompt})).Name
	if again != proposed {
		t.Errorf("reflection replied %q, want the proposed %q", again, proposed)
	}
}

func TestReplyCoderSteps(t *testing.T) {
	files := filesDump("experiment.py", experimentPy, "plot.py", plotPy, "notes.txt", "# Title: x\n")
	backtickFiles := filesDump("experiment.py", experimentPy+"# ```not a fence```\n", "plot.py", plotPy)
	first := implementPrompt(files)
	type block struct{ path, search, replace string }
	tests := []struct {
		name         string
		msgs         []string
		wantBlocks   []block
		wantContains []string
		wantAbsent   []string
	}{
		{
			name:       "implement run 1",
			msgs:       []string{first},
			wantBlocks: []block{{"experiment.py", "WEIGHT_DECAY = 0.5\n", "WEIGHT_DECAY = 0.1\n"}},
			wantAbsent: []string{"ALL_COMPLETED"},
		},
		{
			name:       "implement run 1 with a longer fence",
			msgs:       []string{implementPrompt(backtickFiles)},
			wantBlocks: []block{{"experiment.py", "WEIGHT_DECAY = 0.5\n", "WEIGHT_DECAY = 0.1\n"}},
		},
		{
			name: "run 1 completed: notes then run 2",
			msgs: []string{first, runCompletedPrompt(1, filesDump("experiment.py", strings.Replace(experimentPy, "0.5", "0.1", 1)))},
			wantBlocks: []block{
				{"notes.txt", "", ""}, // replace checked below via wantContains
				{"experiment.py", "WEIGHT_DECAY = 0.1\n", "WEIGHT_DECAY = 0.3\n"},
			},
			wantContains: []string{"## Run 1: WEIGHT_DECAY = 0.1", "final_val_acc=0.97"},
			wantAbsent:   []string{"ALL_COMPLETED"},
		},
		{
			name:         "run completed beyond the planned values",
			msgs:         []string{first, runCompletedPrompt(2, filesDump("experiment.py", strings.Replace(experimentPy, "0.5", "0.3", 1)))},
			wantBlocks:   []block{{"notes.txt", "", ""}},
			wantContains: []string{"\nALL_COMPLETED\n", "## Run 2: WEIGHT_DECAY = 0.3"},
		},
		{
			name:       "edit failed: retry the run named",
			msgs:       []string{first, "## Edit failed\nYour edits for run 2 were not applied, so nothing was run: x\n" + filesDump("experiment.py", experimentPy)},
			wantBlocks: []block{{"experiment.py", "WEIGHT_DECAY = 0.5\n", "WEIGHT_DECAY = 0.3\n"}},
		},
		{
			name:         "constant missing from experiment.py",
			msgs:         []string{implementPrompt(filesDump("experiment.py", "import torch\nLR = 1\n"))},
			wantContains: []string{"no line setting WEIGHT_DECAY"},
		},
		{
			name:         "idea is not a scripted sweep",
			msgs:         []string{"## Implement run 1\nThe proposed experiment is as follows: do something clever." + files},
			wantContains: []string{"only runs one-constant sweeps"},
		},
		{
			name:       "plotting labels every completed run",
			msgs:       []string{first, "## Plotting\nFill in the labels dictionary. Completed runs: run_0, run_1, run_2.\nWe will run plot.py." + filesDump("plot.py", plotPy)},
			wantBlocks: []block{{"plot.py", "    \"run_0\": \"Baseline\",\n", "    \"run_0\": \"Baseline\",\n    \"run_1\": \"WEIGHT_DECAY = 0.1\",\n    \"run_2\": \"WEIGHT_DECAY = 0.3\",\n"}},
		},
		{
			name:         "notes on figures",
			msgs:         []string{first, "## Notes on figures\nThe plots are done. These figures now exist in the paper folder: val_acc_x_plus_y.png, train_loss_x_plus_y.png.\nAppend to notes.txt." + files},
			wantBlocks:   []block{{"notes.txt", "", ""}},
			wantContains: []string{"- val_acc_x_plus_y.png: val acc x plus y", "- train_loss_x_plus_y.png:", scripted.Disclaimer},
		},
		{
			name:         "latex problems",
			msgs:         []string{"## LaTeX problems\nThe paper has these problems:\n- line 3 bad"},
			wantContains: []string{"NO CHANGES"},
		},
		{
			name:         "run failed",
			msgs:         []string{first, "## Run 1 failed\nRun 1 failed (attempt 1 of 4).\n```\nTraceback\n```\n" + files},
			wantContains: []string{"cannot debug"},
			wantAbsent:   []string{"ALL_COMPLETED", "SEARCH"},
		},
		{
			name:         "plot failed",
			msgs:         []string{"## Plot failed\nPlotting failed." + files},
			wantContains: []string{"cannot debug"},
		},
		{
			name:         "reflection without header",
			msgs:         []string{first, "1 of your 1 SEARCH/REPLACE block could not be applied."},
			wantContains: []string{"no answer for this message"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := scripted.Reply(tt.msgs)
			blocks, err := editblock.Parse(reply)
			if err != nil {
				t.Fatalf("editblock.Parse: %v\nreply:\n%s", err, reply)
			}
			if len(blocks) != len(tt.wantBlocks) {
				t.Fatalf("%d blocks, want %d; reply:\n%s", len(blocks), len(tt.wantBlocks), reply)
			}
			for i, want := range tt.wantBlocks {
				got := blocks[i]
				if got.Path != want.path {
					t.Errorf("block %d path = %q, want %q", i+1, got.Path, want.path)
				}
				if strings.TrimSpace(got.Search) != strings.TrimSpace(want.search) {
					t.Errorf("block %d SEARCH = %q, want %q", i+1, got.Search, want.search)
				}
				if want.replace != "" && got.Replace != want.replace {
					t.Errorf("block %d REPLACE = %q, want %q", i+1, got.Replace, want.replace)
				}
			}
			for _, s := range tt.wantContains {
				if !strings.Contains(reply, s) {
					t.Errorf("reply lacks %q:\n%s", s, reply)
				}
			}
			for _, s := range tt.wantAbsent {
				if strings.Contains(reply, s) {
					t.Errorf("reply contains %q:\n%s", s, reply)
				}
			}
		})
	}
}

func TestReplyReview(t *testing.T) {
	tests := []struct {
		name, paper string
	}{
		{"normal paper", "How Weight Decay Shifts Grokking\n\nAbstract. We study things.\nMore words here."},
		{"empty paper", ""},
		{"paper with quotes", "A \"quoted\" title\\ with backslash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := scripted.Reply([]string{"## Review\nReview the paper below.\n<paper>\n" + tt.paper + "\n</paper>"})
			js, err := llm.ExtractJSONAfter(reply, "REVIEW JSON:")
			if err != nil {
				t.Fatalf("no JSON in review reply:\n%s", reply)
			}
			r, err := paper.ParseReview(js)
			if err != nil {
				t.Fatalf("ParseReview: %v\n%s", err, js)
			}
			if r.Decision != "Reject" || r.Overall < 1 || r.Overall > 10 {
				t.Errorf("review = %+v", r)
			}
			if !strings.Contains(r.Summary, "test double") {
				t.Errorf("Summary does not say it is scripted: %q", r.Summary)
			}
			if first := strings.SplitN(strings.TrimSpace(tt.paper), "\n", 2)[0]; first != "" && !strings.Contains(r.Summary, strings.Fields(first)[0]) {
				t.Errorf("Summary does not quote the paper's first line %q: %q", first, r.Summary)
			}
		})
	}
	// The correction prompt after a bad reply has the same header.
	reply := scripted.Reply([]string{"## Review\n<paper>\nT\n</paper>", "## Review\nYour review could not be used: x."})
	if _, err := llm.ExtractJSONAfter(reply, "REVIEW JSON:"); err != nil {
		t.Errorf("correction reply has no JSON:\n%s", reply)
	}
}

var sections = []string{"Title and Abstract", "Introduction", "Background", "Method", "Experimental Setup", "Results", "Conclusion", "Related Work"}

func sectionPrompt(name, keys, figures string) string {
	return "## Write section: " + name + "\nPaper title: How Weight Decay Shifts Grokking\nIdea: " + sweepIdea +
		"\n\nTips for this part: x\n\nNotes from the experiments (notes.txt):\n<notes>\nn\n</notes>\n\n" +
		"Results of every run (means over seeds, from run_i/final_info.json):\n```json\n" +
		`{"run_0": {"x_plus_y": {"means": {"final_val_acc": 0.91}}}, "run_1": {"x_plus_y": {"means": {"final_val_acc": 0.42}}, "x_div_y": {"means": {"final_val_acc": 0.5}}}}` +
		"\n```\n\nFigures available: " + figures + "\nCitation keys available: " + keys + "\n\nReply with THOUGHT: and the LaTeX in a single fenced block:\n```latex\n...\n```\n"
}

var citeRe = regexp.MustCompile(`\\cite[pt]?\*?(?:\[[^\]]*\])*\{([^}]*)\}`)
var fenceRe = regexp.MustCompile("(?s)```latex\n(.*?)\n```")

func TestReplyWriteSection(t *testing.T) {
	keySets := []struct {
		name string
		keys []string
	}{
		{"many keys", []string{"power2022grokking", "nanda2023progress", "liu2022towards", "vaswani2017attention"}},
		{"one key", []string{"onlykey2020"}},
		{"no keys", nil},
	}
	for _, ks := range keySets {
		for _, sec := range sections {
			for _, header := range []string{"## Write section: ", "## Refine section: "} {
				t.Run(ks.name+"/"+header[3:9]+"/"+sec, func(t *testing.T) {
					msgs := []string{sectionPrompt(sec, strings.Join(ks.keys, ", "), "val_acc_x_plus_y.png")}
					if header == "## Refine section: " {
						msgs = append(msgs, "## Refine section: "+sec+"\nCriticise the "+sec+" you just wrote.")
					}
					reply := scripted.Reply(msgs)
					m := fenceRe.FindStringSubmatch(reply)
					if m == nil {
						t.Fatalf("no ```latex block in reply:\n%s", reply)
					}
					body := m[1]
					if !strings.Contains(body, scripted.Disclaimer) {
						t.Error("section body lacks the disclaimer")
					}
					if strings.Contains(body, `\section`) {
						t.Error("section body contains a \\section command")
					}
					allowed := map[string]bool{}
					for _, k := range ks.keys {
						allowed[k] = true
					}
					for _, c := range citeRe.FindAllStringSubmatch(body, -1) {
						for _, k := range strings.Split(c[1], ",") {
							if k = strings.TrimSpace(k); !allowed[k] {
								t.Errorf("cites %q, not among the available keys %v", k, ks.keys)
							}
						}
					}
					if strings.Contains(body, `\cite`) && len(ks.keys) == 0 {
						t.Error("cites although no key is available")
					}
					switch sec {
					case "Title and Abstract":
						if !strings.Contains(reply, "TITLE: How Weight Decay Shifts Grokking") {
							t.Errorf("no TITLE: line:\n%s", reply)
						}
					case "Introduction":
						if len(ks.keys) > 0 && !strings.Contains(body, `\citep{`) {
							t.Error("the introduction cites nothing although keys are available")
						}
					case "Results":
						for _, want := range []string{"0.910", "0.420", "0.500", `\includegraphics[width=0.8\linewidth]{val_acc_x_plus_y.png}`, `\label{tab:results}`} {
							if !strings.Contains(body, want) {
								t.Errorf("results lack %q:\n%s", want, body)
							}
						}
						if strings.Count(body, `\includegraphics`) != 1 {
							t.Errorf("results include %d figures, want the 1 available", strings.Count(body, `\includegraphics`))
						}
					}
				})
			}
		}
	}
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(scripted.Handler())
	defer srv.Close()
	tests := []struct {
		name        string
		body        string
		wantStatus  int
		wantContent string // substring of choices[0].message.content
	}{
		{name: "bad JSON", body: `{"model": "scripted", "messages": [`, wantStatus: http.StatusBadRequest},
		{name: "not an object", body: `"hello"`, wantStatus: http.StatusBadRequest},
		{name: "no messages", body: `{"model": "scripted", "messages": []}`, wantStatus: http.StatusBadRequest},
		{
			name:        "review",
			body:        `{"model": "scripted", "messages": [{"role": "system", "content": "## Idea generation"}, {"role": "user", "content": "## Review\n<paper>\nTitle\n</paper>"}]}`,
			wantStatus:  http.StatusOK,
			wantContent: "REVIEW JSON:",
		},
		{
			name:        "assistant messages are not steps",
			body:        `{"model": "scripted", "messages": [{"role": "user", "content": "## LaTeX problems\nx"}, {"role": "assistant", "content": "## Review\n"}]}`,
			wantStatus:  http.StatusOK,
			wantContent: "NO CHANGES",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusOK {
				var e struct {
					Error struct{ Message, Type string } `json:"error"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error.Message == "" {
					t.Errorf("error body not in OpenAI shape: %+v, %v", e, err)
				}
				return
			}
			var out openai.ChatCompletionResponse
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			if len(out.Choices) != 1 || out.Choices[0].Message.Role != "assistant" {
				t.Fatalf("choices = %+v", out.Choices)
			}
			content := out.Choices[0].Message.Content
			if content == "" || !strings.Contains(content, tt.wantContent) {
				t.Errorf("content %q lacks %q", content, tt.wantContent)
			}
			if out.Model != "scripted" {
				t.Errorf("model = %q", out.Model)
			}
			u := out.Usage
			if u.PromptTokens <= 0 || u.CompletionTokens <= 0 || u.TotalTokens < u.PromptTokens+u.CompletionTokens-1 {
				t.Errorf("usage not counted: %+v", u)
			}
			if u.CompletionTokens != len(content)/4 {
				t.Errorf("completion tokens = %d, want len(content)/4 = %d", u.CompletionTokens, len(content)/4)
			}
		})
	}

	t.Run("models", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/v1/models")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Data []struct{ ID string } `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Data) != 1 || out.Data[0].ID != "scripted" {
			t.Errorf("models = %+v, %v", out, err)
		}
	})
	t.Run("wrong method", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/v1/chat/completions")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET chat/completions = %d, want 405", resp.StatusCode)
		}
	})
}

// TestInProcessThroughClient drives the double through the real client code,
// as the worker does for the model name "scripted".
func TestInProcessThroughClient(t *testing.T) {
	c, err := (&llm.Registry{Scripted: scripted.NewInProcess(), Getenv: func(string) string { return "" }}).Client(llm.ScriptedModel)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Chat(context.Background(), llm.Request{Model: llm.ScriptedModel, System: "sys", Messages: []llm.Message{{Role: "user", Content: ideaGenPrompt()}}})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if idea := parseIdea(t, resp.Content); idea.Name != "weight_decay_grokking" {
		t.Errorf("idea = %q", idea.Name)
	}
	if resp.Usage.Calls != 1 || resp.Usage.PromptTokens == 0 || resp.Usage.CompletionTokens == 0 {
		t.Errorf("usage = %+v", resp.Usage)
	}

	// A malformed body is answered with 400, which the client reports as a
	// permanent error.
	r := httptest.NewRequest(http.MethodPost, "http://scripted.local/v1/chat/completions", bytes.NewReader([]byte("{")))
	res, err := scripted.NewInProcess().Do(r)
	if err != nil || res.StatusCode != http.StatusBadRequest {
		t.Errorf("Do(malformed) = %v, %v", res, err)
	}
}

func TestRefuseEnv(t *testing.T) {
	srv := httptest.NewServer(scripted.Handler())
	defer srv.Close()
	ask := func(prompt string) int {
		body := `{"model":"scripted","messages":[{"role":"user","content":` + strconv.Quote(prompt) + `}]}`
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	t.Setenv(scripted.RefuseEnv, "## Review")
	if got := ask("## Review\nplease"); got != http.StatusUnauthorized {
		t.Errorf("refused prompt: status %d, want 401", got)
	}
	if got := ask("## Plotting\nplease"); got != http.StatusOK {
		t.Errorf("other prompt: status %d, want 200", got)
	}
	t.Setenv(scripted.RefuseEnv, "")
	if got := ask("## Review\nplease"); got != http.StatusOK {
		t.Errorf("after unsetting: status %d, want 200", got)
	}
}

// TestReplyStoredVaryIdea: a stored idea worded "Vary CONSTANT over a, b
// and c" (the grokking seed on the batch size) is carried out too.
func TestReplyStoredVaryIdea(t *testing.T) {
	files := filesDump("experiment.py", experimentPy, "plot.py", plotPy)
	prompt := "## Implement run 1\nThe proposed experiment is as follows: Vary BETA1 over 0.8, 0.95 and 0.99 (baseline 0.9) with all other settings fixed.\n" + files
	reply := scripted.Reply([]string{prompt})
	if !strings.Contains(reply, "<<<<<<< SEARCH\nBETA1 = 0.9\n=======\nBETA1 = 0.8\n>>>>>>> REPLACE") {
		t.Fatalf("run 1 reply does not set BETA1 = 0.8:\n%s", reply)
	}
	third := scripted.Reply([]string{prompt, runCompletedPrompt(2, filesDump("experiment.py", strings.Replace(experimentPy, "BETA1 = 0.9", "BETA1 = 0.95", 1)))})
	if !strings.Contains(third, "BETA1 = 0.99") {
		t.Errorf("run 3 reply does not set BETA1 = 0.99:\n%s", third)
	}
	unknown := scripted.Reply([]string{"## Implement run 1\nThe proposed experiment is as follows: multiply every weight by alpha.\n" + files})
	if !strings.Contains(unknown, "only runs one-constant sweeps") {
		t.Errorf("an idea it cannot carry out: %s", unknown)
	}
}

// TestReplyAnyTemplate: on a template without the double's own constants
// it sweeps the first numeric setting the code has, an assignment or an
// argparse default, and edits exactly that line.
func TestReplyAnyTemplate(t *testing.T) {
	code := "import argparse\n\ndef main():\n    p = argparse.ArgumentParser()\n    p.add_argument(\"--out_dir\", type=str, default=\"run_0\")\n" +
		"    p.add_argument(\"--learning_rate\", type=float, default=3e-4)\n    p.add_argument('--num_layers', type=int, default=4)\n"
	gen := "## Idea generation\nStudy diffusion.\n\n<experiment.py>\n" + code + "</experiment.py>\n\nIdeas already proposed (do not repeat them):\n(none yet)\n"
	idea := parseIdea(t, scripted.Reply([]string{gen}))
	if idea.Name != "learning_rate_sweep" || !strings.Contains(idea.Experiment, "Sweep the constant learning_rate in experiment.py over the values 0.00015, 0.0006 (") {
		t.Fatalf("idea = %+v", idea)
	}
	again := parseIdea(t, scripted.Reply([]string{strings.Replace(gen, "(none yet)", "- learning_rate_sweep: How ...", 1)}))
	if again.Name != "num_layers_sweep" || !strings.Contains(again.Experiment, "over the values 2, 8 (") {
		t.Fatalf("second idea = %+v", again)
	}
	impl := "## Implement run 1\nThe proposed experiment is as follows: " + idea.Experiment + "\n" + filesDump("experiment.py", code, "plot.py", plotPy)
	reply := scripted.Reply([]string{impl})
	want := "<<<<<<< SEARCH\n    p.add_argument(\"--learning_rate\", type=float, default=3e-4)\n=======\n    p.add_argument(\"--learning_rate\", type=float, default=0.00015)\n>>>>>>> REPLACE"
	if !strings.Contains(reply, want) {
		t.Errorf("run 1 reply:\n%s\nwant %s", reply, want)
	}
	// A constant written with an inline comment is found too.
	if !strings.Contains(scripted.Reply([]string{"## Implement run 1\nThe proposed experiment is as follows: Vary NUM_STEPS over 100, 200 and 300.\n" +
		filesDump("experiment.py", "NUM_STEPS = 5000  # steps\n", "plot.py", plotPy)}), "<<<<<<< SEARCH\nNUM_STEPS = 5000  # steps\n=======\nNUM_STEPS = 100\n") {
		t.Error("a commented assignment is not swept")
	}
}
