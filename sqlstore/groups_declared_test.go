package sqlstore

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/schema"
)

// entraDeclared is the declaration of docs/schema.md (Entra ID's five attributes): it does not list groups.
var entraDeclared = schema.MustDeclareUser(schema.UserDeclaration{
	Attributes: []string{"userName", "active", "displayName", "emails", "name.formatted"},
})

// TestMemberPagingDeclared pages a group's members as docs/groups.md recommends, through HTTP, with the
// declaration docs/schema.md shows given to the store and the handler: groups needs no declaring.
func TestMemberPagingDeclared(t *testing.T) {
	ctx := context.Background()
	open := map[string]func(t *testing.T) *Store{
		"sqlite": func(t *testing.T) *Store {
			s, err := openSQLite(ctx, filepath.Join(t.TempDir(), "scim.db"), WithSchema(entraDeclared))
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) *Store {
			s, err := openPostgres(ctx, freshPostgres(t), WithSchema(entraDeclared))
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			if kind == "postgres" {
				postgresDSN(t)
			}
			store := open[kind](t)
			c := serve(t, store, scim.WithUserSchema(entraDeclared))
			tctx := scim.ContextWithTenant(ctx, "")
			var members []string
			for i := range 27 {
				u, err := store.Create(tctx, user(fmt.Sprintf("m%02d@x", i)))
				require.NoError(t, err)
				members = append(members, u.ID)
			}
			_, err := store.Create(tctx, user("outsider@x"))
			require.NoError(t, err)
			ms := make([]string, len(members))
			for i, m := range members {
				ms[i] = `{"value":"` + m + `"}`
			}
			g := c.do(201, "POST", "/Groups", `{"displayName":"Many","members":[`+strings.Join(ms, ",")+`]}`)["id"].(string)

			f := "/Users?filter=" + url.QueryEscape(`groups.value eq "`+g+`"`)
			var got []string
			for start := 1; start <= 27; start += 10 {
				page := c.do(200, "GET", f+fmt.Sprintf("&startIndex=%d&count=10", start), "")
				require.Equal(t, 27.0, page["totalResults"], "startIndex %d", start)
				for _, r := range page["Resources"].([]any) {
					got = append(got, r.(map[string]any)["id"].(string))
				}
			}
			slices.Sort(got)
			require.Equal(t, slices.Sorted(slices.Values(members)), got, "every member once")

			page := c.do(200, "GET", "/Users?filter="+url.QueryEscape(`not (groups pr)`), "")
			require.Equal(t, 1.0, page["totalResults"])
			u := c.do(200, "GET", "/Users/"+members[0], "")
			require.Equal(t, g, u["groups"].([]any)[0].(map[string]any)["value"], "groups is served, undeclared")
		})
	}
}
