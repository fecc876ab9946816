package scim

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/internal/patch"
	"github.com/scimkit/scim/schema"
)

// TestPatchRefusedBeforeWork: a PATCH whose operations cost more than the work budget over the resource as
// read is refused before the first is applied (its displayName replace never happens) and before any unit
// is spent, while one that fits is applied and charged what it cost.
func TestPatchRefusedBeforeWork(t *testing.T) {
	emails := make([]any, 100)
	for i := range emails {
		emails[i] = map[string]any{"value": fmt.Sprintf("u%d@example.com", i), "type": "work"}
	}
	terms := make([]string, 10)
	for i := range terms {
		terms[i] = fmt.Sprintf(`type eq "t%d"`, i)
	}
	remove := patch.Op{Op: "remove", Path: "emails[" + strings.Join(terms, " or ") + "]"} // 1 + 100×10 units, matches none
	for _, tc := range []struct {
		removes int
		refused bool
	}{{removes: 9}, {removes: 10, refused: true}} {
		ops := []patch.Op{{Op: "replace", Path: "displayName", Value: "changed"}}
		for range tc.removes {
			ops = append(ops, remove)
		}
		parsed, err := patch.Parse(schema.User(), schema.User(), patch.Request{Operations: ops}, 1000, func(string) {})
		require.NoError(t, err)
		doc := map[string]any{"userName": "pat", "displayName": "Pat", "emails": emails}
		work := workBudget{left: 10_000, limit: 10_000}
		err = patch.Apply(patch.Env{Ctx: context.Background(), RT: schema.User(), Ignored: func(string) {}, MaxValues: 1000, Work: &work}, doc, parsed)
		if tc.refused {
			require.Error(t, err)
			require.Equal(t, TooMany, err.(*Error).ScimType)
			require.Equal(t, "Pat", doc["displayName"], "nothing applied")
			require.Equal(t, 10_000, work.left, "nothing spent")
			continue
		}
		require.NoError(t, err)
		require.Equal(t, "changed", doc["displayName"])
		require.Equal(t, 10_000-1-9*1001, work.left)
	}
}
