package latex

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// LogError is one problem extracted from a TeX or BibTeX log.
//
// Line is the 1-based line the problem refers to (0 when the log does not
// say), in File when File is set (logs written with -file-line-error name the
// file, e.g. "./template.tex" or "./template.bbl") and otherwise normally in
// the main .tex file. Message is the error text (for TeX errors, the text
// after "! "; for warnings, the warning text including its "LaTeX Warning:" /
// "Package natbib Warning:" prefix). Context holds the log's context lines,
// for TeX errors the "l.<n> ..." line followed by the continuation line: TeX
// breaks the source line exactly where it stopped reading.
type LogError struct {
	Line    int
	Message string
	Context string
	File    string
}

// String formats the error as "line N: message" or "file:N: message" when
// the error names a file.
func (e LogError) String() string {
	switch {
	case e.Line > 0 && e.File != "":
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return e.Message
}

// logEntry is a LogError plus whether it is a real error ("!" line) rather
// than a warning.
type logEntry struct {
	LogError
	fatal bool
	pos   int
}

var (
	logLineNumRe = regexp.MustCompile(`^l\.(\d+)(?: (.*))?$`)
	// file:line: message, as printed with -file-line-error.
	fileLineErrRe = regexp.MustCompile(`^(\.{0,2}/?[^\s:()]+\.(?:tex|sty|cls|bbl|aux|def|cfg|clo|ltx|fd|toc)):(\d+): (.+)$`)
	warnCiteRe    = regexp.MustCompile("Citation `([^']*)'(?: on page \\S+)? undefined(?: on input line (\\d+))?")
	warnRefRe     = regexp.MustCompile("Reference `([^']*)'(?: on page \\S+)? undefined(?: on input line (\\d+))?")
	warnFileRe    = regexp.MustCompile("File `([^']*)' not found(?: on input line (\\d+))?")
)

// texWrapWidth is TeX's default max_print_line: log lines of exactly this
// length are continued on the next line.
const texWrapWidth = 79

// ParseLog extracts the problems from a pdflatex log, in log order:
//
//   - every "! ..." error, with Line taken from the following "l.<n>"
//     context line and Context set to that line plus its continuation, and
//     every "file:line: ..." error of -file-line-error logs, with File and
//     Line from its prefix;
//   - "Citation `x' ... undefined", "Reference `x' ... undefined" and
//     "File `x' not found" warnings, with Line from "on input line <n>" when
//     present.
//
// Messages wrapped by TeX at 79 columns are re-joined. Identical warnings are
// reported once.
func ParseLog(log string) []LogError {
	entries := parseLog(log)
	out := make([]LogError, len(entries))
	for i, e := range entries {
		out[i] = e.LogError
	}
	return out
}

func splitLogLines(log string) []string {
	lines := strings.Split(strings.ReplaceAll(log, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, "\r")
	}
	return lines
}

func isContextStart(l string) bool {
	return l == "" || strings.HasPrefix(l, "l.") || strings.HasPrefix(l, "<") ||
		strings.HasPrefix(l, "! ") || strings.HasPrefix(l, "See the ") || strings.HasPrefix(l, "Type ") ||
		strings.HasPrefix(l, " ...")
}

func parseLog(log string) []logEntry {
	lines := splitLogLines(log)
	var entries []logEntry

	// Errors.
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		var msg, file string
		fileLine := 0
		switch {
		case strings.HasPrefix(line, "! "):
			msg = strings.TrimSpace(line[2:])
			if strings.HasPrefix(msg, "==> Fatal error occurred") {
				continue // summary of an error already reported
			}
		case fileLineErrRe.MatchString(line):
			m := fileLineErrRe.FindStringSubmatch(line)
			msg = m[3]
			file = m[1]
			fileLine, _ = strconv.Atoi(m[2])
		default:
			continue
		}
		j := i + 1
		for prev := line; j < len(lines) && len(prev) == texWrapWidth && !isContextStart(lines[j]); j++ {
			msg += lines[j]
			prev = lines[j]
		}
		e := logEntry{LogError: LogError{Message: msg, Line: fileLine, File: file}, fatal: true, pos: i}
		for k := j; k < len(lines) && k < j+40; k++ {
			if strings.HasPrefix(lines[k], "! ") || (k > j && fileLineErrRe.MatchString(lines[k])) {
				break
			}
			m := logLineNumRe.FindStringSubmatch(lines[k])
			if m == nil {
				continue
			}
			n, _ := strconv.Atoi(m[1])
			if e.Line == 0 {
				e.Line = n
			}
			ctx := cleanContext(lines[k])
			if k+1 < len(lines) && strings.TrimSpace(lines[k+1]) != "" {
				ctx += "\n" + cleanContext(lines[k+1])
			}
			e.Context = ctx
			break
		}
		entries = append(entries, e)
	}

	// Warnings, on a copy of the log with TeX's line wrapping undone.
	type joined struct {
		text string
		pos  int
	}
	var js []joined
	for i := 0; i < len(lines); i++ {
		text, start := lines[i], i
		for len(lines[i]) == texWrapWidth && i+1 < len(lines) {
			i++
			text += lines[i]
		}
		js = append(js, joined{text, start})
	}
	seen := map[string]bool{}
	for _, jl := range js {
		if strings.HasPrefix(jl.text, "!") || fileLineErrRe.MatchString(jl.text) {
			continue
		}
		for _, re := range []*regexp.Regexp{warnCiteRe, warnRefRe, warnFileRe} {
			m := re.FindStringSubmatchIndex(jl.text)
			if m == nil {
				continue
			}
			line := 0
			msgEnd := m[1]
			if m[4] >= 0 {
				line, _ = strconv.Atoi(jl.text[m[4]:m[5]])
				msgEnd = strings.LastIndex(jl.text[:m[4]], " on input line")
			}
			msg := strings.TrimSpace(jl.text[:msgEnd])
			key := fmt.Sprintf("%d\x00%s", line, msg)
			if seen[key] {
				break
			}
			seen[key] = true
			entries = append(entries, logEntry{LogError: LogError{Line: line, Message: msg}, pos: jl.pos})
			break
		}
	}
	sort.SliceStable(entries, func(a, b int) bool { return entries[a].pos < entries[b].pos })
	return entries
}

func cleanContext(s string) string {
	return strings.TrimRight(strings.ReplaceAll(s, "^^M", ""), " \t")
}

// CompileError is returned by Compiler.Compile when the document could not be
// compiled cleanly.
//
// Stage names the step that failed: "pdflatex (pass 1)", "bibtex",
// "pdflatex (pass 2)" or "pdflatex (pass 3)". Errors holds the parsed
// problems (BibTeX errors first, then the errors and undefined-reference
// warnings of the failing pdflatex log). LogTail is the end of the failing
// step's log, for problems the parser did not recognise.
//
// When only BibTeX reported errors (Stage "bibtex"), or pdflatex reported
// errors but still wrote a PDF (nonstopmode goes on past most errors: an
// undefined command, a missing figure, a stray $), the PDF was copied to
// the requested output path: see PDFProduced.
type CompileError struct {
	Stage   string
	Errors  []LogError
	LogTail string

	texName    string   // .tex file name, for messages
	source     []string // lines of the .tex source, for Feedback
	pdfWritten bool
}

// Error implements error.
func (e *CompileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "latex: %s failed", e.Stage)
	if len(e.Errors) == 0 {
		b.WriteString(": no PDF produced (see log tail)")
		return b.String()
	}
	b.WriteString(": ")
	b.WriteString(e.Errors[0].String())
	if n := len(e.Errors) - 1; n > 0 {
		fmt.Fprintf(&b, " (and %d more)", n)
	}
	return b.String()
}

// PDFProduced reports whether a PDF was nevertheless produced and copied to
// the output path: a paper built with problems.
func (e *CompileError) PDFProduced() bool { return e.pdfWritten }

// maxFeedbackErrors bounds the number of problems listed by Feedback.
const maxFeedbackErrors = 25

// Feedback returns an LLM-facing summary of the failure: each problem with
// its line number, message, the offending line of the .tex source (when the
// source is known) and TeX's own context showing where it stopped. When no
// problem could be parsed the log tail is included instead.
func (e *CompileError) Feedback() string {
	var b strings.Builder
	name := e.texName
	if name == "" {
		name = "the .tex file"
	}
	if e.Stage == "bibtex" && e.pdfWritten {
		fmt.Fprintf(&b, "BibTeX reported errors in the bibliography of %s (a PDF was produced, but citations may be missing or wrong). "+
			"Fix the BibTeX entries inside the filecontents references.bib block:\n", name)
	} else {
		fmt.Fprintf(&b, "LaTeX compilation of %s failed at stage %s. Fix the following problems (line numbers refer to %s):\n", name, e.Stage, name)
	}
	if len(e.Errors) == 0 {
		b.WriteString("No specific error message could be extracted. End of the log:\n")
		b.WriteString(e.LogTail)
		if !strings.HasSuffix(e.LogTail, "\n") {
			b.WriteByte('\n')
		}
		return b.String()
	}
	for i, le := range e.Errors {
		if i == maxFeedbackErrors {
			fmt.Fprintf(&b, "... and %d more problems.\n", len(e.Errors)-i)
			break
		}
		inMain := le.File == "" || filepath.Base(le.File) == name
		switch {
		case le.Line > 0 && inMain:
			fmt.Fprintf(&b, "%d. Line %d: %s\n", i+1, le.Line, le.Message)
		case le.Line > 0:
			fmt.Fprintf(&b, "%d. %s line %d: %s\n", i+1, filepath.Base(le.File), le.Line, le.Message)
		default:
			fmt.Fprintf(&b, "%d. %s\n", i+1, le.Message)
		}
		if !inMain && strings.HasSuffix(le.File, ".bbl") {
			b.WriteString("   (The .bbl file is generated by BibTeX from the references.bib block; fix the BibTeX entries there.)\n")
		}
		if inMain && le.Line > 0 && le.Line <= len(e.source) {
			fmt.Fprintf(&b, "   Source line %d: %s\n", le.Line, strings.TrimRight(e.source[le.Line-1], " \t\r"))
		}
		if le.Context != "" {
			ctx := strings.Split(le.Context, "\n")
			if strings.HasPrefix(ctx[0], "l.") && len(ctx) == 2 {
				// TeX prints the line broken where it stopped reading.
				fmt.Fprintf(&b, "   TeX stopped reading here: %s <<HERE>> %s\n", ctx[0], strings.TrimSpace(ctx[1]))
			} else {
				for _, c := range ctx {
					if strings.TrimSpace(c) != "" {
						fmt.Fprintf(&b, "   | %s\n", c)
					}
				}
			}
		}
	}
	return b.String()
}

// bibtexFileLineRe matches "<message>---line <n> of file <file>".
var bibtexFileLineRe = regexp.MustCompile(`^(.*)---line (\d+) of file (.+)$`)

// bibtexWhileRe matches "<message>---while reading file <file>".
var bibtexWhileRe = regexp.MustCompile(`^(.*)---while reading file (.+)$`)

// parseBibtex extracts the error messages (not warnings) from bibtex output.
// Locations in a .bib file written by one of tex's filecontents blocks are
// mapped back to lines of tex; genBib maps a .bib name to the generated file's
// content (used to count the header lines filecontents adds).
func parseBibtex(out, tex, texName string, genBib func(name string) string) []LogError {
	lines := splitLogLines(out)
	var errs []LogError
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "Warning--") || strings.HasPrefix(l, "(There w") || strings.TrimSpace(l) == "" {
			continue
		}
		if m := bibtexWhileRe.FindStringSubmatch(l); m != nil {
			if strings.Contains(m[1], `I found no \citation commands`) {
				continue // a document without citations is not an error
			}
			errs = append(errs, LogError{Message: fmt.Sprintf("BibTeX error: %s (while reading %s)", m[1], m[2])})
			continue
		}
		msg := l
		var m []string
		if m = bibtexFileLineRe.FindStringSubmatch(l); m != nil {
			msg = m[1]
		} else if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "---line ") {
			m = bibtexFileLineRe.FindStringSubmatch(l + lines[i+1])
			i++
		}
		if m == nil {
			if strings.HasPrefix(l, "I couldn't open") || strings.HasPrefix(l, "I found no") || strings.HasPrefix(l, "Illegal") {
				errs = append(errs, LogError{Message: "BibTeX error: " + l})
			}
			continue
		}
		bibLine, _ := strconv.Atoi(m[2])
		file := m[3]
		e := LogError{}
		var ctx []string
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], " : ") {
			i++
			ctx = append(ctx, strings.TrimRight(lines[i][3:], " "))
		}
		var notes []string
		for i+1 < len(lines) && (strings.HasPrefix(lines[i+1], "(Error may have been") || strings.HasPrefix(lines[i+1], "I'm skipping")) {
			i++
			notes = append(notes, lines[i])
		}
		where := fmt.Sprintf("%s line %d", file, bibLine)
		if texLine := mapBibLine(tex, file, bibLine, genBib); texLine > 0 {
			e.Line = texLine
			where += fmt.Sprintf(", i.e. %s line %d", texName, texLine)
		}
		e.Message = fmt.Sprintf("BibTeX error: %s (%s)", msg, where)
		if len(notes) > 0 {
			e.Message += ". " + strings.Join(notes, " ")
		}
		e.Context = strings.Join(ctx, "\n")
		errs = append(errs, e)
	}
	return errs
}

// mapBibLine converts a line of a .bib file written by a filecontents block
// into the corresponding line of tex, or 0 when the file does not come from
// tex. The non-star filecontents environment prepends "%%" header lines to
// the file; they are counted from the generated file when available.
func mapBibLine(tex, file string, bibLine int, genBib func(string) string) int {
	base := file
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	for _, b := range findFilecontents(tex) {
		if b.name != base && b.name+".bib" != base {
			continue
		}
		header := 0
		if b.env == "filecontents" && genBib != nil {
			header = leadingPercentLines(genBib(base)) - leadingPercentLines(tex[b.start:b.end])
			if header < 0 {
				header = 0
			}
		}
		n := bibLine - header
		if n < 1 {
			return 0
		}
		return b.beginLine + n
	}
	return 0
}

func leadingPercentLines(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "%%") {
			break
		}
		n++
	}
	return n
}
