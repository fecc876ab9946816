package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// BenchmarkUserNameEq measures Entra's hot lookup, GET /Users?filter=userName eq "...", through the handler
// (filter parsing, the Store's query, encoding) over each store at 1k and 1M users. The figure that matters
// is how little it grows from 1k to 1M: it must be an index lookup.
//
//	go test ./sqlstore -run '^$' -bench UserNameEq -benchtime 2000x
//
// PostgreSQL runs when SCIM_TEST_POSTGRES_DSN is set. Seeding 1M users takes about a minute per SQL store.
func BenchmarkUserNameEq(b *testing.B) {
	for _, kind := range []string{"memory", "sqlite", "postgres"} {
		for _, n := range []int{1_000, 1_000_000} {
			b.Run(fmt.Sprintf("store=%s/users=%d", kind, n), func(b *testing.B) {
				store := seeded(b, kind, n)
				h := scim.MustNew(store, scim.WithTokens("t"))
				rng := rand.New(rand.NewPCG(1, 2))
				for b.Loop() {
					name := benchUserName(rng.IntN(n))
					req := httptest.NewRequest("GET", "/Users?filter="+url.QueryEscape(`userName eq "`+strings.ToUpper(name)+`"`), nil)
					req.Header.Set("Authorization", "Bearer t")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"totalResults":1,`) {
						b.Fatalf("lookup of %s: %d %s", name, rec.Code, rec.Body)
					}
				}
			})
		}
	}
}

func benchUserName(i int) string { return fmt.Sprintf("user%07d@contoso.com", i) }

// benchUser is a user with the attributes Entra maps for a gallery app.
func benchUser(i int) *scim.User {
	name := benchUserName(i)
	active := true
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return &scim.User{
		ID:          fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		ExternalID:  fmt.Sprintf("ext-%d", i),
		UserName:    name,
		DisplayName: fmt.Sprintf("User %d", i),
		Active:      &active,
		Name:        &scim.Name{Formatted: fmt.Sprintf("User %d", i)},
		Emails:      []scim.MultiValue{{Value: name, Type: "work", Primary: true}},
		Meta:        scim.Meta{Created: created, LastModified: created},
	}
}

var seededStores sync.Map // "kind/n" → scim.Store, built once per test binary run

func seeded(b *testing.B, kind string, n int) scim.Store {
	key := fmt.Sprint(kind, "/", n)
	if s, ok := seededStores.Load(key); ok {
		return s.(scim.Store)
	}
	ctx := scim.ContextWithTenant(context.Background(), "")
	var store scim.Store
	switch kind {
	case "memory":
		m := memstore.New()
		for i := range n {
			_, err := m.Create(ctx, benchUser(i))
			require.NoError(b, err)
		}
		store = m
	case "sqlite":
		s, err := openSQLite(ctx, b.TempDir()+"/bench.db")
		require.NoError(b, err)
		require.NoError(b, s.bulkInsert(ctx, n, benchUser))
		store = s
	case "postgres":
		s, err := openPostgres(ctx, freshPostgres(b))
		require.NoError(b, err)
		require.NoError(b, s.bulkInsert(ctx, n, benchUser))
		_, err = s.db.ExecContext(ctx, "ANALYZE scim_users")
		require.NoError(b, err)
		store = s
	}
	seededStores.Store(key, store)
	return store
}

// bulkInsert inserts users 0..n-1 into the context's tenant in batches of multi-row INSERTs inside transactions: seeding only.
func (s *Store) bulkInsert(ctx context.Context, n int, mk func(int) *scim.User) error {
	const batch = 500
	const cols = 11
	for start := 0; start < n; start += batch * 20 {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for lo := start; lo < min(start+batch*20, n); lo += batch {
			hi := min(lo+batch, n)
			var sb strings.Builder
			sb.WriteString(`INSERT INTO scim_users (tenant, id, user_name, user_name_fold, external_id, display_name_fold, active, created, last_modified, version, data, search) VALUES `)
			args := make([]any, 0, (hi-lo)*cols)
			for i := lo; i < hi; i++ {
				u := mk(i)
				u.Meta.Version = ""
				r, err := s.toRow(context.Background(), u)
				if err != nil {
					return err
				}
				if i > lo {
					sb.WriteByte(',')
				}
				sb.WriteString("(")
				for c := range cols {
					if c == 9 {
						sb.WriteString("1, ")
					}
					sb.WriteString(s.placeholder(len(args) + c + 1))
					if c < cols-1 {
						sb.WriteString(", ")
					}
				}
				sb.WriteString(")")
				args = append(args, tenantOf(ctx), u.ID, r.userName, r.userNameFold, r.externalID, r.displayName, r.active,
					r.created, r.lastModified, r.data, r.search)
			}
			if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
				tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkPatchSQLite measures Entra's attribute-change PATCH (replace displayName, alternately to two
// values, so each one writes) through the handler over SQLite at 1k users: its time and allocations, which
// the conversions of the user between its forms dominate (issue 18: one encode in the handler, one in the
// Store, and the Store's folded search copy built from User.Document, not from decoding the JSON).
//
//	go test ./sqlstore -run '^$' -bench PatchSQLite -benchmem
func BenchmarkPatchSQLite(b *testing.B) {
	h := scim.MustNew(seeded(b, "sqlite", 1_000), scim.WithTokens("t"))
	id := benchUser(500).ID
	body := [2]string{}
	for i := range body {
		body[i] = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"Name ` + fmt.Sprint(i) + `"}]}`
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		req := httptest.NewRequest("PATCH", "/Users/"+id, strings.NewReader(body[i%2]))
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", "application/scim+json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
		}
	}
}
