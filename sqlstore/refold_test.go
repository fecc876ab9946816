package sqlstore

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// TestRefoldMigration: rows folded with the old key (strings.ToLower) get the Unicode identity key when a
// store opens the database, so that filters find them and uniqueness covers them like new rows; users the
// new key identifies stay two accounts and the migration does not fail.
func TestRefoldMigration(t *testing.T) {
	ctx := scim.ContextWithTenant(context.Background(), "")
	for _, d := range []struct {
		name string
		dsn  func(t *testing.T) string
		open func(ctx context.Context, dsn string, opts ...Option) (*Store, error)
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "scim.db") }, openSQLite},
		{"postgres", func(t *testing.T) string { return freshPostgres(t) }, openPostgres},
	} {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			s, err := d.open(ctx, dsn)
			require.NoError(t, err)
			users := map[string]*scim.User{}
			for _, name := range []string{"Straße", "bob ", "admin", "Ａdmin", "plain"} {
				u := user(name)
				if name == "Straße" {
					u.DisplayName, u.Title = "ＢＡＢＳ", "ＣＥＯ"
				}
				if name == "Ａdmin" { // the new key refuses it: the old one did not, it is written below
					u.UserName = "placeholder"
				}
				_, err := s.Create(ctx, u)
				require.NoError(t, err, name)
				u.UserName = name
				users[name] = u
			}
			// Write every row back as the previous version of the library did: folded with strings.ToLower.
			for _, u := range users {
				r, err := s.toRow(context.Background(), u)
				require.NoError(t, err)
				var search map[string]any
				require.NoError(t, json.Unmarshal([]byte(r.data), &search))
				for _, k := range []string{"userName", "displayName", "title"} {
					if v, ok := search[k].(string); ok {
						search[k] = strings.ToLower(v)
					}
				}
				b, err := json.Marshal(search)
				require.NoError(t, err)
				var display any
				if u.DisplayName != "" {
					display = strings.ToLower(u.DisplayName)
				}
				_, err = s.db.Exec(s.q(`UPDATE scim_users SET user_name = ?, user_name_fold = ?, display_name_fold = ?, data = ?, search = ?
					WHERE id = ?`), u.UserName, strings.ToLower(u.UserName), display, r.data, string(b), u.ID)
				require.NoError(t, err)
			}
			// Back to the schema before the refold step (5): later steps' tables go too.
			_, err = s.db.Exec(s.q(`DELETE FROM scim_migrations WHERE version >= ?`), 5)
			require.NoError(t, err)
			_, err = s.db.Exec(`DROP TABLE scim_members`)
			require.NoError(t, err)
			_, err = s.db.Exec(`DROP TABLE scim_groups`)
			require.NoError(t, err)
			dropWalk(t, s)
			require.NoError(t, s.Close())

			s, err = d.open(ctx, dsn)
			require.NoError(t, err, "the migration re-folds; a collision of new keys does not fail it")
			defer s.Close()
			find := func(f string) []string {
				t.Helper()
				e, err := filter.Parse(schema.User(), f)
				require.NoError(t, err)
				page, err := s.List(ctx, scim.Query{Filter: e, StartIndex: 1, Count: 10})
				require.NoError(t, err)
				var ids []string
				for _, u := range page.Users {
					ids = append(ids, u.ID)
				}
				return ids
			}
			require.Equal(t, []string{"id-Straße"}, find(`userName eq "STRASSE"`))
			require.Equal(t, []string{"id-Straße"}, find(`displayName eq "babs"`))
			require.Equal(t, []string{"id-Straße"}, find(`title eq "ceo"`))
			require.Equal(t, []string{"id-bob "}, find(`userName eq "BOB"`))
			require.Equal(t, []string{"id-plain"}, find(`userName eq "Plain"`))
			for _, name := range []string{"strasse", "bob", "ADMIN"} {
				_, err := s.Create(ctx, user(name+"-new"))
				require.NoError(t, err)
				u := user(name)
				_, err = s.Create(ctx, u)
				require.ErrorIs(t, err, scim.ErrConflict, "%q after the re-fold", name)
			}
			// "admin" and "Ａdmin" were two users under the old key: both are kept, "admin" holds the new key.
			_, err = s.Get(ctx, "id-Ａdmin")
			require.NoError(t, err)
			require.Equal(t, []string{"id-admin"}, find(`userName eq "admin"`))
		})
	}
}
