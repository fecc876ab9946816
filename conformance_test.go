package scim_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/scimtest"
)

// TestConformance runs scimtest's HTTP conformance suite (RFC 7643, RFC 7644, RFC 9865, RFC 6750, tenant
// isolation and concurrency, black-box through HTTP) over memstore. The sqlstore module runs it over
// SQLite and PostgreSQL. One requirement, or one section:
//
//	go test -run 'TestConformance/RFC7644_3_4_2_2_MUST_InvalidFilter400' .
func TestConformance(t *testing.T) {
	scimtest.TestHandler(t, func(*testing.T) scim.Store { return memstore.New() }, scimtest.HandlerOptions{Parallel: true})
}

// TestConformanceTable checks the table of requirements (well-formed rows, unique names) and, when
// SCIM_CONFORMANCE_TABLE names a file, writes it there as markdown for docs/conformance.md, with links from
// the repository root. None of the requirements needs the root's internal hooks (export_test.go), so all of
// them are scimtest's.
func TestConformanceTable(t *testing.T) {
	var table strings.Builder
	table.WriteString("| RFC section | level | requirement | test |\n|---|---|---|---|\n")
	seen := map[string]bool{}
	for _, r := range scimtest.HandlerRequirements() {
		require.Contains(t, []string{"MUST", "SHOULD", "MAY", "LIB"}, r.Level, r.Name)
		require.Regexp(t, `^RFC\d+ §[0-9.]+$`, r.Section, r.Name)
		require.Regexp(t, `^[A-Za-z0-9_]+$`, r.Name)
		require.False(t, seen[r.Name], "duplicate requirement %s", r.Name)
		seen[r.Name] = true
		require.NotEmpty(t, r.Text, r.Name)
		require.Regexp(t, `^http_[a-z]+\.go$`, r.File, r.Name)
		cell := strings.ReplaceAll(r.Text, "|", `\|`)
		link := fmt.Sprintf("[`TestConformance/%s`](../scimtest/%s)", r.Name, r.File) // the table lives in docs/
		fmt.Fprintf(&table, "| %s | %s | %s | %s |\n", strings.Replace(r.Section, "RFC", "RFC ", 1), r.Level, cell, link)
	}
	t.Logf("%d requirements", len(seen))
	if path := os.Getenv("SCIM_CONFORMANCE_TABLE"); path != "" {
		doc := "Every row is a requirement of RFC 7643, RFC 7644, RFC 9865 or RFC 6750, checked black-box through HTTP " +
			"by `scimtest.TestHandler`, which every Store's tests can run: here against `memstore` " +
			"(`go test -run TestConformance .`), and in the sqlstore module against `sqlstore` on SQLite and, when " +
			"`SCIM_TEST_POSTGRES_DSN` is set, on PostgreSQL (`go test -run TestConformance .` in `sqlstore/`). " +
			"Level is the RFC 2119 keyword of the " +
			"sentence tested (MUST also stands for SHALL, REQUIRED, and for behaviour the RFC defines without a keyword); " +
			"LIB marks a guarantee of this library beyond the RFC's text (tenant isolation, concurrency).\n\n" +
			table.String()
		require.NoError(t, os.WriteFile(path, []byte(doc), 0o644))
	}
}
