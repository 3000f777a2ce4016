package activities

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
}

// TitleAbstract is written first and fills \title{TITLE HERE} and ABSTRACT HERE.
const TitleAbstract = "Title and Abstract"

// Sections in writing order (Related Work last, as it needs the rest).
var Sections = []Section{
	{TitleAbstract, "ABSTRACT HERE", "The abstract is one paragraph without citations: what the paper does and why it matters, why it is hard, what we contribute, and how the experiments verify it, with the key numbers. The title is short and specific."},
	{"Introduction", "INTRODUCTION HERE", "A longer version of the abstract: the problem and its relevance, why it is hard, our approach, a bullet list (itemize) of contributions, and how we verify them. Cite the work the problem builds on."},
	{"Background", "BACKGROUND HERE", "The concepts and prior work needed to understand the method, and a Problem Setting subsection that introduces the formalism and notation, with any specific assumptions."},
	{"Method", "METHOD HERE", "What we do and why, using the formalism of the Background section."},
	{"Experimental Setup", "EXPERIMENTAL SETUP HERE", "How the method is tested: tasks and datasets, evaluation metrics, important hyperparameters and implementation details. Do not invent hardware details."},
	{"Results", "RESULTS HERE", "Only results that appear in the run results and notes: compare every run with the baseline, give the numbers (a booktabs table is welcome), include the available figures with captions and \\label{fig:...}, and discuss limitations. Never invent numbers."},
	{"Conclusion", "CONCLUSIONS HERE", "A brief recap of the paper and its findings, then future work as possible next steps."},
	{"Related Work", "RELATED WORK HERE", "Compare and contrast with the most relevant cited work: how their assumptions or methods differ from ours and whether they apply to our problem. Do not just describe them."},
}

// SectionInput asks for one section.
type SectionInput struct {
	Paper   PaperRef
	Section string
	Budgeted
}

// SectionResult is what writing the section cost.
type SectionResult struct {
	Metered
}

type writeupState struct {
	Title    string            `json:"title"`
	Abstract string            `json:"abstract"`
	Sections map[string]string `json:"sections"`
}

const writerTemperature = 0.75

// WriteSection writes one section and refines it once, then renders every
// written section into latex/template.tex. A draft without a latex block is
// re-asked (see MaxReasks) and fails the section when it never comes; a
// refinement that never parses keeps the draft. A section already written is
// not asked for again.
func (a *Activities) WriteSection(ctx context.Context, in SectionInput) (_ SectionResult, err error) {
	s, err := a.paperScope(ctx, in.Paper, false)
	if err != nil {
		return SectionResult{}, err
	}
	defer s.close(ctx, &err)
	ctx, dir := s.meter(ctx, in.Budget), s.dir
	var sec *Section
	for i := range Sections {
		if Sections[i].Name == in.Section {
			sec = &Sections[i]
		}
	}
	if sec == nil {
		return SectionResult{}, badInput("unknown section %q", in.Section)
	}
	statePath := filepath.Join(dir, "writeup", "state.json")
	st := writeupState{Sections: map[string]string{}}
	if err := readJSON(statePath, &st); err != nil && !isNotExist(err) {
		return SectionResult{}, fmt.Errorf("read write-up state: %w", err)
	}
	if st.Sections == nil {
		st.Sections = map[string]string{}
	}
	if _, ok := st.Sections[sec.Name]; ok {
		// Written before a crash or reset: render only if the file lacks it,
		// so LaTeX fixes made after the write-up are never undone.
		if strings.Contains(readText(dir, filepath.Join("latex", "template.tex")), sec.Placeholder) {
			return SectionResult{s.metered()}, renderPaper(dir, st)
		}
		return SectionResult{s.metered()}, nil
	}
	var idea paper.Idea
	if err := readJSON(filepath.Join(dir, "idea.json"), &idea); err != nil {
		return SectionResult{}, fmt.Errorf("read idea.json: %w", err)
	}
	skeleton := readText(dir, filepath.Join("latex", "skeleton.tex"))
	format := ""
	if sec.Name == TitleAbstract {
		format = titleAbstractFormat
	}
	title := idea.Title
	if st.Title != "" {
		title = st.Title
	}
	system := writerSystem + fmt.Sprintf(paperContext, title, idea.Experiment,
		readText(dir, "notes.txt"), allResults(dir), strings.Join(figures(dir), ", "), strings.Join(latex.BibKeys(skeleton), ", "))
	prompt := fmt.Sprintf(writeSectionPrompt, sec.Name, "Tips for this part: "+sec.Tips, format)
	var newTitle, body string
	parse := func(reply string) error {
		s, err := ReadSection(reply)
		if err == nil {
			newTitle, body = s.Title, s.Body
		}
		return err
	}
	fix := func(step string) func(error) string {
		return func(err error) string { return Correction(ReplySection, step+": "+sec.Name, err) }
	}
	req := llm.Request{Model: in.Paper.Model, System: system, Messages: []llm.Message{{Role: "user", Content: prompt}}, Temperature: writerTemperature}
	_, msgs, err := a.ask(ctx, req, "section "+sec.Name, parse, fix("Write section"))
	if err != nil {
		return SectionResult{}, err
	}
	req.Messages = append(msgs, llm.Message{Role: "user", Content: fmt.Sprintf(refineSectionPrompt, sec.Name, sec.Name)})
	_, msgs, err = a.ask(ctx, req, "section "+sec.Name+" refinement", parse, fix("Refine section"))
	if err != nil && !IsUnparsable(err) {
		return SectionResult{}, err
	}
	// An unusable refinement keeps the draft: parse set body only for
	// replies that parsed, and the transcript shows the failed tries.
	if sec.Name == TitleAbstract {
		if newTitle == "" {
			newTitle = idea.Title
		}
		st.Title, st.Abstract = newTitle, body
	}
	st.Sections[sec.Name] = body
	if err := os.MkdirAll(filepath.Join(dir, "writeup"), 0o755); err != nil {
		return SectionResult{}, err
	}
	if err := store.WriteFile(filepath.Join(dir, "writeup", "transcript_"+slug(sec.Name)+".md"), []byte(transcript(msgs))); err != nil {
		return SectionResult{}, err
	}
	if err := writeJSON(statePath, st); err != nil {
		return SectionResult{}, err
	}
	return SectionResult{s.metered()}, renderPaper(dir, st)
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
