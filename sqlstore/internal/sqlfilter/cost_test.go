package sqlfilter_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/sqlstore/internal/sqlfilter"
)

// orRun returns n comparisons joined by "or".
func orRun(n int, term string) string {
	terms := make([]string, n)
	for i := range terms {
		terms[i] = strings.ReplaceAll(term, "N", string(rune('a'+i%26)))
	}
	return strings.Join(terms, " or ")
}

// TestCompileMergesOrRuns: a run of "or" on one multi-valued attribute is one subquery over its values, not
// one per comparison (each is a JSON array walk per row).
func TestCompileMergesOrRuns(t *testing.T) {
	rt := schema.User()
	m := sqlfilter.Mapping{Dialect: sqlfilter.SQLite, JSON: "doc", FoldedJSON: "search"}
	e := mustParse(t, rt, orRun(8, `emails co "N"`)+` or title eq "x" or phoneNumbers sw "1" or phoneNumbers ew "2"`)
	sql, args, err := m.Compile(e, 1)
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(sql, "EXISTS"), sql) // emails once, phoneNumbers once
	require.Len(t, args, 12)                               // ew binds its literal twice
}
