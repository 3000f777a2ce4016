// Package latex checks, compiles and inspects the LaTeX papers written by the
// automated researcher.
//
// A paper lives in a folder <paper>/ whose latex/ sub-folder holds the main
// .tex file (conventionally template.tex). The .tex embeds its bibliography in
// a \begin{filecontents}{references.bib} ... \end{filecontents} block and uses
// \graphicspath{{../}} so that figures are read from <paper>/ itself.
//
// The package offers three layers:
//
//   - static analysis of the source (BibKeys, CiteKeys, AddBibEntries, Check),
//   - running the TeX tool chain (Chktex, Compiler.Compile) and turning the
//     logs into precise, LLM-readable feedback (ParseLog, CompileError),
//   - inspecting the produced PDF (PDFText, PDFPages).
//
// Everything uses only the Go standard library plus the external binaries
// pdflatex, bibtex, chktex, pdftotext and pdfinfo.
package latex

import (
	"regexp"
	"sort"
	"strings"
)

// fcBlock is one \begin{filecontents}{name} ... \end{filecontents} block of a
// .tex source.
type fcBlock struct {
	env       string // "filecontents" or "filecontents*"
	name      string // file name argument, e.g. "references.bib"
	start     int    // byte offset of the first content byte
	end       int    // byte offset just past the content (start of the \end line)
	endCmd    int    // byte offset of the `\end{...}` command itself
	beginLine int    // 1-based line number of the \begin line
}

var fcBeginRe = regexp.MustCompile(`\\begin\s*\{(filecontents\*?)\}\s*(?:\[[^\]]*\]\s*)?\{([^}]*)\}`)

// findFilecontents returns the filecontents blocks of tex in order of
// appearance. Blocks whose \begin is commented out are ignored; a block with no
// matching \end extends to the end of the source.
func findFilecontents(tex string) []fcBlock {
	var blocks []fcBlock
	pos := 0
	for pos < len(tex) {
		loc := fcBeginRe.FindStringSubmatchIndex(tex[pos:])
		if loc == nil {
			break
		}
		bStart, bEnd := pos+loc[0], pos+loc[1]
		env := tex[pos+loc[2] : pos+loc[3]]
		name := strings.TrimSpace(tex[pos+loc[4] : pos+loc[5]])
		lineStart := strings.LastIndexByte(tex[:bStart], '\n') + 1
		if commentStart(tex[lineStart:bStart]) >= 0 {
			pos = bEnd
			continue
		}
		// Content starts on the line after \begin{filecontents}{...}.
		start := len(tex)
		if nl := strings.IndexByte(tex[bEnd:], '\n'); nl >= 0 {
			start = bEnd + nl + 1
		}
		endTok := `\end{` + env + `}`
		end, endCmd := len(tex), len(tex)
		if i := strings.Index(tex[start:], endTok); i >= 0 {
			endCmd = start + i
			end = endCmd
			ls := strings.LastIndexByte(tex[:endCmd], '\n') + 1
			if ls >= start && strings.TrimSpace(tex[ls:endCmd]) == "" {
				end = ls
			}
		}
		blocks = append(blocks, fcBlock{
			env:       env,
			name:      name,
			start:     start,
			end:       end,
			endCmd:    endCmd,
			beginLine: strings.Count(tex[:bStart], "\n") + 1,
		})
		pos = endCmd
		if pos < bEnd {
			pos = bEnd
		}
	}
	return blocks
}

// bibBlocks returns the filecontents blocks that write a .bib file.
func bibBlocks(tex string) []fcBlock {
	var out []fcBlock
	for _, b := range findFilecontents(tex) {
		if strings.HasSuffix(strings.ToLower(b.name), ".bib") {
			out = append(out, b)
		}
	}
	return out
}

// mainBibBlock returns the block named references.bib, or else the first
// block writing any .bib file.
func mainBibBlock(tex string) (fcBlock, bool) {
	blocks := bibBlocks(tex)
	for _, b := range blocks {
		if b.name == "references.bib" {
			return b, true
		}
	}
	if len(blocks) > 0 {
		return blocks[0], true
	}
	return fcBlock{}, false
}

// bibEntryRe matches the head of a BibTeX entry: @type{key, or @type(key,
var bibEntryRe = regexp.MustCompile(`@\s*([A-Za-z]+)\s*[{(]\s*([^\s,{}()"#%'=]+)\s*,`)

// bibEntryStartRe matches the start of any @-item, including @string etc.
var bibEntryStartRe = regexp.MustCompile(`@\s*([A-Za-z]+)\s*[{(]`)

func isBibMetaType(t string) bool {
	switch strings.ToLower(t) {
	case "comment", "string", "preamble":
		return true
	}
	return false
}

// bibKeysIn returns the entry keys of BibTeX text, unique, in order.
func bibKeysIn(bib string) []string {
	var keys []string
	seen := map[string]bool{}
	for _, m := range bibEntryRe.FindAllStringSubmatch(bib, -1) {
		if isBibMetaType(m[1]) {
			continue
		}
		if !seen[m[2]] {
			seen[m[2]] = true
			keys = append(keys, m[2])
		}
	}
	return keys
}

// BibKeys returns the keys of the BibTeX entries written by the document's
// filecontents blocks for .bib files (normally the single
// \begin{filecontents}{references.bib} block), unique and in order of
// appearance. @string, @preamble and @comment items are not entries and are
// skipped. It returns nil when the document has no such block.
func BibKeys(tex string) []string {
	var all []string
	seen := map[string]bool{}
	for _, b := range bibBlocks(tex) {
		for _, k := range bibKeysIn(tex[b.start:b.end]) {
			if !seen[k] {
				seen[k] = true
				all = append(all, k)
			}
		}
	}
	return all
}

// citeRe matches citation commands of natbib, plain LaTeX and biblatex with
// up to two optional arguments; group 1 is the comma-separated key list.
var citeRe = regexp.MustCompile(`\\(?:[cC]ite(?:p|t|alp|alt|author|year|yearpar|num)?|nocite|[pP]arencite|[tT]extcite|[aA]utocite|footcite|fullcite|[sS]martcite|supercite)\*?\s*(?:\[[^\]]*\]\s*){0,2}\{([^}]*)\}`)

type occurrence struct {
	value string
	line  int
}

// citeOccurrences returns every cited key with the line it appears on,
// ignoring comments and verbatim-like blocks.
func citeOccurrences(tex string) []occurrence {
	code := codeText(tex)
	idx := newLineIndex(code)
	var out []occurrence
	for _, m := range citeRe.FindAllStringSubmatchIndex(code, -1) {
		line := idx.line(m[0])
		for _, k := range strings.Split(code[m[2]:m[3]], ",") {
			k = strings.TrimSpace(k)
			if k == "" || k == "*" {
				continue
			}
			out = append(out, occurrence{k, line})
		}
	}
	return out
}

// CiteKeys returns the citation keys used by \cite, \citep, \citet,
// \citealp, \citealt, \citeauthor, \citeyear, \nocite (and the biblatex
// \parencite/\textcite/\autocite family), unique and in order of first use.
// Comma-separated key lists, optional [..] arguments and starred forms are
// understood; commented-out text (after an unescaped %), verbatim-like
// environments and the filecontents bibliography are ignored, as is
// \nocite{*}.
func CiteKeys(tex string) []string {
	var keys []string
	seen := map[string]bool{}
	for _, o := range citeOccurrences(tex) {
		if !seen[o.value] {
			seen[o.value] = true
			keys = append(keys, o.value)
		}
	}
	return keys
}

// commentStart returns the byte index of the first unescaped % in line, or -1.
// A % preceded by an odd number of backslashes (\%) is literal; \\% starts a
// comment. The delimited argument of \verb is skipped.
func commentStart(line string) int {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			if strings.HasPrefix(line[i:], `\verb`) && i+5 < len(line) {
				j := i + 5
				if line[j] == '*' {
					j++
				}
				if j < len(line) && !isLetter(line[j]) {
					delim := line[j]
					if k := strings.IndexByte(line[j+1:], delim); k >= 0 {
						i = j + 1 + k
						continue
					}
				}
			}
			i++ // skip the escaped character
		case '%':
			return i
		}
	}
	return -1
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// rawEnvs are environments whose bodies are not LaTeX code.
var rawEnvs = map[string]bool{
	"filecontents": true, "filecontents*": true,
	"verbatim": true, "verbatim*": true, "Verbatim": true, "BVerbatim": true,
	"lstlisting": true, "minted": true, "comment": true,
}

var beginRe = regexp.MustCompile(`\\begin\s*\{([^}]*)\}`)

// codeText returns tex with comments removed and the bodies of raw
// environments (filecontents, verbatim, lstlisting, ...) blanked. The result
// has exactly the same number of lines as tex, so offsets map to the same line
// numbers. The \begin and \end lines of raw environments are kept.
func codeText(tex string) string {
	lines := strings.Split(tex, "\n")
	out := make([]string, len(lines))
	inRaw := ""
	for i, line := range lines {
		var b strings.Builder
		rest := line
		for {
			if inRaw != "" {
				endTok := `\end{` + inRaw + `}`
				j := strings.Index(rest, endTok)
				if j < 0 {
					rest = ""
					break
				}
				b.WriteString(strings.Repeat(" ", j)) // keep columns
				rest = rest[j:]
				inRaw = ""
			}
			if c := commentStart(rest); c >= 0 {
				rest = rest[:c]
			}
			raw := ""
			cut := len(rest)
			for _, m := range beginRe.FindAllStringSubmatchIndex(rest, -1) {
				name := strings.TrimSpace(rest[m[2]:m[3]])
				if rawEnvs[name] {
					raw = name
					cut = m[1]
					break
				}
			}
			if raw == "" {
				b.WriteString(rest)
				break
			}
			// Keep the rest of a filecontents line (its file-name argument);
			// for other raw environments the rest of the line is body text,
			// but keeping it is harmless for the checks we run.
			b.WriteString(rest[:cut])
			rest = rest[cut:]
			inRaw = raw
			if !strings.Contains(rest, `\end{`+raw+`}`) {
				b.WriteString(rest)
				break
			}
		}
		out[i] = b.String()
	}
	return strings.Join(out, "\n")
}

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int

func newLineIndex(s string) lineIndex {
	idx := lineIndex{0}
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (l lineIndex) line(off int) int {
	return sort.Search(len(l), func(i int) bool { return l[i] > off })
}

// readBraced returns the content of the balanced brace group starting at
// s[i] == '{' and the index just past its closing brace.
func readBraced(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '{' {
		return "", i, false
	}
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return s[i+1 : j], j + 1, true
			}
		}
	}
	return "", i, false
}

// AddBibEntries appends BibTeX entries to the references.bib filecontents
// block of tex (or the first filecontents block writing a .bib file) just
// before its \end{filecontents}. Each element of entries is BibTeX text; an
// element holding several entries is split into them. Entries whose key
// already exists in the block (compared case-insensitively, as BibTeX does)
// or that repeat an earlier entry of the same call are skipped. It returns the
// updated source and the keys actually added. An error is returned when the
// document has no filecontents .bib block or an entry has no recognisable key;
// the source is then returned unchanged.
func AddBibEntries(tex string, entries []string) (string, []string, error) {
	block, ok := mainBibBlock(tex)
	if !ok {
		return tex, nil, errNoBibBlock
	}
	existing := map[string]bool{}
	for _, k := range bibKeysIn(tex[block.start:block.end]) {
		existing[strings.ToLower(k)] = true
	}
	var added []string
	var chunks []string
	for _, e := range entries {
		parts, err := splitBibEntries(e)
		if err != nil {
			return tex, nil, err
		}
		for _, p := range parts {
			if p.key == "" {
				// @string/@preamble: add only if not already present verbatim.
				if !strings.Contains(tex[block.start:block.end], p.text) {
					chunks = append(chunks, p.text)
				}
				continue
			}
			lk := strings.ToLower(p.key)
			if existing[lk] {
				continue
			}
			existing[lk] = true
			added = append(added, p.key)
			chunks = append(chunks, p.text)
		}
	}
	if len(chunks) == 0 {
		return tex, added, nil
	}
	var b strings.Builder
	b.WriteString(tex[:block.end])
	if block.end > block.start && tex[block.end-1] != '\n' {
		b.WriteByte('\n')
	}
	for _, c := range chunks {
		b.WriteString("\n")
		b.WriteString(c)
		b.WriteString("\n")
	}
	if block.end < len(tex) && tex[block.end-1] != '\n' {
		// \end{filecontents} was not at the start of its line.
		b.WriteByte('\n')
	}
	b.WriteString(tex[block.end:])
	return b.String(), added, nil
}

type bibPart struct {
	key  string // empty for @string/@preamble
	text string
}

// splitBibEntries splits BibTeX text into its @-items.
func splitBibEntries(s string) ([]bibPart, error) {
	locs := bibEntryStartRe.FindAllStringSubmatchIndex(s, -1)
	if len(locs) == 0 {
		return nil, &bibEntryError{text: s}
	}
	var parts []bibPart
	for i, loc := range locs {
		end := len(s)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		text := strings.TrimSpace(s[loc[0]:end])
		typ := s[loc[2]:loc[3]]
		if strings.EqualFold(typ, "comment") {
			continue
		}
		if isBibMetaType(typ) {
			parts = append(parts, bibPart{text: text})
			continue
		}
		m := bibEntryRe.FindStringSubmatch(text)
		if m == nil || !strings.HasPrefix(text, m[0]) {
			return nil, &bibEntryError{text: text}
		}
		parts = append(parts, bibPart{key: m[2], text: text})
	}
	return parts, nil
}
