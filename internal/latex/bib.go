package latex

import (
	"regexp"
	"strings"
)

var bibTitleRe = regexp.MustCompile(`(?is)\btitle\s*=\s*[{"](.+?)[}"]\s*,?\s*\n`)

// BibTitles returns the titles of the bibliography's entries, normalised to
// lower-case letters and digits, for de-duplication.
func BibTitles(tex string) map[string]bool {
	out := map[string]bool{}
	for _, b := range bibBlocks(tex) {
		for _, m := range bibTitleRe.FindAllStringSubmatch(tex[b.start:b.end], -1) {
			out[NormTitle(m[1])] = true
		}
	}
	return out
}

// NormTitle keeps a title's lower-case letters and digits.
func NormTitle(t string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// BibEntry is what a writer needs to know of a bibliography entry to cite
// it well: more than its key.
type BibEntry struct {
	Key, Type, Title, Author, Year string
}

// String renders the entry on one line for a prompt.
func (e BibEntry) String() string {
	s := e.Key + ": " + oneLine(e.Title)
	if e.Author != "" {
		s += " — " + oneLine(e.Author)
	}
	if e.Year != "" {
		s += " (" + e.Year + ")"
	}
	return s
}

// BibEntries returns the entries of the document's .bib filecontents
// blocks with their title, authors and year, in order, each key once.
func BibEntries(tex string) []BibEntry {
	var out []BibEntry
	seen := map[string]bool{}
	for _, b := range bibBlocks(tex) {
		parts, err := splitBibEntries(tex[b.start:b.end])
		if err != nil {
			continue
		}
		for _, p := range parts {
			if p.key == "" || seen[p.key] {
				continue
			}
			seen[p.key] = true
			e := BibEntry{Key: p.key, Title: bibField(p.text, "title"), Author: bibField(p.text, "author"), Year: bibField(p.text, "year")}
			if m := bibEntryRe.FindStringSubmatch(p.text); m != nil {
				e.Type = strings.ToLower(m[1])
			}
			out = append(out, e)
		}
	}
	return out
}

var bibFieldRe = regexp.MustCompile(`(?i)[,\s]([a-z]+)\s*=\s*`)

// bibField reads one field's value: braced (balanced), quoted or bare.
func bibField(entry, name string) string {
	for _, loc := range bibFieldRe.FindAllStringSubmatchIndex(entry, -1) {
		if !strings.EqualFold(entry[loc[2]:loc[3]], name) {
			continue
		}
		i := loc[1]
		switch {
		case i < len(entry) && entry[i] == '{':
			if v, _, ok := readBraced(entry, i); ok {
				return strings.NewReplacer("{", "", "}", "").Replace(v)
			}
		case i < len(entry) && entry[i] == '"':
			if j := strings.IndexByte(entry[i+1:], '"'); j >= 0 {
				return entry[i+1 : i+1+j]
			}
		default:
			j := i
			for j < len(entry) && entry[j] != ',' && entry[j] != '}' && entry[j] != '\n' {
				j++
			}
			return strings.TrimSpace(entry[i:j])
		}
	}
	return ""
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

var usePackageRe = regexp.MustCompile(`(?m)^[ \t]*\\usepackage\s*(\[[^\]]*\])?\s*\{([^}]*)\}`)

// Packages lists the packages the preamble loads (\usepackage lines, each
// name of a comma list), in order, so a writer is told what it may use.
func Packages(tex string) []string {
	if i := strings.Index(tex, `\begin{document}`); i >= 0 {
		tex = tex[:i]
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range usePackageRe.FindAllStringSubmatch(codeText(tex), -1) {
		for _, p := range strings.Split(m[2], ",") {
			if p = strings.TrimSpace(p); p != "" && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}
