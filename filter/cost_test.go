package filter_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// orRun returns n comparisons joined by "or".
func orRun(n int, term string) string {
	terms := make([]string, n)
	for i := range terms {
		terms[i] = strings.ReplaceAll(term, "N", string(rune('a'+i%26)))
	}
	return strings.Join(terms, " or ")
}

// TestFilterCostLimits: a filter holding more comparisons, or more comparisons on multi-valued attributes,
// than its Limits allow is invalidFilter, whatever its length.
func TestFilterCostLimits(t *testing.T) {
	rt := schema.User()
	l := filter.Limits{MaxLength: 1 << 20}
	for _, tc := range []struct {
		filter string
		ok     bool
		detail string
	}{
		{orRun(filter.DefaultLimits.MaxMultiValued, `emails co "N"`), true, ""},
		{orRun(filter.DefaultLimits.MaxMultiValued+1, `emails co "N"`), false, "multi-valued"},
		{orRun(filter.DefaultLimits.MaxMultiValued+1, `emails[value co "N"]`), false, "multi-valued"},
		{`emails[` + orRun(20, `value co "N"`) + `]`, true, ""}, // one pass over the values, 20 comparisons
		{orRun(filter.DefaultLimits.MaxTerms, `title eq "N"`), true, ""},
		{orRun(filter.DefaultLimits.MaxTerms+1, `title eq "N"`), false, "comparisons"},
	} {
		e, err := l.Parse(rt, tc.filter)
		if tc.ok {
			require.NoError(t, err, tc.filter)
			require.NotNil(t, e)
			continue
		}
		require.ErrorIs(t, err, filter.ErrInvalidFilter, tc.filter)
		require.Contains(t, err.Error(), tc.detail)
	}
	c := filter.CostOf(mustParse(t, rt, `emails co "a" and emails[type eq "work" and value sw "b"] and title pr`))
	require.Equal(t, filter.Cost{Terms: 4, MultiValued: 2}, c)
}

// TestCompileMergesOrRuns: a run of "or" on one multi-valued attribute is one subquery over its values, not
// one per comparison (each is a JSON array walk per row).
func TestCompileMergesOrRuns(t *testing.T) {
	rt := schema.User()
	m := filter.Mapping{Dialect: filter.SQLite, JSON: "doc", FoldedJSON: "search"}
	e := mustParse(t, rt, orRun(8, `emails co "N"`)+` or title eq "x" or phoneNumbers sw "1" or phoneNumbers ew "2"`)
	sql, args, err := m.Compile(e, 1)
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(sql, "EXISTS"), sql) // emails once, phoneNumbers once
	require.Len(t, args, 12)                               // ew binds its literal twice
}
