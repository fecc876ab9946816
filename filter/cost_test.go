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

// mustParse parses s against rt, failing the test on an error.
func mustParse(t testing.TB, rt *schema.ResourceType, s string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(rt, s)
	require.NoError(t, err, s)
	return e
}
