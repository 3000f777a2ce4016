// Package editblock parses and applies SEARCH/REPLACE edit blocks written by
// an LLM coder, as used to edit the files of a paper workspace
// (experiment.py, plot.py, notes.txt, latex/template.tex, ...).
//
// A reply from the model contains zero or more blocks of this shape:
//
//	experiment.py
//	```python
//	<<<<<<< SEARCH
//	exact existing lines
//	=======
//	new lines
//	>>>>>>> REPLACE
//	```
//
// The file name stands alone on the line before the opening fence, or as the
// first line inside the fence. It may be decorated with surrounding backticks
// or asterisks, a trailing colon, a leading markdown heading marker or a
// "File:" label (**experiment.py**, `plot.py`:, # notes.txt). It may also
// follow the fence's language (```python experiment.py, ```python:plot.py),
// or stand inside a fence of its own just before the block's fence. A line
// that does not look like a path (prose such as "Next:") is not a file name.
// A block that has no file name of its own inherits the file of the previous
// block. The fence language (python, latex, text, none, ...) is ignored. The
// marker lines are 5 to 9 '<', '=' or '>' characters, followed by SEARCH or
// REPLACE for the first and last marker; surrounding spaces are tolerated.
//
// Fences inside blocks: like aider, the parser is driven by the marker lines
// only. Everything between <<<<<<< SEARCH and ======= (and between ======= and
// >>>>>>> REPLACE) is taken verbatim, including lines that look like code
// fences. So a block may edit a Markdown file or a docstring that contains
// ``` lines, whether the model wrapped the block in a four-backtick fence
// (````markdown ... ````) or, as models often do, in an ordinary three-backtick
// fence whose "closing" ``` is really part of the content: the outer fence is
// only ever looked at to find the file name. (Aider additionally strips a
// fence that wraps a whole SEARCH or REPLACE section; Apply does that only as
// a fallback, when the verbatim SEARCH lines are not found, so that real
// fenced content is never altered.)
//
// Like aider, a second ======= line ends the REPLACE section when no
// >>>>>>> REPLACE line follows before the next block (some models close
// blocks with =======). When a >>>>>>> REPLACE line does follow, the block
// has three sections and Parse reports it instead of silently dropping the
// third one, as aider does.
//
// An empty SEARCH section means "create this file" when it does not exist, or
// "append to it" when it does.
//
// Parse turns a reply into Blocks; Apply applies them to a directory and
// reports what failed, and Result.Feedback phrases the failures as a message
// the model can act on.
package editblock

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Block is one SEARCH/REPLACE edit.
type Block struct {
	// Path is the file the edit applies to, as written by the model
	// (relative to the workspace root; Apply cleans and validates it).
	Path string
	// Search holds the existing lines to find, each terminated by "\n".
	// An empty (or all-blank) Search means create the file or append to it.
	Search string
	// Replace holds the lines that replace Search, each terminated by "\n".
	// An empty Replace deletes the matched lines.
	Replace string
	// Index is the 1-based position of the block in the reply.
	Index int
}

// ParseError reports a malformed block in a reply. Its message is written so
// that it can be sent back to the model verbatim.
type ParseError struct {
	// Block is the 1-based number of the malformed block in the reply.
	Block int
	// Line is the 1-based line of the reply where the problem was noticed.
	Line int
	// Msg says what is wrong and how to fix it.
	Msg string
}

// Error implements the error interface.
func (e *ParseError) Error() string {
	return fmt.Sprintf("SEARCH/REPLACE block %d is malformed (reply line %d): %s", e.Block, e.Line, e.Msg)
}

var (
	searchMarker  = regexp.MustCompile(`^[ \t]*<{5,9}[ \t]*SEARCH[ \t]*$`)
	dividerMarker = regexp.MustCompile(`^[ \t]*={5,9}[ \t]*$`)
	replaceMarker = regexp.MustCompile(`^[ \t]*>{5,9}[ \t]*REPLACE[ \t]*$`)
	fenceLine     = regexp.MustCompile("^[ \t]*(?:```+|~~~+)[ \t]*([^`]*?)[ \t]*$")
	headingPrefix = regexp.MustCompile(`^#+[ \t]*`)
	labelPrefix   = regexp.MustCompile(`(?i)^(?:file|filename|file name|path)[ \t]*:[ \t]*`)
)

const blockShape = "every block must be, on separate lines: <<<<<<< SEARCH, the exact existing lines, =======, the new lines, >>>>>>> REPLACE"

// Parse extracts all SEARCH/REPLACE blocks from an LLM reply, in order.
//
// A reply without any block returns (nil, nil). When a block is malformed
// (a SEARCH without its ======= divider or >>>>>>> REPLACE line, a REPLACE
// line without a SEARCH, a third section after a second =======, or no file
// name at all), Parse returns
// the well-formed blocks that precede it together with a *ParseError naming
// the block number and the problem.
func Parse(reply string) ([]Block, error) {
	// CRLF replies: drop carriage returns at line ends (all of them, since
	// "\r\r\n" also occurs, from converting line endings twice).
	lines := strings.Split(reply, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, "\r")
	}

	var blocks []Block
	current := "" // file of the previous block, inherited by blocks without a name
	floor := 0    // lines before floor belong to earlier blocks
	num := 0      // number of blocks started so far

	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if replaceMarker.MatchString(line) {
			return blocks, &ParseError{Block: num + 1, Line: i + 1,
				Msg: "found a >>>>>>> REPLACE line without a preceding <<<<<<< SEARCH line; " + blockShape}
		}
		if !searchMarker.MatchString(line) {
			continue
		}
		num++
		start := i

		path := findFilename(lines[floor:i])
		if path == "" {
			path = current
		}
		if path == "" {
			return blocks, &ParseError{Block: num, Line: start + 1,
				Msg: "no file name was given; write the file path (for example experiment.py) alone on the line just before the opening ``` fence of the block"}
		}

		// SEARCH section, up to the ======= divider.
		j := i + 1
		var search []string
		for ; j < len(lines); j++ {
			l := lines[j]
			if dividerMarker.MatchString(l) {
				break
			}
			if searchMarker.MatchString(l) || replaceMarker.MatchString(l) {
				return blocks, &ParseError{Block: num, Line: j + 1,
					Msg: "the SEARCH section is not followed by a ======= divider line; " + blockShape}
			}
			search = append(search, l)
		}
		if j >= len(lines) {
			return blocks, &ParseError{Block: num, Line: start + 1,
				Msg: "the reply ended before the ======= divider line of this block; " + blockShape}
		}

		// REPLACE section, up to the >>>>>>> REPLACE marker.
		k := j + 1
		var repl []string
		for ; k < len(lines); k++ {
			l := lines[k]
			if replaceMarker.MatchString(l) {
				break
			}
			if searchMarker.MatchString(l) {
				return blocks, &ParseError{Block: num, Line: k + 1,
					Msg: "the block is missing its closing >>>>>>> REPLACE line (a new <<<<<<< SEARCH started first); " + blockShape}
			}
			if dividerMarker.MatchString(l) {
				if replaceFollows(lines[k+1:]) {
					return blocks, &ParseError{Block: num, Line: k + 1,
						Msg: "the block has more than one ======= divider line; use exactly one between the SEARCH and REPLACE sections"}
				}
				// A ======= used as the closing line (accepted by aider).
				break
			}
			repl = append(repl, l)
		}
		if k >= len(lines) {
			return blocks, &ParseError{Block: num, Line: start + 1,
				Msg: "the block is missing its closing >>>>>>> REPLACE line after the new lines; " + blockShape}
		}

		blocks = append(blocks, Block{
			Path:    path,
			Search:  joinLines(search),
			Replace: joinLines(repl),
			Index:   num,
		})
		current = path
		floor = k + 1
		i = k
	}
	return blocks, nil
}

// replaceFollows reports whether a >>>>>>> REPLACE line comes in lines
// before the next <<<<<<< SEARCH line.
func replaceFollows(lines []string) bool {
	for _, l := range lines {
		switch {
		case replaceMarker.MatchString(l):
			return true
		case searchMarker.MatchString(l):
			return false
		}
	}
	return false
}

// joinLines joins lines with "\n", terminating every line; nil gives "".
func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// maxFenceLines is how many fence lines findFilename looks back through.
const maxFenceLines = 3

// findFilename looks at the lines just before a SEARCH marker (those after the
// previous block) for the block's file name. Going back from the marker and
// skipping blank lines, it passes over up to maxFenceLines fence lines (taking
// a file name from a fence's info string, as in ```python experiment.py) and
// stops at the first other line, which is the file name if it looks like one.
// Looking through several fences handles replies like
//
//	```python
//	experiment.py
//	```
//	```python
//	<<<<<<< SEARCH
//
// which aider also accepts. It returns "" when there is no file name.
func findFilename(seg []string) string {
	fences := 0
	for j := len(seg) - 1; j >= 0; j-- {
		line := seg[j]
		if strings.TrimSpace(line) == "" {
			continue
		}
		m := fenceLine.FindStringSubmatch(line)
		if m == nil {
			name, _ := cleanFilename(line)
			return name
		}
		// The info string may name the file: ```python experiment.py or
		// ```python:experiment.py.
		if f := strings.Fields(m[1]); len(f) > 0 {
			last := f[len(f)-1]
			if name, ok := cleanFilename(last[strings.LastIndexByte(last, ':')+1:]); ok {
				return name
			}
		}
		fences++
		if fences >= maxFenceLines {
			return ""
		}
	}
	return ""
}

// cleanFilename strips decoration (backticks, asterisks, quotes, a trailing
// colon, a markdown heading marker, a "File:" label) from a line and reports
// whether what remains looks like a file path.
func cleanFilename(line string) (string, bool) {
	s := strings.TrimSpace(line)
	for {
		old := s
		s = strings.TrimSpace(s)
		s = headingPrefix.ReplaceAllString(s, "")
		s = labelPrefix.ReplaceAllString(s, "")
		s = strings.TrimSuffix(s, ":")
		s = strings.Trim(s, "*`'\"")
		if s == old {
			break
		}
	}
	if s == "" || len(s) > 255 {
		return "", false
	}
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-./+@~", r) {
			continue
		}
		return "", false
	}
	if !strings.ContainsAny(s, "./") || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "/") {
		return "", false
	}
	if strings.Trim(s, "./") == "" {
		return "", false
	}
	return s, true
}
