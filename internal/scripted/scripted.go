// Package scripted is a deterministic test double that speaks the OpenAI
// chat-completions protocol and plays a researcher well enough to carry a
// paper through every stage without an API key. It is for tests and the
// offline demo only, and says so in everything it writes into a paper.
package scripted

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// RefuseEnv makes the double answer 401 (a permanent error) to every prompt
// starting with its value, e.g. "## Review": how tests make a paper fail in
// one stage, and then resume it once the variable is unset.
const RefuseEnv = "AISCI_SCRIPTED_REFUSE"

// Disclaimer is added to every text the double writes into a paper.
const Disclaimer = "[Written by the scripted test model, not a language model.]"

// Handler serves POST /v1/chat/completions and GET /v1/models.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		var req openai.ChatCompletionRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
			return
		}
		if len(req.Messages) == 0 {
			writeError(w, http.StatusBadRequest, "messages must not be empty")
			return
		}
		var msgs []string
		var system strings.Builder
		prompt := 0
		for _, m := range req.Messages {
			prompt += len(m.Content)
			switch m.Role {
			case openai.ChatMessageRoleUser:
				msgs = append(msgs, m.Content)
			case openai.ChatMessageRoleSystem:
				system.WriteString(m.Content + "\n")
			}
		}
		if len(msgs) == 0 {
			writeError(w, http.StatusBadRequest, "no user message")
			return
		}
		if refuse := os.Getenv(RefuseEnv); refuse != "" && strings.HasPrefix(strings.TrimSpace(msgs[len(msgs)-1]), refuse) {
			writeError(w, http.StatusUnauthorized, "the scripted test model refuses prompts starting with "+strconv.Quote(refuse)+" ("+RefuseEnv+" is set)")
			return
		}
		reply := replyTo(system.String(), msgs)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(openai.ChatCompletionResponse{
			ID: "scripted", Object: "chat.completion", Model: req.Model,
			Choices: []openai.ChatCompletionChoice{{Index: 0, FinishReason: openai.FinishReasonStop,
				Message: openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: reply}}},
			// Rough token counts (4 characters a token) so accounting paths run.
			Usage: openai.Usage{PromptTokens: prompt / 4, CompletionTokens: len(reply) / 4, TotalTokens: (prompt + len(reply)) / 4},
		})
	})
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"scripted","object":"model","owned_by":"aiscientist-test-double"}]}`))
	})
	return mux
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": msg, "type": "invalid_request_error"}})
}

// InProcess is an HTTP doer that calls the handler directly, so the model
// name "scripted" needs no listening socket but still goes through the
// real client and protocol code.
type InProcess struct{ h http.Handler }

// NewInProcess returns a doer backed by Handler().
func NewInProcess() *InProcess { return &InProcess{h: Handler()} }

// Do serves the request in-process.
func (p *InProcess) Do(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// Reply answers the conversation whose user messages are msgs (oldest
// first). The step is read from the "## ..." header of the last message.
func Reply(msgs []string) string { return replyTo("", msgs) }

// replyTo is Reply with the system prompt, whose facts (the write-up's
// paper context) count like the messages'.
func replyTo(system string, msgs []string) string {
	last := msgs[len(msgs)-1]
	all := system + strings.Join(msgs, "\n")
	header := strings.TrimSpace(strings.SplitN(strings.TrimSpace(last), "\n", 2)[0])
	switch {
	case strings.HasPrefix(header, "## Idea generation"):
		return ideaReply(last, false)
	case strings.HasPrefix(header, "## Idea reflection"):
		// Only user messages arrive here, so the idea is recomputed from the
		// generation prompt exactly as it was first chosen.
		return ideaReply(msgs[0], true)
	case strings.HasPrefix(header, "## Novelty check"):
		return novelty(all, last)
	case strings.HasPrefix(header, "## Citation selection"):
		js, _ := json.Marshal(map[string]any{"Selected": []int{0}, "Description": "in the Related Work, on why generalisation is delayed"})
		return "THOUGHT: The first result is the paper asked for.\n\nRESPONSE:\n```json\n" + string(js) + "\n```\n"
	case strings.HasPrefix(header, "## Citations"), strings.HasPrefix(header, "## Citation round"):
		if runOf(last, `## Citation round (\d+)`) > 1 {
			return "THOUGHT: The paper cites what it builds on.\n\nRESPONSE: {\"Done\": true}\n"
		}
		return "THOUGHT: The Related Work should discuss why grokking happens.\n\nRESPONSE:\n```json\n" +
			`{"Description": "the explanation of grokking by circuit efficiency, for the Related Work", "Query": "explaining grokking through circuit efficiency"}` + "\n```\n"
	case strings.HasPrefix(header, "## Add citations"):
		return cite(last)
	case strings.HasPrefix(header, "## Implement run"):
		return implement(all, last, 1, "")
	case strings.HasPrefix(header, "## Run") && strings.Contains(header, "completed"):
		n := headerNumber(header)
		return implement(all, last, n+1, notesFor(all, last, n))
	case strings.HasPrefix(header, "## Edit failed"):
		return implement(all, last, runOf(last, `edits for run (\d+)`), "")
	case strings.HasPrefix(header, "## Plotting"):
		return plot(all, last)
	case strings.HasPrefix(header, "## Notes on figures"):
		return figureNotes(last)
	case strings.HasPrefix(header, "## LaTeX problems"):
		return fixOwn(last, FlawLatex, `\emph{`, "The undefined command is a typo in my draft; it should be \\emph.",
			"The scripted test model cannot repair LaTeX it did not expect.")
	case strings.HasPrefix(header, "## Numbers check"):
		return fixOwn(last, FlawNumber, "", "The headline number in my draft matches no run: the sentence goes.",
			"The remaining numbers are what the runs report.")
	case strings.HasPrefix(header, "## Write section:"), strings.HasPrefix(header, "## Refine section:"):
		return section(all, strings.TrimSpace(header[strings.Index(header, ":")+1:]))
	case strings.HasPrefix(header, "## Second refinement:"):
		return finalPass(all, last, strings.TrimSpace(header[strings.Index(header, ":")+1:]))
	case strings.HasPrefix(header, "## Improve the paper"):
		return improve(last)
	case strings.HasPrefix(header, "## Meta-review"):
		return review(all, "Meta-review by the scripted test model (no language model read these reviews).")
	case strings.HasPrefix(header, "## Review reflection"):
		return strings.Replace(review(all, ""), "it does not judge the paper.", "it does not judge the paper. I am done", 1)
	case strings.HasPrefix(header, "## Review"):
		return review(all, "")
	case strings.HasPrefix(header, "## Run") && strings.Contains(header, "failed"), strings.HasPrefix(header, "## Plot failed"):
		return "THOUGHT: The scripted test model cannot debug failing code; it only performs its planned edits."
	}
	// Reflection prompts inside a turn (edit feedback) carry no header.
	return "THOUGHT: The scripted test model has no answer for this message."
}

// Ideas the double proposes, each a sweep of one constant in experiment.py.
var ideas = []struct {
	Name, Title, Constant string
	Values                []string
}{
	{"weight_decay_grokking", "How Weight Decay Strength Shifts the Onset of Grokking", "WEIGHT_DECAY", []string{"0.1", "0.3"}},
	{"learning_rate_grokking", "Learning Rate and the Timing of Delayed Generalisation", "LEARNING_RATE", []string{"3e-4", "3e-3"}},
	{"train_fraction_grokking", "Less Data, Later Insight: Training Fraction and Grokking", "TRAIN_FRACTION", []string{"0.3", "0.7"}},
}

func ideaReply(prompt string, done bool) string {
	pick, ok := ideas[0], false
	code := between(prompt, "<experiment.py>\n", "\n</experiment.py>")
	// On grokking (its code has every constant the double's own ideas
	// sweep), propose the first of them not already proposed.
	own := true
	for _, i := range ideas {
		own = own && (code == "" || findConstant(code, i.Constant) != nil)
	}
	for _, i := range ideas {
		if own && !strings.Contains(prompt, "- "+i.Name+":") {
			pick, ok = i, true
			break
		}
	}
	if !ok && code != "" {
		// Another template: sweep the first numeric setting its code has.
		for _, c := range constants(code) {
			name := strings.ToLower(c.Name) + "_sweep"
			if strings.Contains(prompt, "- "+name+":") {
				continue
			}
			pick = struct {
				Name, Title, Constant string
				Values                []string
			}{name, "How the Setting " + strings.ReplaceAll(c.Name, "_", " ") + " Changes the Results", c.Name, c.sweepValues()}
			break
		}
	}
	js, _ := json.MarshalIndent(map[string]any{
		"Name":  pick.Name,
		"Title": pick.Title,
		"Experiment": fmt.Sprintf("Sweep the constant %s in experiment.py over the values %s (one run per value) and compare every metric the template reports with the baseline. %s",
			pick.Constant, strings.Join(pick.Values, ", "), Disclaimer),
		"Interestingness": 5, "Feasibility": 9, "Novelty": 3,
	}, "", "  ")
	thought := "THOUGHT:\nA one-constant sweep is cheap and shows how the training setup moves the results."
	if done {
		thought += " The idea is fine as it is. I am done"
	}
	return thought + "\n\nNEW IDEA JSON:\n```json\n" + string(js) + "\n```\n"
}

// constant is a numeric setting in experiment.py the double can change:
// an UPPERCASE assignment at column 0, or an argparse default.
type constant struct {
	Name, Value string
	Line        string // the whole line as it is in the file
	argparse    bool
}

var (
	assignRe   = regexp.MustCompile(`(?m)^([A-Z][A-Z0-9_]*)[ \t]*=[ \t]*(-?[0-9][0-9_.eE+-]*)[ \t]*(#.*)?$`)
	argparseRe = regexp.MustCompile(`(?m)^.*add_argument\(\s*["']--([A-Za-z][A-Za-z0-9_-]*)["'][^\n]*\bdefault\s*=\s*(-?[0-9][0-9_.eE+-]*)[^\n]*$`)
)

// constants lists the settings of code in order: assignments first.
func constants(code string) []constant {
	var out []constant
	for _, m := range assignRe.FindAllStringSubmatch(code, -1) {
		if _, err := strconv.ParseFloat(strings.ReplaceAll(m[2], "_", ""), 64); err == nil {
			out = append(out, constant{Name: m[1], Value: m[2], Line: m[0]})
		}
	}
	for _, m := range argparseRe.FindAllStringSubmatch(code, -1) {
		if m[1] == "out_dir" {
			continue
		}
		if _, err := strconv.ParseFloat(m[2], 64); err == nil {
			out = append(out, constant{Name: strings.ReplaceAll(m[1], "-", "_"), Value: m[2], Line: m[0], argparse: true})
		}
	}
	return out
}

func findConstant(code, name string) *constant {
	for _, c := range constants(code) {
		if c.Name == name {
			return &c
		}
	}
	return nil
}

// sweepValues are half and twice the setting (integers stay integers).
func (c constant) sweepValues() []string {
	v, _ := strconv.ParseFloat(strings.ReplaceAll(c.Value, "_", ""), 64)
	if !strings.ContainsAny(c.Value, ".eE") {
		n := int64(v)
		lo := n / 2
		if lo == n || lo == 0 {
			lo = n + 1
		}
		return []string{strconv.FormatInt(lo, 10), strconv.FormatInt(n*2+boolInt(n == 0), 10)}
	}
	return []string{strconv.FormatFloat(v/2, 'g', 4, 64), strconv.FormatFloat(v*2, 'g', 4, 64)}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// set returns the line with the setting's value replaced.
func (c constant) set(value string) string {
	if c.argparse {
		return regexp.MustCompile(`\bdefault\s*=\s*-?[0-9][0-9_.eE+-]*`).ReplaceAllString(c.Line, "default="+value)
	}
	return c.Name + " = " + value
}

// The sweeps the double can carry out: its own ideas' wording, and a
// stored idea's "Vary CONSTANT over 64, 128 and 256" (e.g. the grokking
// template's seed idea on the batch size).
var (
	sweepRe = regexp.MustCompile(`Sweep the constant (\w+) in experiment\.py over the values ([^(]+?) \(`)
	varyRe  = regexp.MustCompile(`Vary ([A-Z][A-Z0-9_]*) over ([-+0-9.eE]+(?:(?:, | and |, and )[-+0-9.eE]+)*)`)
)

var (
	ideaTitleRe  = regexp.MustCompile(`"Title":\s*"([^"]+)"`)
	firstFoundRe = regexp.MustCompile(`(?m)^0: ([^\n]+?)\. `)
)

// novelty searches once for the idea's title, then decides "novel",
// naming the closest paper the search found.
func novelty(all, last string) string {
	if !strings.Contains(last, " found:\n") && !strings.Contains(last, "found no papers") {
		title := "grokking"
		if m := ideaTitleRe.FindStringSubmatch(all); m != nil {
			title = m[1]
		}
		return fmt.Sprintf("THOUGHT: First I look for work on the same question. %s\n\nRESPONSE:\n```json\n{\"Query\": %q}\n```\n", Disclaimer, title)
	}
	closest := "none of the papers found"
	if m := firstFoundRe.FindStringSubmatch(last); m != nil {
		closest = m[1]
	}
	js, _ := json.Marshal(map[string]any{"Decision": "novel",
		"Reasoning": "The closest work found, " + closest + ", studies grokking but not this sweep. " + Disclaimer, "Closest": []string{closest}})
	return "THOUGHT: The search shows related work but not this experiment.\n\nRESPONSE:\n```json\n" + string(js) + "\n```\n"
}

var addedKeyRe = regexp.MustCompile(`(?m)^- ([A-Za-z0-9_:-]+): `)

// cite places the first added key after the Related Work heading.
func cite(last string) string {
	m := addedKeyRe.FindStringSubmatch(last)
	tex := fileIn(last, "latex/template.tex")
	heading := regexp.MustCompile(`(?m)^\\section\{Related Work\}.*$`).FindString(tex)
	if m == nil || heading == "" {
		return "THOUGHT: The scripted test model finds no Related Work heading to cite after."
	}
	return fmt.Sprintf("THOUGHT: Cite the analysis in the Related Work.\n\nlatex/template.tex\n```latex\n<<<<<<< SEARCH\n%s\n=======\n%s\nWhy generalisation comes late is analysed by~\\citet{%s}.\n>>>>>>> REPLACE\n```\n",
		heading, heading, m[1])
}

func sweep(all string) (string, []string) {
	m := sweepRe.FindStringSubmatch(all)
	if m == nil {
		m = varyRe.FindStringSubmatch(all)
	}
	if m == nil {
		return "", nil
	}
	var vals []string
	for _, v := range strings.Split(strings.ReplaceAll(m[2], " and ", ","), ",") {
		if v = strings.TrimSpace(v); v != "" {
			vals = append(vals, v)
		}
	}
	return m[1], vals
}

// fileIn returns the content of a file shown in a "Current files" dump.
func fileIn(msg, name string) string {
	re := regexp.MustCompile("(?s)(?:^|\n)" + regexp.QuoteMeta(name) + "\n(`{3,})[a-z]*\n(.*?)\n(`{3,})\n")
	m := re.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	return m[2]
}

func implement(all, last string, run int, notes string) string {
	constant, vals := sweep(all)
	if constant == "" {
		return "THOUGHT: The scripted test model only runs one-constant sweeps (its own ideas, or an idea worded 'Vary CONSTANT over a, b and c'); this idea is neither."
	}
	if run > len(vals) {
		return "THOUGHT: All planned runs are done.\n\n" + notes + "ALL_COMPLETED\n"
	}
	c := findConstant(fileIn(last, "experiment.py"), constant)
	if c == nil {
		return fmt.Sprintf("THOUGHT: experiment.py has no line setting %s (an assignment at column 0 or an argparse default), so the planned edit cannot be made.", constant)
	}
	return fmt.Sprintf("THOUGHT: Run %d sets %s = %s.\n\n%sexperiment.py\n```python\n<<<<<<< SEARCH\n%s\n=======\n%s\n>>>>>>> REPLACE\n```\n",
		run, constant, vals[run-1], notes, c.Line, c.set(vals[run-1]))
}

func notesFor(all, last string, run int) string {
	constant, vals := sweep(all)
	results := between(last, "Here are the results:\n", "\nCompare")
	setting := "the baseline setting"
	if constant != "" && run >= 1 && run <= len(vals) {
		setting = constant + " = " + vals[run-1]
	}
	return fmt.Sprintf("notes.txt\n```text\n<<<<<<< SEARCH\n=======\n\n## Run %d: %s\n%s\nResults (means over seeds):\n%s\n>>>>>>> REPLACE\n```\n\n",
		run, setting, Disclaimer, strings.TrimSpace(results))
}

func plot(all, last string) string {
	src := fileIn(last, "plot.py")
	constant, vals := sweep(all)
	runs := strings.Split(between(last, "Completed runs: ", ".\n"), ", ")
	var entries []string
	for _, r := range runs {
		n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(r), "run_"))
		if err != nil || n == 0 || n > len(vals) {
			continue
		}
		entries = append(entries, fmt.Sprintf("%q: %q,", "run_"+strconv.Itoa(n), constant+" = "+vals[n-1]))
	}
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "labels = {") {
			continue
		}
		if strings.HasSuffix(strings.TrimSpace(l), "}") { // one-line dict
			inner := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(l), "labels = {"), "}")
			repl := "labels = {\n    " + strings.TrimSuffix(strings.TrimSpace(inner), ",") + ",\n    " + strings.Join(entries, "\n    ") + "\n}"
			return "THOUGHT: Label every completed run.\n\nplot.py\n```python\n<<<<<<< SEARCH\n" + l + "\n=======\n" + repl + "\n>>>>>>> REPLACE\n```\n"
		}
		for j := i + 1; j < len(lines); j++ {
			if strings.Contains(lines[j], `"run_0"`) {
				indent := lines[j][:len(lines[j])-len(strings.TrimLeft(lines[j], " \t"))]
				return "THOUGHT: Label every completed run.\n\nplot.py\n```python\n<<<<<<< SEARCH\n" + lines[j] + "\n=======\n" + lines[j] + "\n" + indent + strings.Join(entries, "\n"+indent) + "\n>>>>>>> REPLACE\n```\n"
			}
		}
	}
	return "THOUGHT: plot.py has no labels dictionary the scripted test model recognises."
}

func figureNotes(last string) string {
	figs := strings.Split(between(last, "exist in the paper folder: ", ".\n"), ", ")
	var b strings.Builder
	b.WriteString("THOUGHT: Describe each figure.\n\nnotes.txt\n```text\n<<<<<<< SEARCH\n=======\n\n## Figures\n" + Disclaimer + "\n")
	for _, f := range figs {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		what := strings.ReplaceAll(strings.TrimSuffix(f, ".png"), "_", " ")
		fmt.Fprintf(&b, "- %s: %s for every labelled run (mean over seeds, shaded standard error).\n", f, what)
	}
	b.WriteString(">>>>>>> REPLACE\n```\n")
	return b.String()
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		s = s[:j]
	}
	return s
}

func headerNumber(h string) int { return runOf(h, `(\d+)`) }

func runOf(s, pattern string) int {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return 1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func tex(s string) string {
	return strings.NewReplacer("_", `\_`, "%", `\%`, "&", `\&`, "#", `\#`).Replace(s)
}

// paperFacts reads what the write-up prompt offers: title, figures,
// citation keys and the runs' results.
type paperFacts struct {
	title   string
	figures []string
	keys    []string
	results map[string]map[string]struct {
		Means map[string]float64 `json:"means"`
	}
}

func facts(all string) paperFacts {
	var f paperFacts
	f.title = strings.TrimSpace(between(all, "Paper title: ", "\n"))
	for _, x := range strings.Split(between(all, "Figures available: ", "\n"), ", ") {
		if x = strings.TrimSpace(x); x != "" {
			f.figures = append(f.figures, x)
		}
	}
	for _, x := range strings.Split(between(all, "Citation keys available: ", "\n"), ", ") {
		if x = strings.TrimSpace(x); x != "" {
			f.keys = append(f.keys, x)
		}
	}
	_ = json.Unmarshal([]byte(between(all, "final_info.json):\n```json\n", "\n```")), &f.results)
	return f
}

func (f paperFacts) cite(n int) string {
	if len(f.keys) == 0 {
		return ""
	}
	return `~\citep{` + strings.Join(f.keys[:min(n, len(f.keys))], ",") + `}`
}

func (f paperFacts) runs() []string {
	var rs []string
	for r := range f.results {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return runNum(rs[i]) < runNum(rs[j]) })
	return rs
}

func runNum(r string) int { n, _ := strconv.Atoi(strings.TrimPrefix(r, "run_")); return n }

func (f paperFacts) datasets() []string {
	seen := map[string]bool{}
	var ds []string
	for _, r := range f.results {
		for d := range r {
			if !seen[d] {
				seen[d] = true
				ds = append(ds, d)
			}
		}
	}
	sort.Strings(ds)
	return ds
}

func section(all, name string) string {
	f := facts(all)
	constant, vals := sweep(all)
	body := Disclaimer + "\n\n"
	if !f.grokking() {
		if text, ok := genericSection(f, name, constant, vals); ok {
			return "THOUGHT: Fill the section from the facts given.\n\n```latex\n" + body + text + "\n```\n"
		}
	}
	switch name {
	case "Title and Abstract":
		if !f.grokking() {
			body += fmt.Sprintf("We study how the setting %s of the template's experiment changes the results it reports. "+
				"We run the experiment with %s set to %s and compare every reported metric against the baseline, over %d datasets. "+
				"All numbers in this paper come from the real experiment runs; the prose is a fixed template produced by a scripted test model.",
				tex(constant), tex(constant), strings.Join(vals, " and "), len(f.datasets()))
			return "THOUGHT: A compact abstract.\n\nTITLE: " + f.title + "\n\n```latex\n" + body + "\n```\n"
		}
		body += fmt.Sprintf("We study how the setting %s of a small transformer trained on algorithmic tasks changes when it generalises. "+
			"We train the template's model with %s set to %s and compare validation accuracy and the number of steps needed to reach 99\\%% validation accuracy against the baseline, over %d tasks. "+
			"All numbers in this paper come from the real experiment runs; the prose is a fixed template produced by a scripted test model.",
			tex(constant), tex(constant), strings.Join(vals, " and "), len(f.datasets()))
		return "THOUGHT: A compact abstract.\n\nTITLE: " + f.title + "\n\n```latex\n" + body + "\n```\n"
	case "Introduction":
		body += "Neural networks trained on small algorithmic datasets can fit their training data long before they generalise, a phenomenon known as grokking" + f.cite(1) + ". " +
			"Which training choices move the onset of generalisation is a practical question for anyone training models on limited data" + f.cite(3) + ".\n\n" +
			"Our contributions are:\n\\begin{itemize}\n" +
			fmt.Sprintf("\\item a controlled sweep of %s with %d settings besides the baseline;\n", tex(constant), len(vals)) +
			"\\item a comparison of final validation accuracy and time to generalisation on every task of the template.\n\\end{itemize}\n"
	case "Background":
		body += "Transformers" + f.cite(2) + " trained with adaptive optimisers can show delayed generalisation on modular arithmetic. " +
			"\\paragraph{Problem setting.} Each task maps a pair of operands $(x, y)$ to a result $z$; a fraction of all pairs is used for training and the rest for validation."
	case "Method":
		body += FlawLatex + "{Deliberate draft error.} "
		body += fmt.Sprintf("We keep the template's model and training loop unchanged and vary only the constant %s in \\texttt{experiment.py}, one run per value (%s). "+
			"Every run uses the same seeds as the baseline, so differences come from the changed setting alone.", tex(constant), strings.Join(vals, ", "))
	case "Experimental Setup":
		body += fmt.Sprintf("We evaluate on the tasks %s. For each task we report final training and validation loss and accuracy and the first evaluation step with at least 99\\%% validation accuracy, averaged over seeds.",
			tex(strings.Join(f.datasets(), ", ")))
	case "Results":
		body += resultsBody(f) + "\n" + FlawNumber + "\n"
	case "Conclusion":
		body += fmt.Sprintf("We varied %s and measured its effect on generalisation across %d tasks. Future work should test more values and more seeds before drawing firm conclusions.", tex(constant), len(f.datasets()))
	case "Related Work":
		body += "Grokking was first reported on small algorithmic datasets" + f.cite(1) + "; our study differs in that it isolates a single training setting and measures its effect on every task of a fixed benchmark.\n" +
			"% Plan: find work that explains why generalisation is delayed, and contrast its explanation with our single-setting sweep."
	default:
		body += "This part has no scripted text."
	}
	return "THOUGHT: Fill the section from the facts given.\n\n```latex\n" + body + "\n```\n"
}

// grokking: the runs report the grokking template's metrics, which the
// double's own prose is about; other templates get plainer text.
func (f paperFacts) grokking() bool {
	for _, r := range f.results {
		for _, d := range r {
			if _, ok := d.Means["step_val_acc_99"]; ok {
				return true
			}
		}
	}
	return len(f.results) == 0
}

// metric is what the results table shows: final validation accuracy for
// grokking, else the first metric the runs report.
func (f paperFacts) metric() string {
	var names []string
	for _, r := range f.results {
		for _, d := range r {
			for m := range d.Means {
				names = append(names, m)
			}
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if n == "final_val_acc" {
			return n
		}
	}
	if len(names) == 0 {
		return "final_val_acc"
	}
	return names[0]
}

// genericSection is the double's text for a template other than grokking.
func genericSection(f paperFacts, name, constant string, vals []string) (string, bool) {
	switch name {
	case "Introduction":
		return "How a single setting of an experiment changes its outcome is a basic question for anyone running it" + f.cite(1) + ".\n\n" +
			"Our contributions are:\n\\begin{itemize}\n" +
			fmt.Sprintf("\\item a controlled sweep of %s with %d settings besides the baseline;\n", tex(constant), len(vals)) +
			"\\item a comparison of every metric the template reports, on each of its datasets.\n\\end{itemize}\n", true
	case "Background":
		return "The experiment is the template's own" + f.cite(1) + "; we describe it only as far as the sweep needs.", true
	case "Experimental Setup":
		return fmt.Sprintf("We evaluate on the datasets %s and report the metrics the template's experiment writes.", tex(strings.Join(f.datasets(), ", "))), true
	case "Conclusion":
		return fmt.Sprintf("We varied %s and measured its effect across %d datasets. Future work should test more values and more seeds before drawing firm conclusions.", tex(constant), len(f.datasets())), true
	case "Related Work":
		return "Earlier work on this question" + f.cite(1) + " studies the setting in general; our study isolates a single setting of a fixed experiment.\n" +
			"% Plan: find work on the effect of this setting, and contrast it with our single-setting sweep.", true
	}
	return "", false
}

func resultsBody(f paperFacts) string {
	var b strings.Builder
	ds := f.datasets()
	metric := f.metric()
	what := "the final validation accuracy"
	if metric != "final_val_acc" {
		what = tex(metric)
	}
	fmt.Fprintf(&b, "Table~\\ref{tab:results} lists %s of every run.\n\n", what)
	b.WriteString("\\begin{table}[h]\n\\centering\n\\begin{tabular}{l" + strings.Repeat("r", len(ds)) + "}\n\\hline\nRun")
	for _, d := range ds {
		b.WriteString(" & " + tex(d))
	}
	b.WriteString(" \\\\\n\\hline\n")
	for _, r := range f.runs() {
		b.WriteString(tex(r))
		for _, d := range ds {
			v, ok := f.results[r][d].Means[metric]
			if ok {
				fmt.Fprintf(&b, " & %.3f", v)
			} else {
				b.WriteString(" & --")
			}
		}
		b.WriteString(" \\\\\n")
	}
	fmt.Fprintf(&b, "\\hline\n\\end{tabular}\n\\caption{%s (mean over seeds) per run and dataset.}\n\\label{tab:results}\n\\end{table}\n", strings.ToUpper(what[:1])+what[1:])
	for i, fig := range f.figures {
		if i >= 2 {
			break
		}
		label := strings.TrimSuffix(fig, ".png")
		fmt.Fprintf(&b, "\n\\begin{figure}[h]\n\\centering\n\\includegraphics[width=0.8\\linewidth]{%s}\n\\caption{%s for every run.}\n\\label{fig:%s}\n\\end{figure}\n",
			fig, tex(strings.ReplaceAll(label, "_", " ")), strings.ReplaceAll(label, "_", "-"))
	}
	return b.String()
}

// The double's first drafts carry two deliberate errors, so the demo and
// the tests exercise the checks that catch them: a LaTeX command that does
// not exist (a compile error) in the Method, and a number no run produced
// in the Results. It fixes each when the check sends it back.
const (
	FlawLatex  = `\emphh`
	FlawNumber = `Averaged over every task and run, the final validation accuracy is 0.8642 (a deliberate error in the scripted draft).`
)

// fixOwn answers a check's problems: when the file still carries flaw, a
// SEARCH/REPLACE block on its line (flaw replaced by with, or the line
// removed when with is empty); otherwise NO CHANGES.
func fixOwn(last, flaw, with, fixed, none string) string {
	tex := fileIn(last, "latex/template.tex")
	for _, l := range strings.Split(tex, "\n") {
		if !strings.Contains(l, flaw) {
			continue
		}
		repl := ""
		if with != "" {
			repl = strings.ReplaceAll(l, flaw+"{", with) + "\n"
		}
		return "THOUGHT: " + fixed + "\n\nlatex/template.tex\n```latex\n<<<<<<< SEARCH\n" + l + "\n=======\n" + repl + ">>>>>>> REPLACE\n```\n"
	}
	return "THOUGHT: " + none + "\nNO CHANGES"
}

// finalPass returns the section as it stands, its plan comments dropped
// (the double cannot improve prose; keeping the text keeps the citations
// placed since the draft).
func finalPass(all, last, name string) string {
	current := between(last, "The current text of the "+name+":\n```latex\n", "\n```\n")
	var keep []string
	title := ""
	for _, l := range strings.Split(current, "\n") {
		if t, ok := strings.CutPrefix(l, "Title: "); ok && title == "" && name == "Title and Abstract" {
			title = t
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(l), "%") {
			continue
		}
		keep = append(keep, l)
	}
	body := strings.TrimSpace(strings.Join(keep, "\n"))
	if body == "" {
		return section(all, name)
	}
	out := "THOUGHT: The section fits the paper; only the plan comments go.\n\n"
	if name == "Title and Abstract" {
		if title == "" {
			title = facts(all).title
		}
		out += "TITLE: " + title + "\n\n"
	}
	return out + "```latex\n" + body + "\n```\n"
}

// improve answers the review by stating the limitation it names, after
// the conclusion's future-work sentence.
func improve(last string) string {
	tex := fileIn(last, "latex/template.tex")
	for _, l := range strings.Split(tex, "\n") {
		if strings.Contains(l, "Future work should test more values") {
			return "THOUGHT: The review asks for more seeds; the limitation is stated.\n\nlatex/template.tex\n```latex\n<<<<<<< SEARCH\n" + l +
				"\n=======\n" + l + "\nAs the review points out, the sweep uses few settings and seeds, so its conclusions are tentative. " + Disclaimer + "\n>>>>>>> REPLACE\n```\n"
		}
	}
	return "THOUGHT: The scripted test model finds no conclusion it wrote to revise."
}

func review(all, summary string) string {
	text := between(all, "<paper>\n", "\n</paper>")
	title := ""
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			title = l
			break
		}
	}
	words := len(strings.Fields(text))
	if summary == "" {
		summary = fmt.Sprintf("Scripted review by the test double (no language model read this paper). The paper, whose first line reads %q, has %d words.", title, words)
	}
	r := map[string]any{
		"Summary":          summary,
		"Strengths":        []string{"The reported numbers come from real experiment runs."},
		"Weaknesses":       []string{"The prose was produced by a scripted test model, not by a researcher or a language model.", "Few settings and seeds."},
		"Originality":      1,
		"Quality":          2,
		"Clarity":          2,
		"Significance":     1,
		"Questions":        []string{"How do the results change with more seeds?"},
		"Limitations":      []string{"This review is a fixed template used to test the pipeline."},
		"Ethical Concerns": false,
		"Soundness":        2,
		"Presentation":     2,
		"Contribution":     1,
		"Overall":          3,
		"Confidence":       1,
		"Decision":         "Reject",
	}
	js, _ := json.MarshalIndent(r, "", "  ")
	return "THOUGHT:\nThis is the scripted test model; it does not judge the paper.\n\nREVIEW JSON:\n```json\n" + string(js) + "\n```\n"
}
