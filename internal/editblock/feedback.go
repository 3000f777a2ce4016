package editblock

import (
	"fmt"
	"strconv"
	"strings"
)

// Feedback returns a message for the model describing the blocks that failed,
// or "" when none failed. For each failed block it gives the block number,
// file and reason, the closest actual lines of the file in a fenced block,
// and a note when the REPLACE text is already present. It then names the
// blocks that were applied (so the model does not send them again) and ends
// with a reminder that SEARCH must match the existing lines exactly.
func (r Result) Feedback() string {
	if len(r.Failed) == 0 {
		return ""
	}
	var b strings.Builder
	total := len(r.Failed) + len(r.Applied)
	if len(r.Failed) == 1 {
		fmt.Fprintf(&b, "1 of your %d SEARCH/REPLACE %s could not be applied.\n", total, plural(total, "block", "blocks"))
	} else {
		fmt.Fprintf(&b, "%d of your %d SEARCH/REPLACE blocks could not be applied.\n", len(r.Failed), total)
	}

	for _, f := range r.Failed {
		path := f.Block.Path
		if strings.TrimSpace(path) == "" {
			path = "(no file name)"
		}
		fmt.Fprintf(&b, "\n## Block %d (%s) failed\n", f.Block.Index, path)
		b.WriteString(strings.TrimRight(f.Reason, "\n"))
		b.WriteString("\n")
		if f.Closest != "" {
			fmt.Fprintf(&b, "\nDid you mean to match some of these actual lines from %s?\n\n", path)
			fence := fenceFor(f.Closest)
			b.WriteString(fence + "\n")
			b.WriteString(f.Closest)
			if !strings.HasSuffix(f.Closest, "\n") {
				b.WriteString("\n")
			}
			b.WriteString(fence + "\n")
		}
		if f.AlreadyPresent {
			fmt.Fprintf(&b, "\nNote: the REPLACE lines of block %d are already present in %s, so this edit may already have been made. Check the file; if the change is there, do not send this block again.\n", f.Block.Index, path)
		}
	}

	b.WriteString("\n")
	switch len(r.Applied) {
	case 0:
		if len(r.Failed) > 1 {
			b.WriteString("None of the blocks were applied.\n")
		}
	case 1:
		fmt.Fprintf(&b, "The other block (block %d) was applied successfully; do not send it again.\n", r.Applied[0].Index)
	default:
		nums := make([]string, len(r.Applied))
		for i, a := range r.Applied {
			nums[i] = strconv.Itoa(a.Index)
		}
		fmt.Fprintf(&b, "The other blocks (blocks %s) were applied successfully; do not send them again.\n", listWords(nums))
	}
	fmt.Fprintf(&b, "Send corrected versions of only the failed %s.\n", plural(len(r.Failed), "block", "blocks"))
	b.WriteString("Remember: the SEARCH section must exactly match existing lines in the file, character for character, including all whitespace, indentation, comments and docstrings.\n")
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// listWords joins items as "a, b and c".
func listWords(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// fenceFor returns a backtick fence longer than any backtick run in s.
func fenceFor(s string) string {
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			if run > longest {
				longest = run
			}
		} else {
			run = 0
		}
	}
	n := 3
	if longest >= n {
		n = longest + 1
	}
	return strings.Repeat("`", n)
}
