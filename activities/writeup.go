package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/store"
)

// Section is one part of the paper and the placeholder it replaces in the
// template's latex/template.tex.
type Section struct {
	Name        string
	Placeholder string
	Tips        string
	// Sketch: the first pass writes a plan (the citation stage and the
	// second pass fill it), not a refined section.
	Sketch bool
}

// TitleAbstract is written first and fills \title{TITLE HERE} and ABSTRACT HERE.
const TitleAbstract = "Title and Abstract"

// RelatedWork is sketched in the first pass and finished in the second,
// after the citation stage has found the papers it discusses.
const RelatedWork = "Related Work"

// Sections in writing order (Related Work last, as it needs the rest).
var Sections = []Section{
	{Name: TitleAbstract, Placeholder: "ABSTRACT HERE", Tips: "The abstract is one paragraph without citations: what the paper does and why it matters, why it is hard, what we contribute, and how the experiments verify it, with the key numbers exactly as in the run results. The title is short and specific."},
	{Name: "Introduction", Placeholder: "INTRODUCTION HERE", Tips: "A longer version of the abstract: the problem and its relevance, why it is hard, our approach, a bullet list (itemize) of contributions, and how we verify them. Cite the work the problem builds on. No figures or tables here."},
	{Name: "Background", Placeholder: "BACKGROUND HERE", Tips: "The concepts and prior work needed to understand the method, and a Problem Setting subsection that introduces the formalism and notation, with any specific assumptions. No results."},
	{Name: "Method", Placeholder: "METHOD HERE", Tips: "What we do and why, using the formalism of the Background section. Describe exactly what the code does (experiment.py), not what it might do. No results."},
	{Name: "Experimental Setup", Placeholder: "EXPERIMENTAL SETUP HERE", Tips: "How the method is tested: tasks and datasets, evaluation metrics, and the hyperparameters and implementation details exactly as experiment.py sets them (read the constants; never guess a value). Do not invent hardware details. No results."},
	{Name: "Results", Placeholder: "RESULTS HERE", Tips: "Only results that appear in the run results: compare every run with the baseline, give the numbers exactly as the results state them (rounded sensibly; a difference or a ratio only when you say it is one), a booktabs table is welcome, include each available figure once, with a caption and \\label{fig:...}, and discuss limitations. Never invent numbers: every number is checked against the runs."},
	{Name: "Conclusion", Placeholder: "CONCLUSIONS HERE", Tips: "A brief recap of the paper and its findings, then future work as possible next steps. No new numbers, figures or tables."},
	{Name: RelatedWork, Placeholder: "RELATED WORK HERE", Sketch: true, Tips: "Sketch the Related Work: a short first draft that compares and contrasts our work with the relevant entries of the bibliography already there (how their assumptions or methods differ, whether they apply to our problem; never just describe them), followed by a plan as LaTeX comment lines (each starting with %) naming the kinds of work still to find and what to contrast them with. The literature is searched for them next, and a later pass turns the plan into prose."},
}

// SectionByName returns the section called name.
func SectionByName(name string) (Section, bool) {
	for _, s := range Sections {
		if s.Name == name {
			return s, true
		}
	}
	return Section{}, false
}

// Write-up passes.
const (
	// PassDraft writes a section and refines it once against the list of
	// common errors (a Sketch section is only drafted).
	PassDraft = 1
	// PassFinal refines a section again with the whole paper in view
	// (redundancy, fit, length, figure placement) and rethinks the title.
	PassFinal = 2
)

// SectionInput asks for one section in one pass (0: PassDraft).
type SectionInput struct {
	Paper   PaperRef
	Section string
	Pass    int `json:",omitempty"`
	Budgeted
}

// SectionResult is what writing the section cost; Note says why a final
// pass left the section as it was.
type SectionResult struct {
	Note string `json:",omitempty"`
	Metered
}

type writeupState struct {
	Title    string            `json:"title"`
	Abstract string            `json:"abstract"`
	Sections map[string]string `json:"sections"`
	// Final lists the sections whose final pass is done.
	Final map[string]bool `json:"final,omitempty"`
}

const writerTemperature = 0.75

// WriteSection writes one section (PassDraft) or refines it with the whole
// paper in view (PassFinal), then updates latex/template.tex. The writer's
// system prompt is everything the paper draws on (see writerContext); it is
// the same for every section of a pass, so providers' prompt caches serve
// it again. A draft without a latex block is re-asked (see MaxReasks) and
// fails the section when it never comes; a refinement that never parses
// keeps what was there. A section already written in a pass is not asked
// for again.
func (a *Activities) WriteSection(ctx context.Context, in SectionInput) (_ SectionResult, err error) {
	s, err := a.paperScope(ctx, in.Paper, false)
	if err != nil {
		return SectionResult{}, err
	}
	defer s.close(ctx, &err)
	ctx, dir := s.meter(ctx, in.Budget), s.dir
	sec, ok := SectionByName(in.Section)
	if !ok {
		return SectionResult{}, badInput("unknown section %q", in.Section)
	}
	st, err := readWriteup(dir)
	if err != nil {
		return SectionResult{}, err
	}
	w := &writer{a: a, dir: dir, sec: sec, st: st, model: in.Paper.Model}
	var note string
	if in.Pass == PassFinal {
		note, err = w.final(ctx)
	} else {
		err = w.draft(ctx)
	}
	return SectionResult{Note: note, Metered: s.metered()}, err
}

func readWriteup(dir string) (*writeupState, error) {
	st := &writeupState{}
	if err := readJSON(filepath.Join(dir, "writeup", "state.json"), st); err != nil && !isNotExist(err) {
		return nil, fmt.Errorf("read write-up state: %w", err)
	}
	if st.Sections == nil {
		st.Sections = map[string]string{}
	}
	if st.Final == nil {
		st.Final = map[string]bool{}
	}
	return st, nil
}

type writer struct {
	a     *Activities
	dir   string
	sec   Section
	st    *writeupState
	model string
}

func (w *writer) save() error {
	if err := os.MkdirAll(filepath.Join(w.dir, "writeup"), 0o755); err != nil {
		return err
	}
	return writeJSON(filepath.Join(w.dir, "writeup", "state.json"), w.st)
}

func (w *writer) saveTranscript(pass string, msgs []llm.Message) error {
	if err := os.MkdirAll(filepath.Join(w.dir, "writeup"), 0o755); err != nil {
		return err
	}
	return store.WriteFile(filepath.Join(w.dir, "writeup", "transcript_"+pass+slug(w.sec.Name)+".md"), []byte(transcript(msgs)))
}

// ask sends one request and reads a section reply into title and body.
func (w *writer) ask(ctx context.Context, req llm.Request, what, step string) (title, body string, msgs []llm.Message, err error) {
	parse := func(reply string) error {
		s, err := ReadSection(reply)
		if err == nil {
			title, body = s.Title, bodyOnly(s.Body)
		}
		return err
	}
	fix := func(err error) string { return Correction(ReplySection, step+": "+w.sec.Name, err) }
	_, msgs, err = w.a.ask(ctx, req, what, parse, fix)
	return title, body, msgs, err
}

// draft is the first pass: written, then refined once against the common
// errors (a sketch only written).
func (w *writer) draft(ctx context.Context) error {
	sec := w.sec
	if _, ok := w.st.Sections[sec.Name]; ok {
		// Written before a crash or reset: render only if the file lacks it,
		// so LaTeX fixes made after the write-up are never undone.
		if strings.Contains(readText(w.dir, filepath.Join("latex", "template.tex")), sec.Placeholder) {
			return renderPaper(w.dir, *w.st)
		}
		return nil
	}
	var idea paper.Idea
	if err := readJSON(filepath.Join(w.dir, "idea.json"), &idea); err != nil {
		return fmt.Errorf("read idea.json: %w", err)
	}
	system, err := writerContext(w.dir)
	if err != nil {
		return err
	}
	format := ""
	if sec.Name == TitleAbstract {
		format = titleAbstractFormat
	}
	prompt := fmt.Sprintf(writeSectionPrompt, sec.Name, w.soFar(idea.Title), "Tips for this part: "+sec.Tips, format)
	req := llm.Request{Model: w.model, System: system, Messages: []llm.Message{{Role: "user", Content: prompt}}, Temperature: writerTemperature}
	title, body, msgs, err := w.ask(ctx, req, "section "+sec.Name, "Write section")
	if err != nil {
		return err
	}
	if !sec.Sketch {
		req.Messages = append(msgs, llm.Message{Role: "user", Content: fmt.Sprintf(refineSectionPrompt, sec.Name, sec.Name)})
		t2, b2, m2, err := w.ask(ctx, req, "section "+sec.Name+" refinement", "Refine section")
		if err != nil && !IsUnparsable(err) {
			return err
		}
		// An unusable refinement keeps the draft; the transcript shows the tries.
		msgs = m2
		if err == nil {
			title, body = t2, b2
		}
	}
	if sec.Name == TitleAbstract {
		title, body = titleInBlock(title, body)
		if title == "" {
			title = idea.Title
		}
		w.st.Title, w.st.Abstract = title, body
	}
	w.st.Sections[sec.Name] = body
	if err := w.saveTranscript("", msgs); err != nil {
		return err
	}
	if err := w.save(); err != nil {
		return err
	}
	return renderPaper(w.dir, *w.st)
}

// soFar renders the parts written so far for the writer's next request.
func (w *writer) soFar(ideaTitle string) string {
	var b strings.Builder
	title := w.st.Title
	if title == "" {
		title = ideaTitle + " (working title)"
	}
	fmt.Fprintf(&b, "The paper so far. Title: %s\n", title)
	n := 0
	for _, s := range Sections {
		body, ok := w.st.Sections[s.Name]
		if !ok {
			continue
		}
		n++
		name := s.Name
		if name == TitleAbstract {
			name = "Abstract"
		}
		fmt.Fprintf(&b, "\n<section name=%q>\n%s\n</section>\n", name, strings.TrimSpace(body))
	}
	if n == 0 {
		b.WriteString("(nothing written yet)\n")
	}
	return b.String()
}

// final is the second pass over a section with the whole paper in view. It
// works on latex/template.tex as the citation stage and earlier passes
// left it; a section whose place in the file cannot be found (its heading
// edited away) is left as it is, with a note.
func (w *writer) final(ctx context.Context) (string, error) {
	sec := w.sec
	if w.st.Final[sec.Name] {
		return "", nil
	}
	texPath := filepath.Join(w.dir, "latex", "template.tex")
	doc := readText(w.dir, filepath.Join("latex", "template.tex"))
	skeleton := readText(w.dir, filepath.Join("latex", "skeleton.tex"))
	if doc == "" {
		return "", missingInput("latex/template.tex is missing from the workspace")
	}
	start, end, ok := sectionSpan(doc, skeleton, sec.Placeholder)
	if !ok {
		return fmt.Sprintf("the final pass left %s as it was: its place in latex/template.tex (the lines around it in the template) was edited away", sec.Name), nil
	}
	system, err := writerContext(w.dir)
	if err != nil {
		return "", err
	}
	current := strings.Join(strings.Split(doc, "\n")[start:end], "\n")
	tips := finalTips
	format := ""
	if sec.Name == TitleAbstract {
		tips, format = finalTitleTips, titleAbstractFormat
		current = "Title: " + currentTitle(doc) + "\n\n" + current
	}
	if sec.Sketch {
		tips = finalRelatedTips
	}
	prompt := fmt.Sprintf(finalSectionPrompt, sec.Name, documentBody(doc), sec.Name, current, tips, format)
	req := llm.Request{Model: w.model, System: system, Messages: []llm.Message{{Role: "user", Content: prompt}}, Temperature: writerTemperature}
	title, body, msgs, err := w.ask(ctx, req, "final pass "+sec.Name, "Second refinement")
	if err != nil && !IsUnparsable(err) {
		return "", err
	}
	note := ""
	if err == nil && sec.Name == TitleAbstract {
		title, body = titleInBlock(title, body)
	}
	if err == nil {
		doc = replaceLines(doc, start, end, body)
		if sec.Name == TitleAbstract && strings.TrimSpace(title) != "" {
			doc = setTitle(doc, title)
			w.st.Title = strings.TrimSpace(title)
		}
		if err := store.WriteFile(texPath, []byte(doc)); err != nil {
			return "", err
		}
	} else {
		note = fmt.Sprintf("the final pass over %s could not be used (%s); the section stays as it was", sec.Name, rootText(err))
	}
	if err := w.saveTranscript("final_", msgs); err != nil {
		return "", err
	}
	w.st.Final[sec.Name] = true
	return note, w.save()
}

// bodyOnly drops what the skeleton already has around a section, which
// models add although told not to: a leading \section heading (with its
// \label) and \begin{abstract} ... \end{abstract}.
func bodyOnly(body string) string {
	lines := strings.Split(strings.TrimSpace(body), "\n")
	for len(lines) > 0 {
		l := strings.TrimSpace(lines[0])
		if strings.HasPrefix(l, `\section`) || strings.HasPrefix(l, `\begin{abstract}`) || (strings.HasPrefix(l, `\label{`) && strings.HasSuffix(l, "}")) {
			lines = lines[1:]
			continue
		}
		break
	}
	if n := len(lines); n > 0 && strings.TrimSpace(lines[n-1]) == `\end{abstract}` {
		lines = lines[:n-1]
	}
	return strings.Join(lines, "\n")
}

func rootText(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i > 20 {
		return s[i+2:]
	}
	return s
}

// writerContext is the writer's system prompt: the instructions, then the
// material every section draws on, in an order that changes least first
// (task, code, results, notes, figures, bibliography).
func writerContext(dir string) (string, error) {
	var idea paper.Idea
	if err := readJSON(filepath.Join(dir, "idea.json"), &idea); err != nil {
		return "", fmt.Errorf("read idea.json: %w", err)
	}
	skeleton := readText(dir, filepath.Join("latex", "skeleton.tex"))
	if skeleton == "" {
		return "", missingInput("latex/skeleton.tex is missing from the workspace")
	}
	doc := readText(dir, filepath.Join("latex", "template.tex"))
	if doc == "" {
		doc = skeleton
	}
	var prompt struct {
		Task string `json:"task_description"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "prompt.json")); err == nil {
		_ = json.Unmarshal(b, &prompt)
	}
	if prompt.Task == "" {
		prompt.Task = "(the template has no task description)"
	}
	code := readText(dir, "experiment.py")
	fence := "```"
	for strings.Contains(code, fence) {
		fence += "`"
	}
	var bib []string
	var keys []string
	for _, e := range latex.BibEntries(doc) {
		bib = append(bib, "- "+e.String())
		keys = append(keys, e.Key)
	}
	if len(bib) == 0 {
		bib = []string{"(empty: cite nothing)"}
	}
	pkgs := latex.Packages(skeleton)
	figs := figures(dir)
	figList := strings.Join(figs, ", ")
	if figList == "" {
		figList = "none (write no \\includegraphics)"
	}
	return fmt.Sprintf(writerSystem, strings.Join(pkgs, ", ")) + fmt.Sprintf(paperContext,
		idea.Title, idea.Experiment, strings.TrimSpace(prompt.Task), fence, strings.TrimRight(code, "\n"), fence,
		allResults(dir), readText(dir, "notes.txt"), figList, strings.Join(bib, "\n"), strings.Join(keys, ", ")), nil
}

// titleInBlock takes a "Title: ..." first line out of the abstract's
// block, where writers put it though asked to write it above; it is the
// title unless one was given above.
func titleInBlock(title, body string) (string, string) {
	t, rest, ok := strings.Cut(body, "\n")
	if !ok || !titleLineRe.MatchString(t) {
		return title, body
	}
	if title == "" {
		title = strings.TrimSpace(titleLineRe.ReplaceAllString(t, ""))
	}
	return title, strings.TrimSpace(rest)
}

// titleLineRe is a "Title: ..." line a writer puts in its LaTeX block.
var titleLineRe = regexp.MustCompile(`^\s*(?i:title)\s*:\s*`)

var titleRe = regexp.MustCompile(`\\title\{((?:[^{}]|\{[^{}]*\})*)\}`)

func currentTitle(doc string) string {
	if m := titleRe.FindStringSubmatch(doc); m != nil {
		return m[1]
	}
	return ""
}

func setTitle(doc, title string) string {
	loc := titleRe.FindStringIndex(doc)
	if loc == nil {
		return doc
	}
	return doc[:loc[0]] + `\title{` + strings.TrimSpace(title) + `}` + doc[loc[1]:]
}

// sectionSpan finds where a section's text is in doc: between the lines
// that surround its placeholder in the skeleton (its heading, and what
// follows: the next heading or \end{abstract}). It returns the line range
// [start, end) of the text.
func sectionSpan(doc, skeleton, placeholder string) (start, end int, ok bool) {
	sk := strings.Split(skeleton, "\n")
	at := -1
	for i, l := range sk {
		if strings.TrimSpace(l) == placeholder {
			at = i
			break
		}
	}
	if at < 0 {
		return 0, 0, false
	}
	prev, next := "", ""
	for i := at - 1; i >= 0 && prev == ""; i-- {
		prev = strings.TrimSpace(sk[i])
	}
	for i := at + 1; i < len(sk) && next == ""; i++ {
		next = strings.TrimSpace(sk[i])
	}
	if prev == "" || next == "" {
		return 0, 0, false
	}
	lines := strings.Split(doc, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != prev {
			continue
		}
		for j := i + 1; j < len(lines); j++ {
			if strings.TrimSpace(lines[j]) == next {
				return i + 1, j, true
			}
		}
		return 0, 0, false
	}
	return 0, 0, false
}

// replaceLines swaps lines [start, end) of doc for text.
func replaceLines(doc string, start, end int, text string) string {
	lines := strings.Split(doc, "\n")
	body := []string{strings.TrimRight(text, "\n")}
	if end > start && strings.TrimSpace(lines[end-1]) == "" {
		body = append(body, "") // keep the blank line before the next heading
	}
	out := append(append(append([]string(nil), lines[:start]...), body...), lines[end:]...)
	return strings.Join(out, "\n")
}

// renderPaper fills the skeleton with every written section.
func renderPaper(dir string, st writeupState) error {
	skeleton := readText(dir, filepath.Join("latex", "skeleton.tex"))
	if skeleton == "" {
		return missingInput("latex/skeleton.tex is missing from the workspace")
	}
	out := skeleton
	if st.Title != "" {
		out = strings.Replace(out, `\title{TITLE HERE}`, `\title{`+st.Title+`}`, 1)
	}
	for _, s := range Sections {
		body, ok := st.Sections[s.Name]
		if !ok {
			continue
		}
		out = replaceLine(out, s.Placeholder, body)
	}
	return store.WriteFile(filepath.Join(dir, "latex", "template.tex"), []byte(out))
}

// replaceLine swaps the first line that is exactly placeholder for text.
func replaceLine(doc, placeholder, text string) string {
	lines := strings.Split(doc, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == placeholder {
			lines[i] = text
			break
		}
	}
	return strings.Join(lines, "\n")
}

func slug(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "_", "/", "_").Replace(s))
}

func transcript(msgs []llm.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "### %s\n\n%s\n\n", m.Role, m.Content)
	}
	return b.String()
}
