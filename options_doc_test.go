package scim_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
)

// TestOptionsDocumented: docs/options.md lists every exported With… option of the package and every field of
// Limits (and of its Filter, Tenant and Events structs), so that a new option or bound cannot ship undocumented; and
// the options stay few enough to take in at once.
func TestOptionsDocumented(t *testing.T) {
	doc, err := os.ReadFile("docs/options.md")
	require.NoError(t, err)

	// The options: every exported package-level func named With…, read from the source (reflection cannot
	// list a package's functions).
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	require.NoError(t, err)
	var options []string
	for _, f := range pkgs["scim"].Files {
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.IsExported() && strings.HasPrefix(fn.Name.Name, "With") {
				options = append(options, fn.Name.Name)
			}
		}
	}
	slices.Sort(options)
	require.Contains(t, options, "WithLimits")
	require.LessOrEqual(t, len(options), 12, "the package's With… names (issue 18: at most 12): %v", options)
	for _, o := range options {
		// A row of the options table: | `WithX(…)` |
		require.Regexp(t, regexp.MustCompile("(?m)^\\| `"+o+"\\("), string(doc), "docs/options.md does not list %s", o)
	}

	// The fields: a row of the Limits table for each of Limits', and each nested field named in its row.
	for _, f := range reflect.VisibleFields(reflect.TypeFor[scim.Limits]()) {
		require.Regexp(t, regexp.MustCompile("(?m)^\\| `"+f.Name+"`"), string(doc), "docs/options.md does not list Limits.%s", f.Name)
	}
	for _, nested := range []reflect.Type{reflect.TypeFor[filter.Limits](), reflect.TypeFor[scim.TenantLimits](), reflect.TypeFor[scim.EventQueue]()} {
		for _, f := range reflect.VisibleFields(nested) {
			require.Contains(t, string(doc), f.Name, "docs/options.md does not name %s.%s", nested, f.Name)
		}
	}
}
