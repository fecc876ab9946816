package scim_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// The documentation's Go is compiled code. Every ```go block in README.md and docs/*.md sits right under a
// marker line naming where it comes from:
//
//	<!-- snippet: example_docs_test.go#mount -->
//
// that is, the region of that Go file (path from the repository root) between the lines
//
//	// snippet:mount
//	…
//	// end
//
// The block must equal the region once the indentation common to all its lines is removed (a region inside
// an Example function is indented, a block inside a list item too). The regions live in files that
// `go test ./...` builds and vets: Example functions without an Output comment (compiled, not run) in
// example_docs_test.go here, scimtest/example_docs_test.go and examples/metrics/example_docs_test.go.
//
// After changing a region, SCIM_UPDATE_SNIPPETS=1 go test -run TestDocSnippets . rewrites the blocks.

var snippetMarker = regexp.MustCompile(`^<!-- snippet: ([^#\s]+)#([A-Za-z0-9_-]+) -->$`)

// docFiles are the Markdown files whose Go is checked: README.md and docs/*.md.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"README.md"}, files...)
}

func TestDocSnippets(t *testing.T) {
	update := os.Getenv("SCIM_UPDATE_SNIPPETS") != ""
	regions := map[string]map[string][]string{} // file → name → lines
	region := func(file, name string) ([]string, error) {
		if regions[file] == nil {
			r, err := readRegions(file)
			if err != nil {
				return nil, err
			}
			regions[file] = r
		}
		lines, ok := regions[file][name]
		if !ok {
			return nil, fmt.Errorf("%s has no region %q (a line // snippet:%s, then the code, then // end)", file, name, name)
		}
		return lines, nil
	}
	blocks := 0
	for _, doc := range docFiles(t) {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		var out []string
		changed := false
		for i := 0; i < len(lines); i++ {
			line := lines[i]
			out = append(out, line)
			trimmed := strings.TrimSpace(line)
			if m := snippetMarker.FindStringSubmatch(trimmed); m != nil {
				if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```go" {
					t.Errorf("%s:%d: a snippet marker must be followed by a ```go block", doc, i+1)
				}
				continue
			}
			if !strings.HasPrefix(trimmed, "```") {
				continue
			}
			// A fence: find its end, whatever its language, so that fences inside it are not read.
			indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
			end := i + 1
			for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
				end++
			}
			if end == len(lines) {
				t.Errorf("%s:%d: unterminated code block", doc, i+1)
				break
			}
			body := lines[i+1 : end]
			if trimmed != "```go" {
				out = append(out, body...)
				out = append(out, lines[end])
				i = end
				continue
			}
			blocks++
			var m []string
			if i > 0 {
				m = snippetMarker.FindStringSubmatch(strings.TrimSpace(lines[i-1]))
			}
			if m == nil {
				t.Errorf("%s:%d: a ```go block without a snippet marker on the line before it "+
					"(<!-- snippet: file.go#name --> naming a compiled region)", doc, i+1)
				out = append(out, body...)
				out = append(out, lines[end])
				i = end
				continue
			}
			want, err := region(m[1], m[2])
			if err != nil {
				t.Errorf("%s:%d: %v", doc, i, err)
			} else if got := dedent(body); strings.Join(got, "\n") != strings.Join(want, "\n") {
				if update {
					body = nil
					for _, l := range want {
						if l != "" {
							l = indent + l
						}
						body = append(body, l)
					}
					changed = true
				} else {
					t.Errorf("%s:%d: the block differs from %s#%s (SCIM_UPDATE_SNIPPETS=1 rewrites it):\n--- block\n%s\n--- region\n%s",
						doc, i+1, m[1], m[2], strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
			out = append(out, body...)
			out = append(out, lines[end])
			i = end
		}
		if changed {
			if err := os.WriteFile(doc, []byte(strings.Join(out, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote the snippets of %s", doc)
		}
	}
	if blocks == 0 {
		t.Fatal("no ```go block found: is the test running in the repository root?")
	}
}

// readRegions returns the snippet regions of a Go file, dedented.
func readRegions(file string) (map[string][]string, error) {
	if filepath.IsAbs(file) || strings.Contains(file, "..") || !strings.HasSuffix(file, ".go") {
		return nil, fmt.Errorf("snippet source %q: want the path of a .go file from the repository root", file)
	}
	b, err := os.ReadFile(filepath.FromSlash(file))
	if err != nil {
		return nil, err
	}
	regions := map[string][]string{}
	name, start := "", 0
	lines := strings.Split(string(b), "\n")
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "// snippet:"):
			if name != "" {
				return nil, fmt.Errorf("%s:%d: region %q starts inside region %q", file, i+1, trimmed, name)
			}
			name, start = strings.TrimPrefix(trimmed, "// snippet:"), i+1
			if _, dup := regions[name]; dup {
				return nil, fmt.Errorf("%s:%d: a second region %q", file, i+1, name)
			}
		case trimmed == "// end" && name != "":
			regions[name] = dedent(lines[start:i])
			name = ""
		}
	}
	if name != "" {
		return nil, fmt.Errorf("%s: region %q has no // end", file, name)
	}
	return regions, nil
}

// dedent drops leading and trailing blank lines and the indentation common to the others; blank lines become
// empty.
func dedent(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	prefix, first := "", true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ind := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if first {
			prefix, first = ind, false
			continue
		}
		for !strings.HasPrefix(ind, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		out[i] = strings.TrimRightFunc(strings.TrimPrefix(l, prefix), unicode.IsSpace)
	}
	return out
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// Every relative link of README.md and docs/*.md names a file or directory of the repository, and every
// #anchor a heading of the file it points into.
func TestDocLinks(t *testing.T) {
	for _, doc := range docFiles(t) {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		inFence := false
		for n, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				inFence = !inFence
			}
			if inFence {
				continue
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				file, anchor, _ := strings.Cut(target, "#")
				path := doc
				if file != "" {
					path = filepath.Join(filepath.Dir(doc), filepath.FromSlash(file))
					if _, err := os.Stat(path); err != nil {
						t.Errorf("%s:%d: link to %s: %v", doc, n+1, target, err)
						continue
					}
				}
				if anchor != "" && !hasAnchor(t, path, anchor) {
					t.Errorf("%s:%d: link to %s: %s has no heading with that anchor", doc, n+1, target, path)
				}
			}
		}
	}
}

// hasAnchor reports whether a Markdown file has a heading whose GitHub anchor is anchor.
func hasAnchor(t *testing.T, path, anchor string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		heading := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var slug strings.Builder
		for _, r := range strings.ToLower(heading) {
			switch {
			case r == ' ':
				slug.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				slug.WriteRune(r)
			}
		}
		if slug.String() == anchor {
			return true
		}
	}
	return false
}
