package workspace

import (
	"bufio"
	"bytes"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// TestNoForeignInternal: no package of one module imports another module's internal/ packages. The go command
// allows it whenever the importer's path lies under the internal/ directory's parent (sqlstore's path is under
// the root module's), so it compiles inside this repository; but the modules are released apart, and a root
// release would then break a released sqlstore. What siblings share lives in shared/, which says it keeps no
// compatibility promise. Every .go file of the checkout counts, tests and build-tagged files included.
func TestNoForeignInternal(t *testing.T) {
	bad, err := foreignInternal(os.DirFS("../.."))
	require.NoError(t, err)
	require.Empty(t, bad, "move the shared code to a package under shared/")
}

// TestForeignInternalCaught: the check above finds what it is for, and only that.
func TestForeignInternalCaught(t *testing.T) {
	file := func(imports ...string) *fstest.MapFile {
		var b strings.Builder
		b.WriteString("package p\n\nimport (\n")
		for _, p := range imports {
			b.WriteString("\t_ " + strconv.Quote(p) + "\n")
		}
		b.WriteString(")\n")
		return &fstest.MapFile{Data: []byte(b.String())}
	}
	fsys := fstest.MapFS{
		"go.mod":                    {Data: []byte("module example.com/root\n\ngo 1.26\n")},
		"internal/a/a.go":           file(),
		"root.go":                   file("example.com/root/internal/a", "internal/abi", "example.com/other/internal/x"),
		"nested/go.mod":             {Data: []byte("// a comment first\nmodule \"example.com/root/nested\"\n")},
		"nested/n.go":               file("example.com/root/nested/internal/b"),
		"nested/internal/b/b.go":    file(),
		"nested/n_test.go":          file("example.com/root/internal/a"),
		"nested/deep/go.mod":        {Data: []byte("module example.com/root/nested/deep\n")},
		"nested/deep/d.go":          file("example.com/root/nested/internal/b", "example.com/root/shared/s"),
		"nested/testdata/t.go":      file("example.com/root/internal/a"),
		"nested/.hidden/h.go":       file("example.com/root/internal/a"),
		"nested/deep/internal/c.go": file("example.com/root/nested/deep/internal/c/d"),
	}
	bad, err := foreignInternal(fsys)
	require.NoError(t, err)
	require.Equal(t, []string{
		"nested/deep/d.go (module example.com/root/nested/deep) imports example.com/root/nested/internal/b of module example.com/root/nested",
		"nested/n_test.go (module example.com/root/nested) imports example.com/root/internal/a of module example.com/root",
	}, bad)
}

// foreignInternal lists the imports, in the .go files of fsys (a checkout of the repository), of an internal
// package of another module of the same checkout. A file belongs to the module of the nearest go.mod above it;
// an import path to the module of the longest module path it starts with. Directories the go command ignores
// (testdata, names starting with "." or "_") are skipped.
func foreignInternal(fsys fs.FS) ([]string, error) {
	modules := map[string]string{} // directory -> module path
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case name == "go.mod":
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			mod := modulePath(data)
			if mod == "" {
				return fs.ErrInvalid
			}
			modules[path.Dir(p)] = mod
		case strings.HasSuffix(name, ".go"):
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(modules))
	for _, m := range modules {
		paths = append(paths, m)
	}
	ownerOf := func(imp string) string { // the longest module path that imp is in, or ""
		best := ""
		for _, m := range paths {
			if (imp == m || strings.HasPrefix(imp, m+"/")) && len(m) > len(best) {
				best = m
			}
		}
		return best
	}
	var bad []string
	for _, f := range files {
		mod := ""
		for dir := path.Dir(f); ; dir = path.Dir(dir) {
			if m, ok := modules[dir]; ok {
				mod = m
				break
			}
			if dir == "." {
				break
			}
		}
		if mod == "" {
			continue // outside every module
		}
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			return nil, err
		}
		for _, is := range parsed.Imports {
			imp, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				return nil, err
			}
			owner := ownerOf(imp)
			if owner == "" || owner == mod || !slices.Contains(strings.Split(strings.TrimPrefix(imp, owner), "/"), "internal") {
				continue
			}
			bad = append(bad, f+" (module "+mod+") imports "+imp+" of module "+owner)
		}
	}
	slices.Sort(bad)
	return bad, nil
}

// modulePath returns the module path a go.mod declares, or "".
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			rest = strings.TrimSpace(rest)
			if i := strings.Index(rest, "//"); i >= 0 {
				rest = strings.TrimSpace(rest[:i])
			}
			if s, err := strconv.Unquote(rest); err == nil {
				return s
			}
			return rest
		}
	}
	return ""
}
