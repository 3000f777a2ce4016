package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var fencedJSON = regexp.MustCompile("(?s)```(?:json|JSON|jsonc|json5)?[ \t]*\\n(.*?)\\n?```")

// ErrNoJSON means a reply held nothing that parses as JSON, even repaired.
// The error returned with it says why, with a position, in words meant for
// the model.
var ErrNoJSON = errors.New("no parsable JSON in the reply")

// JSONError is ErrNoJSON with the reason: the first candidate's syntax
// error, located in the reply, or that the reply has no JSON at all.
type JSONError struct {
	Reason string
}

func (e *JSONError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrNoJSON) hold.
func (e *JSONError) Is(target error) bool { return target == ErrNoJSON }

// ExtractJSON returns the JSON text of a reply: the first fenced block that
// parses, else the first balanced object or array that parses, each tried
// as written and then repaired. Models wrap JSON in prose and fences
// unpredictably, and write JSON with the habits of JavaScript, Python and
// LaTeX, so the repairs keep what the model meant:
//   - raw control characters inside strings are escaped (a newline typed in
//     a field), outside them dropped, with byte-order marks;
//   - trailing commas and // or /* */ comments are dropped;
//   - single-quoted strings, True, False and None become JSON;
//   - NaN and Infinity (as Python writes them) become the strings "NaN" and
//     "Infinity", so a reader can tell them from a number;
//   - a backslash that starts no JSON escape (\alpha, \%, \_) is kept as a
//     backslash, and so is one that starts a LaTeX command JSON would read
//     as an escape (\beta, \frac, \theta, \nabla, \rho): LaTeX inside strings
//     stays as written, in valid JSON too;
//   - a double quote inside a string that does not end it ("the "best"
//     run") is escaped.
//
// The result always parses. When nothing does, the error (a *JSONError,
// matching ErrNoJSON) gives the first candidate's real syntax error with
// its line and column in the reply.
func ExtractJSON(reply string) (string, error) {
	return extract(reply, false)
}

// ExtractJSONObject is ExtractJSON for replies that must hold one object:
// arrays are not taken (so a list inside a broken object is never mistaken
// for the answer), except a list of exactly one object, which is unwrapped.
func ExtractJSONObject(reply string) (string, error) {
	return extract(reply, true)
}

// ExtractJSONAfter is ExtractJSON on the text after the last occurrence of
// marker (e.g. "NEW IDEA JSON:"), falling back to the whole reply.
func ExtractJSONAfter(reply, marker string) (string, error) {
	return after(reply, marker, ExtractJSON)
}

// ExtractJSONObjectAfter is ExtractJSONObject after the marker, falling
// back to the whole reply; the error is the one after the marker.
func ExtractJSONObjectAfter(reply, marker string) (string, error) {
	return after(reply, marker, ExtractJSONObject)
}

func after(reply, marker string, extract func(string) (string, error)) (string, error) {
	i := strings.LastIndex(reply, marker)
	if i < 0 {
		return extract(reply)
	}
	s, err := extract(reply[i+len(marker):])
	if err == nil {
		return s, nil
	}
	if s, err2 := extract(reply); err2 == nil {
		return s, nil
	}
	var je *JSONError
	if errors.As(err, &je) {
		// Locate it in the whole reply, not in the text after the marker.
		line := strings.Count(reply[:i+len(marker)], "\n")
		return "", &JSONError{Reason: shiftLines(je.Reason, line) + " (after " + marker + ")"}
	}
	return "", err
}

var lineRef = regexp.MustCompile(`line (\d+)`)

// shiftLines adds n to every "line N" in s.
func shiftLines(s string, n int) string {
	return lineRef.ReplaceAllStringFunc(s, func(m string) string {
		var k int
		fmt.Sscanf(m, "line %d", &k)
		return fmt.Sprintf("line %d", k+n)
	})
}

// candidate is a span of the reply that may be the JSON.
type candidate struct {
	text  string
	start int // offset in the reply
}

func extract(reply string, objectOnly bool) (string, error) {
	var cands []candidate
	for _, m := range fencedJSON.FindAllStringSubmatchIndex(reply, -1) {
		body := reply[m[2]:m[3]]
		trimmed := strings.TrimLeft(body, " \t\r\n")
		cands = append(cands, candidate{strings.TrimSpace(body), m[2] + len(body) - len(trimmed)})
	}
	unclosed := -1
	for i := 0; i < len(reply); i++ {
		if reply[i] != '{' && reply[i] != '[' {
			continue
		}
		if objectOnly && reply[i] == '[' && !startsObjectList(reply[i:]) {
			continue
		}
		end := balancedEnd(reply, i)
		if end < 0 {
			if unclosed < 0 {
				unclosed = i
			}
			continue
		}
		cands = append(cands, candidate{reply[i:end], i})
	}
	for _, c := range cands {
		if s, ok := parse(c.text, objectOnly); ok {
			return s, nil
		}
	}
	return "", explain(reply, cands, unclosed, objectOnly)
}

// startsObjectList: s starts "[" then, after spaces, "{".
func startsObjectList(s string) bool {
	t := strings.TrimLeft(s[1:], " \t\r\n")
	return strings.HasPrefix(t, "{")
}

// parse returns c as valid JSON: as written (LaTeX commands that read as
// escapes kept as LaTeX), else repaired; false when neither parses or,
// for objectOnly, when it is not an object (a list of one object is
// unwrapped).
func parse(c string, objectOnly bool) (string, bool) {
	for _, s := range []string{keepLaTeX(c), repair(c)} {
		if !json.Valid([]byte(s)) {
			continue
		}
		if !objectOnly {
			return s, true
		}
		if o, ok := asObject(s); ok {
			return o, true
		}
	}
	return "", false
}

// asObject is s when it is a JSON object, or the object inside a list of
// exactly one.
func asObject(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") {
		return s, true
	}
	var list []json.RawMessage
	if json.Unmarshal([]byte(t), &list) == nil && len(list) == 1 {
		if o := strings.TrimSpace(string(list[0])); strings.HasPrefix(o, "{") {
			return o, true
		}
	}
	return "", false
}

// explain says why no candidate parsed: the first candidate's syntax error
// with its place in the reply, a JSON that never closes, or no JSON at all.
func explain(reply string, cands []candidate, unclosed int, objectOnly bool) error {
	if len(cands) == 0 {
		if unclosed >= 0 {
			l, col := position(reply, unclosed)
			return &JSONError{Reason: fmt.Sprintf("the JSON starting at line %d, column %d is never closed (a } or ] is missing; was the reply cut off?)", l, col)}
		}
		if objectOnly {
			return &JSONError{Reason: "the reply holds no JSON object ({...})"}
		}
		return &JSONError{Reason: "the reply holds no JSON"}
	}
	c := cands[0]
	fixed := repair(c.text)
	var v any
	err := json.Unmarshal([]byte(fixed), &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Report the place in what the model wrote: the same error on its
		// own text, when that is where it lies.
		var orig any
		if oerr := json.Unmarshal([]byte(c.text), &orig); errors.As(oerr, &se) {
			off := c.start + int(se.Offset) // just after the offending byte
			l, col := position(reply, max(off-1, c.start))
			return &JSONError{Reason: fmt.Sprintf("the JSON at line %d, column %d does not parse: %s, near %q", l, col, se.Error(), near(reply, off))}
		}
	}
	l, col := position(reply, c.start)
	if err != nil {
		return &JSONError{Reason: fmt.Sprintf("the JSON starting at line %d, column %d does not parse: %v", l, col, err)}
	}
	return &JSONError{Reason: fmt.Sprintf("the JSON starting at line %d, column %d is not an object ({...}); send the whole answer as one JSON object", l, col)}
}

// position is the 1-based line and column of byte offset off in s.
func position(s string, off int) (line, col int) {
	if off > len(s) {
		off = len(s)
	}
	line = 1 + strings.Count(s[:off], "\n")
	col = off - strings.LastIndex(s[:off], "\n")
	return line, col
}

// near is up to 30 bytes of s's line before off, where a syntax error
// shows.
func near(s string, off int) string {
	if off > len(s) {
		off = len(s)
	}
	from := max(off-30, strings.LastIndex(s[:off], "\n")+1)
	return s[from:off]
}

// latexAfterEscape are LaTeX commands whose first letter makes a valid JSON
// escape (\b \f \n \r \t): written in a JSON string, \beta would decode to
// a backspace and "eta". A backslash followed by exactly one of these words
// is taken as LaTeX.
var latexAfterEscape = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`beta bar bf begin bm boldsymbol big bigl bigr Big bigg binom bot bullet backslash
		bibliography bibitem boxed bmod
		frac forall footnote flat frown footnotesize fbox
		nabla neq ne nu not newline noindent nolimits nonumber notin ni neg newcommand
		rho right rightarrow Rightarrow rangle rceil rfloor rm ref rbrace rvert rVert
		theta tau times text textbf textit texttt textrm textsc textsf textwidth tilde top to tfrac tanh tt triangle textsuperscript textsubscript tiny`) {
		latexAfterEscape[w] = true
	}
}

// latexAt reports whether s[i:] (just after a backslash) is one of those
// LaTeX commands: the letters up to the next non-letter form a listed word.
func latexAt(s string, i int) bool {
	j := i
	for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
		j++
	}
	return j > i+1 && latexAfterEscape[s[i:j]]
}

// keepLaTeX doubles the backslash of LaTeX commands that valid JSON would
// read as escapes; anything else stays as it is.
func keepLaTeX(s string) string {
	var b strings.Builder
	inStr, changed := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !inStr {
			if c == '"' {
				inStr = true
			}
			b.WriteByte(c)
			continue
		}
		switch c {
		case '"':
			inStr = false
		case '\\':
			if i+1 < len(s) && strings.IndexByte("bfnrt", s[i+1]) >= 0 && latexAt(s, i+1) {
				b.WriteString(`\\`)
				changed = true
				continue
			}
			b.WriteByte(c)
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(c)
	}
	if !changed {
		return s
	}
	return b.String()
}

// utf8BOM is the byte-order mark some tools put before JSON; parsers refuse it.
const utf8BOM = "\uFEFF"

// repair rewrites s, token by token, into the JSON the model meant (see
// ExtractJSON). It never fails; the caller checks that the result parses.
func repair(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	var quote byte // the open string's quote, 0 outside strings
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			switch {
			case c == '\\':
				i = repairEscape(&b, s, i, quote)
			case c == quote && (quote == '\'' || closesString(s, i+1)):
				b.WriteByte('"')
				quote = 0
			case c == '"': // inside a single-quoted string, or an inner quote
				b.WriteString(`\"`)
			case c < 0x20:
				b.WriteString(controlEscape(c))
			default:
				b.WriteByte(c)
			}
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], utf8BOM):
			i += len(utf8BOM) - 1
		case c == '"' || c == '\'':
			quote = c
			b.WriteByte('"')
		case strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
			i-- // keep the newline
		case strings.HasPrefix(s[i:], "/*"):
			if end := strings.Index(s[i+2:], "*/"); end >= 0 {
				i += end + 3
			} else {
				i = len(s)
			}
		case c == ',' && closesNext(s, i+1):
			// a trailing comma: dropped
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			// a stray control character: dropped
		case isWordStart(c):
			j := i
			for j < len(s) && (isWordStart(s[j]) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			b.WriteString(bareWord(s[i:j]))
			i = j - 1
		case c == '-' && strings.HasPrefix(s[i+1:], "Infinity"):
			b.WriteString(`"-Infinity"`)
			i += len("-Infinity") - 1
		case c == '-' && strings.HasPrefix(s[i+1:], "inf") && !isWordStart(byteAt(s, i+4)):
			b.WriteString(`"-Infinity"`)
			i += len("-inf") - 1
		default:
			b.WriteByte(c)
		}
	}
	if quote != 0 {
		b.WriteByte('"') // never closed: let the parser say where
	}
	return b.String()
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func isWordStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

// bareWord is the JSON for an unquoted word: Python's literals and
// non-finite numbers become JSON; anything else stays for the parser to
// report.
func bareWord(w string) string {
	switch w {
	case "True":
		return "true"
	case "False":
		return "false"
	case "None":
		return "null"
	case "NaN", "nan":
		return `"NaN"`
	case "Infinity", "inf":
		return `"Infinity"`
	}
	return w
}

// closesString: after a double quote inside a string, the rest (spaces
// skipped) shows the quote ends it: a comma, colon, closing bracket, line
// end or the end. Otherwise it is a quote inside the text.
func closesString(s string, i int) bool {
	for ; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r':
			continue
		case ',', ':', '}', ']', '\n':
			return true
		}
		return strings.HasPrefix(s[i:], "//") || strings.HasPrefix(s[i:], "/*")
	}
	return true
}

// closesNext: only whitespace and comments stand between here and a
// closing bracket.
func closesNext(s string, i int) bool {
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n':
			i++
		case strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return false
			}
			i += end + 4
		default:
			return s[i] == '}' || s[i] == ']'
		}
	}
	return false
}

// repairEscape writes the escape starting with the backslash at s[i] and
// returns the index of its last byte.
func repairEscape(b *strings.Builder, s string, i int, quote byte) int {
	if i+1 >= len(s) {
		b.WriteString(`\\`)
		return i
	}
	n := s[i+1]
	switch {
	case n == '"' || n == '\\' || n == '/':
		b.WriteByte('\\')
		b.WriteByte(n)
	case n == '\'' && quote == '\'':
		b.WriteByte('\'')
	case strings.IndexByte("bfnrt", n) >= 0 && !latexAt(s, i+1):
		b.WriteByte('\\')
		b.WriteByte(n)
	case n == 'u' && isHex4(s, i+2):
		b.WriteString(s[i : i+6])
		return i + 5
	case n < 0x20:
		// a backslash then a raw newline: a line break
		b.WriteString(controlEscape(n))
	default:
		// No JSON escape (\alpha, \%, \_, \underline) or a LaTeX command
		// read as one (\beta): the backslash is the model's, kept.
		b.WriteString(`\\`)
		return i
	}
	return i + 1
}

func isHex4(s string, i int) bool {
	if i+4 > len(s) {
		return false
	}
	for _, c := range []byte(s[i : i+4]) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// controlEscape is the JSON escape of control character c.
func controlEscape(c byte) string {
	switch c {
	case '\n':
		return `\n`
	case '\t':
		return `\t`
	}
	return fmt.Sprintf(`\u%04x`, c)
}

// balancedEnd returns the index after the bracket closing the one at start,
// respecting double-quoted strings, or -1.
func balancedEnd(s string, start int) int {
	depth := 0
	inStr, esc := false, false
	for i := start; i < len(s); i++ {
		c := s[i]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}
