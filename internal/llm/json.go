package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var fencedJSON = regexp.MustCompile("(?s)```(?:json|JSON)?\\s*\\n(.*?)\\n?```")

// ErrNoJSON means a reply held nothing that parses as JSON.
var ErrNoJSON = errors.New("no parsable JSON in the reply")

// ExtractJSON returns the JSON text of a reply: the first fenced block that
// parses, else the first balanced object or array that parses. Models wrap
// JSON in prose and fences unpredictably, so every candidate is tried. A
// candidate that fails only for raw control characters (a newline typed
// inside a string, a stray NUL, a byte-order mark) counts, and is returned
// repaired so that it always parses.
func ExtractJSON(reply string) (string, error) {
	for _, m := range fencedJSON.FindAllStringSubmatch(reply, -1) {
		if c, ok := parsable(strings.TrimSpace(m[1])); ok {
			return c, nil
		}
	}
	for i := 0; i < len(reply); i++ {
		if reply[i] != '{' && reply[i] != '[' {
			continue
		}
		if end := balancedEnd(reply, i); end > 0 {
			if c, ok := parsable(reply[i:end]); ok {
				return c, nil
			}
		}
	}
	return "", ErrNoJSON
}

// parsable returns c if it is valid JSON, else c with its control characters
// repaired if that is.
func parsable(c string) (string, bool) {
	if json.Valid([]byte(c)) {
		return c, true
	}
	if r, changed := repairControls(c); changed && json.Valid([]byte(r)) {
		return r, true
	}
	return "", false
}

// utf8BOM is the byte-order mark some tools put before JSON; parsers refuse it.
const utf8BOM = "\uFEFF"

// repairControls escapes the raw control characters (U+0000 to U+001F) that
// JSON forbids inside strings but models write there, typically multi-line
// text in a field, and drops those outside strings other than whitespace,
// with byte-order marks. It reports whether anything changed.
func repairControls(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s) + 16)
	changed := false
	inStr, esc := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case !inStr && strings.HasPrefix(s[i:], utf8BOM):
			i += len(utf8BOM) - 1
			changed = true
		case inStr && c < 0x20:
			e := controlEscape(c)
			if esc {
				// The backslash already written starts this escape, so a
				// backslash then a raw newline becomes \n, a line break.
				e, esc = e[1:], false
			}
			b.WriteString(e)
			changed = true
		case !inStr && c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			changed = true // dropped
		default:
			b.WriteByte(c)
			switch {
			case esc:
				esc = false
			case inStr && c == '\\':
				esc = true
			case c == '"':
				inStr = !inStr
			}
		}
	}
	return b.String(), changed
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

// ExtractJSONAfter is ExtractJSON on the text after the last occurrence of
// marker (e.g. "NEW IDEA JSON:"), falling back to the whole reply.
func ExtractJSONAfter(reply, marker string) (string, error) {
	if i := strings.LastIndex(reply, marker); i >= 0 {
		if s, err := ExtractJSON(reply[i+len(marker):]); err == nil {
			return s, nil
		}
	}
	return ExtractJSON(reply)
}

// balancedEnd returns the index after the bracket closing the one at start,
// respecting JSON strings, or -1.
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
