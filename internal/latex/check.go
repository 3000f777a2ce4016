package latex

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

var errNoBibBlock = errors.New(`latex: document has no \begin{filecontents}{references.bib} ... \end{filecontents} block`)

type bibEntryError struct{ text string }

func (e *bibEntryError) Error() string {
	t := e.text
	if len(t) > 80 {
		t = t[:80] + "..."
	}
	return fmt.Sprintf("latex: not a BibTeX entry with a key (want @type{key, ...}): %q", t)
}

// Problem kinds reported by Check.
const (
	KindMissingCitation  = "missing-citation"
	KindMissingFigure    = "missing-figure"
	KindDuplicateFigure  = "duplicate-figure"
	KindDuplicateSection = "duplicate-section"
	KindDuplicateLabel   = "duplicate-label"
	KindPlaceholder      = "placeholder"
	KindEnvironment      = "environment"
)

// Problem is one issue found by Check. Kind is one of the Kind* constants,
// Message is an instruction-style sentence meant to be shown to an LLM, and
// Line is the 1-based line of the .tex source it refers to (0 if none).
type Problem struct {
	Kind    string
	Message string
	Line    int
}

// String formats the problem as "line N: [kind] message".
func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: [%s] %s", p.Line, p.Kind, p.Message)
	}
	return fmt.Sprintf("[%s] %s", p.Kind, p.Message)
}

// FormatProblems renders problems one per line, numbered, for an LLM prompt.
// It returns "" for no problems.
func FormatProblems(problems []Problem) string {
	var b strings.Builder
	for i, p := range problems {
		fmt.Fprintf(&b, "%d. %s\n", i+1, p)
	}
	return b.String()
}

// figureExts are the extensions tried for \includegraphics names.
var figureExts = []string{"", ".png", ".pdf", ".jpg", ".jpeg"}

var (
	includeGraphicsRe = regexp.MustCompile(`\\includegraphics\*?\s*(?:\[[^\]]*\]\s*){0,2}\{([^}]*)\}`)
	sectionRe         = regexp.MustCompile(`\\(section|subsection|subsubsection)\*?\s*(?:\[[^\]]*\]\s*)?\{`)
	labelRe           = regexp.MustCompile(`\\label\s*\{([^}]*)\}`)
	envRe             = regexp.MustCompile(`\\(begin|end)\s*\{([^}]*)\}`)
	placeholderLineRe = regexp.MustCompile(`^[A-Z0-9][A-Z0-9 _,.:;'&/()\-]* HERE$`)
	placeholderArgRe  = regexp.MustCompile(`\{\s*([A-Z0-9][A-Z0-9 _,.:;'&/()\-]* HERE)\s*\}`)
)

// Check runs static checks on the LaTeX source tex before compiling it.
// figureDir is the folder figures are read from (the paper folder, parent of
// latex/, because of \graphicspath{{../}}); when figureDir is "" figure
// existence is not checked. Commented-out text is ignored. It reports:
//
//   - missing-citation: a cited key with no entry in the filecontents .bib block;
//   - missing-figure: an \includegraphics file that does not exist in figureDir
//     (the name is tried as given and with .png, .pdf, .jpg, .jpeg appended);
//   - duplicate-figure: the same figure file included more than once;
//   - duplicate-section: a \section title used twice, or a \subsection /
//     \subsubsection title repeated within the same parent section;
//   - duplicate-label: a \label key defined twice;
//   - placeholder: a leftover template line such as "INTRODUCTION HERE" (a line
//     that is exactly an upper-case phrase ending in " HERE", or such a phrase
//     as a whole brace argument, e.g. \title{TITLE HERE});
//   - environment: unbalanced or mismatched \begin/\end.
//
// Problems are grouped by kind in the order above, each group in source order.
func Check(tex string, figureDir string) []Problem {
	code := codeText(tex)
	idx := newLineIndex(code)
	var probs []Problem
	probs = append(probs, checkCitations(tex)...)
	probs = append(probs, checkFigures(code, idx, figureDir)...)
	probs = append(probs, checkSections(code, idx)...)
	probs = append(probs, checkLabels(code, idx)...)
	probs = append(probs, checkPlaceholders(code)...)
	probs = append(probs, checkEnvironments(code, idx)...)
	return probs
}

func checkCitations(tex string) []Problem {
	occ := citeOccurrences(tex)
	if len(occ) == 0 {
		return nil
	}
	_, hasBlock := mainBibBlock(tex)
	have := map[string]bool{}
	for _, k := range BibKeys(tex) {
		have[k] = true
	}
	lines := map[string][]int{}
	var order []string
	for _, o := range occ {
		if have[o.value] {
			continue
		}
		if _, ok := lines[o.value]; !ok {
			order = append(order, o.value)
		}
		ls := lines[o.value]
		if len(ls) == 0 || ls[len(ls)-1] != o.line {
			lines[o.value] = append(ls, o.line)
		}
	}
	var probs []Problem
	for _, k := range order {
		where := "line " + joinInts(lines[k])
		if len(lines[k]) > 1 {
			where = "lines " + joinInts(lines[k])
		}
		var msg string
		if hasBlock {
			msg = fmt.Sprintf("Citation key %q is cited on %s but has no entry in the references.bib filecontents block. "+
				"Add a BibTeX entry with exactly this key inside \\begin{filecontents}{references.bib} ... \\end{filecontents}, "+
				"or change the citation to an existing key or remove it.", k, where)
		} else {
			msg = fmt.Sprintf("Citation key %q is cited on %s but the document has no \\begin{filecontents}{references.bib} ... \\end{filecontents} block. "+
				"Add that block (before \\begin{document}) with a BibTeX entry for this key, or remove the citation.", k, where)
		}
		probs = append(probs, Problem{Kind: KindMissingCitation, Message: msg, Line: lines[k][0]})
	}
	return probs
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// resolveFigure returns the path of the figure file name refers to inside
// figureDir, or "" if none exists.
func resolveFigure(figureDir, name string) string {
	name = strings.NewReplacer("{", "", "}", "", `"`, "").Replace(strings.TrimSpace(name))
	if name == "" {
		return ""
	}
	var bases []string
	if filepath.IsAbs(name) {
		bases = append(bases, name)
	} else {
		bases = append(bases, filepath.Join(figureDir, name))
		// A name relative to latex/ that climbs into the paper folder.
		if strings.HasPrefix(name, "../") {
			bases = append(bases, filepath.Join(figureDir, strings.TrimPrefix(name, "../")))
		}
	}
	for _, b := range bases {
		for _, ext := range figureExts {
			p := b + ext
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return filepath.Clean(p)
			}
		}
	}
	return ""
}

// availableFigures lists the image files in dir (at most max names).
func availableFigures(dir string, max int) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".png", ".pdf", ".jpg", ".jpeg":
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) > max {
		names = append(names[:max], "...")
	}
	return names
}

func checkFigures(code string, idx lineIndex, figureDir string) []Problem {
	var probs []Problem
	firstLine := map[string]int{}
	var avail []string
	availLoaded := false
	for _, m := range includeGraphicsRe.FindAllStringSubmatchIndex(code, -1) {
		line := idx.line(m[0])
		name := strings.TrimSpace(code[m[2]:m[3]])
		if name == "" || strings.Contains(name, "#") {
			continue // empty or a macro parameter inside a definition
		}
		key := ""
		if figureDir != "" {
			key = resolveFigure(figureDir, name)
			if key == "" {
				if !availLoaded {
					avail, availLoaded = availableFigures(figureDir, 40), true
				}
				msg := fmt.Sprintf("\\includegraphics{%s} on line %d refers to a figure file that does not exist in the paper folder "+
					"(tried %q with no extension and with .png, .pdf, .jpg). ", name, line, name)
				if len(avail) > 0 {
					msg += "Use one of the existing figure files (" + strings.Join(avail, ", ") + ") or remove this figure."
				} else {
					msg += "There are no figure files in the paper folder, so remove this figure."
				}
				probs = append(probs, Problem{Kind: KindMissingFigure, Message: msg, Line: line})
			}
		}
		if key == "" {
			key = "name:" + strings.TrimPrefix(strings.TrimSuffix(name, filepath.Ext(name)), "./")
		}
		if first, ok := firstLine[key]; ok {
			probs = append(probs, Problem{Kind: KindDuplicateFigure, Line: line, Message: fmt.Sprintf(
				"The figure file %q is included again on line %d (first included on line %d). Each figure must appear only once: "+
					"remove the duplicate \\includegraphics (and its figure environment) and refer to the first one with \\ref instead.",
				name, line, first)})
			continue
		}
		firstLine[key] = line
	}
	return probs
}

func normTitle(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

func checkSections(code string, idx lineIndex) []Problem {
	var probs []Problem
	type seenAt struct {
		line  int
		title string
	}
	sections := map[string]seenAt{}
	var subs map[string]seenAt // titles of (sub)subsections within the current \section
	for _, m := range sectionRe.FindAllStringSubmatchIndex(code, -1) {
		cmd := code[m[2]:m[3]]
		title, _, ok := readBraced(code, m[1]-1)
		if !ok {
			continue
		}
		title = strings.TrimSpace(title)
		line := idx.line(m[0])
		if title == "" {
			continue
		}
		key := normTitle(title)
		if cmd == "section" {
			subs = map[string]seenAt{}
			if prev, ok := sections[key]; ok {
				probs = append(probs, Problem{Kind: KindDuplicateSection, Line: line, Message: fmt.Sprintf(
					"\\section{%s} on line %d repeats the section title used on line %d. Each section must appear once: "+
						"merge the two sections into one, or rename or delete the duplicate.", title, line, prev.line)})
				continue
			}
			sections[key] = seenAt{line, title}
			continue
		}
		if subs == nil {
			subs = map[string]seenAt{}
		}
		k := cmd + ":" + key
		if prev, ok := subs[k]; ok {
			probs = append(probs, Problem{Kind: KindDuplicateSection, Line: line, Message: fmt.Sprintf(
				"\\%s{%s} on line %d repeats the %s title used on line %d within the same section. "+
					"Merge the two parts into one, or rename or delete the duplicate.", cmd, title, line, cmd, prev.line)})
			continue
		}
		subs[k] = seenAt{line, title}
	}
	return probs
}

func checkLabels(code string, idx lineIndex) []Problem {
	var probs []Problem
	first := map[string]int{}
	for _, m := range labelRe.FindAllStringSubmatchIndex(code, -1) {
		key := strings.TrimSpace(code[m[2]:m[3]])
		if key == "" || strings.Contains(key, "#") {
			continue
		}
		line := idx.line(m[0])
		if f, ok := first[key]; ok {
			probs = append(probs, Problem{Kind: KindDuplicateLabel, Line: line, Message: fmt.Sprintf(
				"\\label{%s} on line %d is already defined on line %d. Labels must be unique: rename one of them "+
					"and update the \\ref/\\cref commands that should point to it (or delete the duplicated content).", key, line, f)})
			continue
		}
		first[key] = line
	}
	return probs
}

// writerPlaceholderRe finds the placeholders writers leave in prose: TODO,
// TBD, XXX, "[insert ...]", "[citation needed]", "[add ... here]".
var writerPlaceholderRe = regexp.MustCompile(`\b(TODO|TBD|XXX)\b|\[(?i:insert|add|fill in|citation needed|todo|placeholder)[^\]]*\]`)

func checkPlaceholders(code string) []Problem {
	var probs []Problem
	for i, line := range strings.Split(code, "\n") {
		t := strings.TrimSpace(line)
		phrase := ""
		if placeholderLineRe.MatchString(t) {
			phrase = t
		} else if m := placeholderArgRe.FindStringSubmatch(t); m != nil {
			phrase = m[1]
		} else if m := writerPlaceholderRe.FindString(t); m != "" {
			probs = append(probs, Problem{Kind: KindPlaceholder, Line: i + 1, Message: fmt.Sprintf(
				"Line %d still contains the placeholder %q. Write the real content, or remove the sentence.", i+1, m)})
			continue
		}
		if phrase == "" {
			continue
		}
		probs = append(probs, Problem{Kind: KindPlaceholder, Line: i + 1, Message: fmt.Sprintf(
			"Line %d still contains the template placeholder %q. Replace it with the real content of the paper.", i+1, phrase)})
	}
	return probs
}

func checkEnvironments(code string, idx lineIndex) []Problem {
	type open struct {
		name string
		line int
	}
	var stack []open
	var probs []Problem
	for _, m := range envRe.FindAllStringSubmatchIndex(code, -1) {
		kind := code[m[2]:m[3]]
		name := strings.TrimSpace(code[m[4]:m[5]])
		if strings.Contains(name, "#") {
			continue
		}
		line := idx.line(m[0])
		if kind == "begin" {
			stack = append(stack, open{name, line})
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].name == name {
			stack = stack[:n-1]
			continue
		}
		// Mismatch: is it closing something further down the stack?
		pos := -1
		for i := len(stack) - 1; i >= 0; i-- {
			if stack[i].name == name {
				pos = i
				break
			}
		}
		if pos < 0 {
			probs = append(probs, Problem{Kind: KindEnvironment, Line: line, Message: fmt.Sprintf(
				"\\end{%s} on line %d has no matching \\begin{%s}. Remove it or add the missing \\begin{%s}.", name, line, name, name)})
			continue
		}
		for i := len(stack) - 1; i > pos; i-- {
			o := stack[i]
			probs = append(probs, Problem{Kind: KindEnvironment, Line: o.line, Message: fmt.Sprintf(
				"\\begin{%s} on line %d is not closed before \\end{%s} on line %d. Add \\end{%s} at the right place (before line %d).",
				o.name, o.line, name, line, o.name, line)})
		}
		stack = stack[:pos]
	}
	for _, o := range stack {
		probs = append(probs, Problem{Kind: KindEnvironment, Line: o.line, Message: fmt.Sprintf(
			"\\begin{%s} on line %d is never closed. Add the matching \\end{%s}.", o.name, o.line, o.name)})
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	return probs
}
