package numbers

import (
	"fmt"
	"strconv"
	"strings"
)

// The code's numbers are true numbers too: a paper states its learning
// rate, its number of steps and the thresholds it measures against ("steps
// to reach 99% validation accuracy" with `va >= 0.99` in the code). Every
// numeric literal of the Python source counts. A literal assigned to a name
// (WEIGHT_DECAY = 0.3, lr=1e-3 as a keyword, an argparse default) is named
// after it, "experiment.py:WEIGHT_DECAY", elements of a list or tuple by
// index, "experiment.py:SEEDS[1]"; any other literal by its line,
// "experiment.py:line 240". Literals in strings and comments do not count:
// they are prose, not settings.

// pyTok is one Python token; strings and comments are dropped except that
// strings are kept as kind 's' so argparse flags can be read.
type pyTok struct {
	kind byte // 'n' name, '0' number, 's' string, 'o' operator
	text string
	line int
}

// codeValues returns the numeric literals of a Python source file, named
// ones first, each distinct (name, value) or unnamed value once.
func codeValues(file, src string) []Value {
	toks := pyTokens(src)
	var named, anon []Value
	seen := map[string]bool{}
	for i, t := range toks {
		if t.kind != '0' {
			continue
		}
		v, ok := pyNumber(t.text)
		if !ok {
			continue
		}
		k := i - 1
		if k >= 0 && isOp(toks[k], "-", "+") && unary(toks, k) {
			if toks[k].text == "-" {
				v = -v
			}
			k--
		}
		name := pyName(toks, k)
		if name != "" {
			key := name + "=" + strconv.FormatFloat(v, 'g', -1, 64)
			if !seen[key] {
				seen[key] = true
				named = append(named, Value{Run: CodeRun, Path: file + ":" + name, Value: v})
			}
			continue
		}
		key := "=" + strconv.FormatFloat(v, 'g', -1, 64)
		if !seen[key] {
			seen[key] = true
			anon = append(anon, Value{Run: CodeRun, Path: fmt.Sprintf("%s:line %d", file, t.line), Value: v})
		}
	}
	return append(named, anon...)
}

// isNamedCode reports whether v is a code setting with a name, as opposed
// to an anonymous literal (too many and too vague to suggest to a writer).
func isNamedCode(v Value) bool {
	return v.Run == CodeRun && !strings.Contains(v.Path, ":line ")
}

// pyName is the name a literal ending just after toks[k] is assigned to,
// or "".
func pyName(toks []pyTok, k int) string {
	if k < 0 {
		return ""
	}
	// An element of a list or tuple assigned to a name: SEEDS = [0, 1, 2].
	if !isOp(toks[k], "=") {
		idx := 0
		j := k
		for j >= 0 && (toks[j].kind == '0' || isOp(toks[j], ",") || (isOp(toks[j], "-", "+") && unary(toks, j))) {
			if isOp(toks[j], ",") {
				idx++
			}
			j--
		}
		if j >= 1 && isOp(toks[j], "[", "(") && isOp(toks[j-1], "=") {
			if n := assignedName(toks, j-1); n != "" {
				return fmt.Sprintf("%s[%d]", n, idx)
			}
		}
		return ""
	}
	return assignedName(toks, k)
}

// assignedName is the name on the left of the '=' at toks[eq]: a plain or
// annotated assignment, a keyword argument, or an argparse default (named
// after its flag).
func assignedName(toks []pyTok, eq int) string {
	if eq < 1 || toks[eq-1].kind != 'n' {
		return ""
	}
	name := toks[eq-1].text
	if eq >= 3 && isOp(toks[eq-2], ":") && toks[eq-3].kind == 'n' {
		name = toks[eq-3].text // x: float = 0.3
	}
	if name == "default" {
		if flag := argparseFlag(toks, eq-1); flag != "" {
			return flag
		}
	}
	return name
}

// argparseFlag is the destination of the add_argument call that toks[k]
// is an argument of ("--weight-decay" → "weight_decay"), or "".
func argparseFlag(toks []pyTok, k int) string {
	depth := 0
	for j := k; j >= 0; j-- {
		switch {
		case isOp(toks[j], ")", "]", "}"):
			depth++
		case isOp(toks[j], "(", "[", "{"):
			if depth > 0 {
				depth--
				continue
			}
			if j == 0 || toks[j-1].text != "add_argument" {
				return ""
			}
			for _, t := range toks[j+1:] {
				if t.kind != 's' {
					continue
				}
				s := strings.Trim(t.text, `"'`)
				if strings.HasPrefix(s, "-") {
					return strings.ReplaceAll(strings.TrimLeft(s, "-"), "-", "_")
				}
				return ""
			}
			return ""
		}
	}
	return ""
}

func isOp(t pyTok, ops ...string) bool {
	if t.kind != 'o' {
		return false
	}
	for _, o := range ops {
		if t.text == o {
			return true
		}
	}
	return false
}

// unary reports whether the sign at toks[k] is unary: it follows an
// operator or opening bracket, a keyword, or nothing.
func unary(toks []pyTok, k int) bool {
	if k == 0 {
		return true
	}
	p := toks[k-1]
	switch p.kind {
	case 'o':
		return !isOp(p, ")", "]", "}")
	case 'n':
		switch p.text {
		case "return", "in", "and", "or", "not", "if", "else", "lambda", "yield", "assert":
			return true
		}
	}
	return false
}

// pyNumber parses a Python numeric literal (underscores, hex, octal and
// binary allowed); imaginary literals are not settings.
func pyNumber(s string) (float64, bool) {
	s = strings.ReplaceAll(s, "_", "")
	if strings.HasSuffix(s, "j") || strings.HasSuffix(s, "J") {
		return 0, false
	}
	if len(s) > 1 && s[0] == '0' && strings.ContainsAny(s[1:2], "xXoObB") {
		n, err := strconv.ParseInt(s, 0, 64)
		return float64(n), err == nil
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// pyTokens splits Python source into names, numbers, strings and
// operators, dropping comments; it is lenient: it never fails.
func pyTokens(src string) []pyTok {
	var toks []pyTok
	line := 1
	n := len(src)
	for i := 0; i < n; {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\\' || c == '\f':
			i++
		case c == '#':
			for i < n && src[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			j := pyStringEnd(src, i)
			toks = append(toks, pyTok{'s', src[i:j], line})
			line += strings.Count(src[i:j], "\n")
			i = j
		case isLetter(c) || c == '_' || c >= 0x80:
			j := i
			for j < n && (isLetter(src[j]) || isDigit(src[j]) || src[j] == '_' || src[j] >= 0x80) {
				j++
			}
			word := src[i:j]
			if j < n && (src[j] == '"' || src[j] == '\'') && len(word) <= 2 && strings.Trim(strings.ToLower(word), "rbuf") == "" {
				k := pyStringEnd(src, j)
				toks = append(toks, pyTok{'s', src[j:k], line})
				line += strings.Count(src[j:k], "\n")
				i = k
				continue
			}
			toks = append(toks, pyTok{'n', word, line})
			i = j
		case isDigit(c) || (c == '.' && i+1 < n && isDigit(src[i+1])):
			j := i
			if c == '0' && i+1 < n && strings.ContainsRune("xXoObB", rune(src[i+1])) {
				j += 2
				for j < n && (isDigit(src[j]) || isLetter(src[j]) || src[j] == '_') {
					j++
				}
			} else {
				for j < n && (isDigit(src[j]) || src[j] == '_') {
					j++
				}
				if j < n && src[j] == '.' {
					j++
					for j < n && (isDigit(src[j]) || src[j] == '_') {
						j++
					}
				}
				if j < n && (src[j] == 'e' || src[j] == 'E') {
					k := j + 1
					if k < n && (src[k] == '+' || src[k] == '-') {
						k++
					}
					if k < n && isDigit(src[k]) {
						j = k
						for j < n && (isDigit(src[j]) || src[j] == '_') {
							j++
						}
					}
				}
				if j < n && (src[j] == 'j' || src[j] == 'J') {
					j++
				}
			}
			toks = append(toks, pyTok{'0', src[i:j], line})
			i = j
		default:
			j := i + 1
			if j < n && src[j] == '=' && strings.ContainsRune("=!<>+-*/%&|^:@", rune(c)) {
				j++
			} else if j < n && (c == '*' || c == '/') && src[j] == c {
				j++
			} else if c == '-' && j < n && src[j] == '>' {
				j++
			}
			toks = append(toks, pyTok{'o', src[i:j], line})
			i = j
		}
	}
	return toks
}

// pyStringEnd returns the index just past the string literal whose opening
// quote is at i (single, double or triple quoted); an unterminated string
// runs to the end of its line (or of the file, if triple quoted).
func pyStringEnd(src string, i int) int {
	q := src[i]
	n := len(src)
	if i+2 < n && src[i+1] == q && src[i+2] == q {
		delim := src[i : i+3]
		for j := i + 3; j < n; j++ {
			if src[j] == '\\' {
				j++
				continue
			}
			if strings.HasPrefix(src[j:], delim) {
				return j + 3
			}
		}
		return n
	}
	for j := i + 1; j < n; j++ {
		switch src[j] {
		case '\\':
			j++
		case q:
			return j + 1
		case '\n':
			return j
		}
	}
	return n
}
