package sqlstore

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/scimtest"
	"github.com/scimkit/scim/sqlstore/internal/sqlfilter"
)

func TestConformanceSQLite(t *testing.T) {
	scimtest.TestStore(t, func(t *testing.T) scim.Store { return newSQLite(t) })
}

func TestConformancePostgres(t *testing.T) {
	postgresDSN(t)
	scimtest.TestStore(t, func(t *testing.T) scim.Store { return newPostgres(t) })
}

// stores runs f against every SQL store this machine can run.
func stores(t *testing.T, f func(t *testing.T, open func(t *testing.T) *Store)) {
	t.Run("sqlite", func(t *testing.T) { f(t, func(t *testing.T) *Store { return newSQLite(t) }) })
	t.Run("postgres", func(t *testing.T) {
		postgresDSN(t)
		f(t, func(t *testing.T) *Store { return newPostgres(t) })
	})
}

func user(name string) *scim.User {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &scim.User{ID: "id-" + name, UserName: name, Meta: scim.Meta{Created: now, LastModified: now}}
}

// TestSQLitePersists: data survives closing and reopening the file, as the example server's does a restart.
func TestSQLitePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scim.db")
	ctx := scim.ContextWithTenant(context.Background(), "")
	s, err := openSQLite(ctx, path)
	require.NoError(t, err)
	_, err = s.Create(ctx, user("kept@example.com"))
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = openSQLite(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	u, err := s.Get(ctx, "id-kept@example.com")
	require.NoError(t, err)
	require.Equal(t, "kept@example.com", u.UserName)
}

// TestMigrationsConcurrent: replicas starting together all succeed, and each migration runs once.
func TestMigrationsConcurrent(t *testing.T) {
	ctx := scim.ContextWithTenant(context.Background(), "")
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "scim.db")
		openMany(t, func() (*Store, error) { return openSQLite(ctx, path) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := freshPostgres(t)
		openMany(t, func() (*Store, error) { return openPostgres(ctx, dsn) })
	})
}

func openMany(t *testing.T, open func() (*Store, error)) {
	var wg sync.WaitGroup
	got := make(chan *Store, 8)
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			s, err := open()
			if err != nil {
				errs <- err
				return
			}
			got <- s
		})
	}
	wg.Wait()
	close(got)
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var last *Store
	for s := range got {
		t.Cleanup(func() { s.Close() })
		last = s
	}
	var n, max int
	require.NoError(t, last.db.QueryRow(`SELECT count(*), max(version) FROM scim_migrations`).Scan(&n, &max))
	require.Equal(t, len(migrations), n, "each migration is recorded once")
	require.Equal(t, len(migrations), max)
}

// TestFallbackInGo: what the SQL mapping cannot express (sorting by a multi-valued attribute) is answered by
// evaluating in Go, with the same result as the reference implementation.
func TestFallbackInGo(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s, ctx := open(t), scim.ContextWithTenant(context.Background(), "")
		var all []*scim.User
		for i, mail := range []string{"c@x", "a@x", "b@x"} {
			u := user(fmt.Sprint("u", i))
			u.Emails = []scim.MultiValue{{Value: mail, Type: "work"}}
			_, err := s.Create(ctx, u)
			require.NoError(t, err)
			all = append(all, u)
		}
		p, _ := schema.User().Resolve("emails.value")
		_, err := s.mapping.OrderBy(p, false)
		require.ErrorIs(t, err, sqlfilter.ErrUnsupported, "this test needs a sort SQL cannot express")
		q := scim.Query{SortBy: p, StartIndex: 1, Count: 10}
		page, err := s.List(ctx, q)
		require.NoError(t, err)
		want := scim.ApplyQuery(all, q)
		require.Equal(t, names(want.Users), names(page.Users))
		require.Equal(t, []string{"u1", "u2", "u0"}, names(page.Users))
	})
}

func names(users []*scim.User) []string {
	out := []string{}
	for _, u := range users {
		out = append(out, u.UserName)
	}
	return out
}

// TestInjection: SQL in filter values, attribute names, sortBy and cursors is data or an error, never SQL.
func TestInjection(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		h := scim.MustNew(s, scim.WithTokens("t"))
		do := func(method, path, body string) int {
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer t")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Code
		}
		require.Equal(t, 201, do("POST", "/Users", `{"userName":"victim@example.com"}`))
		for _, path := range []string{
			`/Users?filter=` + escape(`userName eq "x' OR '1'='1"`),
			`/Users?filter=` + escape(`userName eq "x\"; DROP TABLE scim_users; --"`),
			`/Users?filter=` + escape(`displayName co "%' OR 1=1 --"`),
			`/Users?filter=` + escape(`userName sw "%"`),
			`/Users?filter=` + escape(`userName sw "_"`),
			`/Users?filter=` + escape(`emails[value eq "') OR 1=1 --"]`),
			`/Users?filter=` + escape(`userName; DROP TABLE scim_users eq "x"`),
			`/Users?sortBy=` + escape(`userName; DROP TABLE scim_users`),
			`/Users?sortBy=` + escape(`(SELECT 1)`),
			`/Users?cursor=` + escape(`1 OR 1=1`),
			`/Users?cursor=cTEgT1IgMT0x`, // a forged cursor: base64 of "q1 OR 1=1"
		} {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer t")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Contains(t, []int{200, 400}, rec.Code, path)
			if rec.Code == 200 {
				require.Contains(t, rec.Body.String(), `"totalResults":0`, "%s matched: %s", path, rec.Body)
			}
		}
		u, err := s.List(scim.ContextWithTenant(context.Background(), ""), scim.Query{StartIndex: 1, Count: 10})
		require.NoError(t, err)
		require.Equal(t, 1, u.TotalResults, "the table is intact")
	})
}

func escape(s string) string {
	r := strings.NewReplacer(" ", "+", `"`, "%22", "%", "%25", ";", "%3B", "'", "%27", "=", "%3D", "(", "%28", ")", "%29", "[", "%5B", "]", "%5D")
	return r.Replace(s)
}

// TestReplicas: two handlers (two processes' worth of state) over one PostgreSQL database: uniqueness and
// PATCH hold across them.
func TestReplicas(t *testing.T) {
	dsn := freshPostgres(t)
	var servers []*httptest.Server
	for range 2 {
		s, err := openPostgres(context.Background(), dsn)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		mux := http.NewServeMux()
		mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.MustNew(s, scim.WithTokens("t"))))
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		servers = append(servers, srv)
	}
	send := func(i int, method, path, body string) (int, string) {
		req, err := http.NewRequest(method, servers[i%2].URL+"/scim/v2"+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}

	// Concurrent creates of one userName through both replicas: exactly one 201, the rest 409.
	statuses := make(chan int, 32)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			name := "race@example.com"
			if i%2 == 1 {
				name = "RACE@example.com"
			}
			st, _ := send(i, "POST", "/Users", `{"userName":"`+name+`"}`)
			statuses <- st
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for st := range statuses {
		count[st]++
	}
	require.Equal(t, map[int]int{201: 1, 409: 31}, count)

	// Concurrent PATCHes of different attributes through both: every change is there at the end.
	st, body := send(0, "POST", "/Users", `{"userName":"patched@example.com"}`)
	require.Equal(t, 201, st)
	id := body[strings.Index(body, `"id":"`)+6:]
	id = id[:strings.Index(id, `"`)]
	attrs := []string{"displayName", "nickName", "title", "userType", "preferredLanguage", "locale", "timezone", "profileUrl",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division"}
	for i, a := range attrs {
		wg.Go(func() {
			st, body := send(i, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
				"Operations":[{"op":"Replace","path":"`+a+`","value":"v`+fmt.Sprint(i)+`"}]}`)
			require.Equal(t, 200, st, body)
		})
	}
	wg.Wait()
	s, err := openPostgres(context.Background(), dsn)
	require.NoError(t, err)
	defer s.Close()
	got, err := s.Get(scim.ContextWithTenant(context.Background(), ""), id)
	require.NoError(t, err)
	doc := map[string]string{
		"displayName": got.DisplayName, "nickName": got.NickName, "title": got.Title, "userType": got.UserType,
		"preferredLanguage": got.PreferredLanguage, "locale": got.Locale, "timezone": got.Timezone, "profileUrl": got.ProfileURL,
	}
	if e := got.Enterprise; e != nil {
		doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"] = e.EmployeeNumber
		doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"] = e.Department
		doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"] = e.CostCenter
		doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division"] = e.Division
	}
	for i, a := range attrs {
		require.Equal(t, "v"+fmt.Sprint(i), doc[a], "the PATCH of %s was lost", a)
	}
}
