package scim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
)

// The hostile-input suite: each attack that cost seconds of CPU (or a tenant's worth of memory) with one
// tenant's token is refused with a 4xx naming its limit, or completes within its budget. Budgets are
// asserted on allocation and iteration counts, never on wall time.

// emailsValue returns a JSON array of n distinct emails.
func emailsValue(n, from int) string {
	vals := make([]string, n)
	for i := range vals {
		vals[i] = fmt.Sprintf(`{"value":"u%d@example.com","type":"work"}`, from+i)
	}
	return "[" + strings.Join(vals, ",") + "]"
}

// TestHostilePatchValues: 8000 distinct emails in one add (108 KiB, 42.8 s of CPU before) is refused
// before any work; at the limit, PATCH is linear in the values: allocations grow with n, not n².
func TestHostilePatchValues(t *testing.T) {
	s := newTestServer(t)
	id := s.createUser("values@example.com")
	r := s.do("PATCH", "/Users/"+id, patchOp(`{"op":"add","path":"emails","value":`+emailsValue(8000, 0)+`}`))
	requireError(t, r, 400, "invalidValue")
	require.Contains(t, r.Body["detail"], "more than 1000 values")
	// The same through POST and a path-less PATCH.
	requireError(t, s.do("POST", "/Users", `{"userName":"many","emails":`+emailsValue(1001, 0)+`}`), 400, "invalidValue")
	requireError(t, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"add","value":{"emails":`+emailsValue(1001, 0)+`}}`)), 400, "invalidValue")
	// Growing past the limit over several requests is refused too.
	require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"add","path":"emails","value":`+emailsValue(1000, 0)+`}`)).Status)
	requireError(t, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"add","path":"emails","value":`+emailsValue(1, 5000)+`}`)), 400, "invalidValue")

	// Linear: re-adding n values to a user that has them (dedupe), and removing them by value.
	allocs := func(n int) float64 {
		id := s.createUser("linear" + strconv.Itoa(n) + "@example.com")
		add := patchOp(`{"op":"add","path":"emails","value":` + emailsValue(n, 0) + `}`)
		remove := patchOp(`{"op":"remove","path":"emails","value":` + emailsValue(n, 0) + `}`)
		return testing.AllocsPerRun(3, func() {
			require.Equal(t, 200, s.do("PATCH", "/Users/"+id, add).Status)
			require.Equal(t, 200, s.do("PATCH", "/Users/"+id, add).Status)
			require.Equal(t, 200, s.do("PATCH", "/Users/"+id, remove).Status)
		})
	}
	small, large := allocs(250), allocs(1000)
	t.Logf("allocations: %0.f for 250 values, %0.f for 1000", small, large)
	require.Less(t, large/small, 6.0, "4x the values must cost about 4x, not 16x")
}

// TestHostilePathlessKeys: the keys of a path-less value count as operations.
func TestHostilePathlessKeys(t *testing.T) {
	s := newTestServer(t, scim.WithLimits(scim.Limits{MaxOperations: 3}))
	id := s.createUser("keys@example.com")
	require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"replace","value":{"title":"a","nickName":"b","displayName":"c"}}`)).Status)
	r := s.do("PATCH", "/Users/"+id, patchOp(`{"op":"replace","value":{"title":"a","nickName":"b","displayName":"c","locale":"d"}}`))
	requireError(t, r, 400, "invalidValue")
	require.Contains(t, r.Body["detail"], "at most 3 operations")
	ext := `{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"a","division":"b","costCenter":"c"}}}`
	requireError(t, s.do("PATCH", "/Users/"+id, patchOp(ext)), 400, "invalidValue")
}

// TestHostileFilterCost: the 4 KB filter of 227 "emails co" terms (30 s on 40k users in SQLite) is
// refused, naming the limit; so is one of too many comparisons.
func TestHostileFilterCost(t *testing.T) {
	s := newTestServer(t)
	terms := make([]string, 227)
	for i := range terms {
		terms[i] = `emails co "` + string(rune('a'+i%26)) + `"`
	}
	f := strings.Join(terms, " or ")
	require.Less(t, len(f), 4096)
	r := s.do("GET", "/Users?filter="+url.QueryEscape(f), "")
	requireError(t, r, 400, "invalidFilter")
	require.Contains(t, r.Body["detail"], "more than 10 comparisons on multi-valued attributes")
	r = s.do("GET", "/Users?filter="+url.QueryEscape(strings.Repeat(`title eq "x" or `, 150)+`title pr`), "")
	requireError(t, r, 400, "invalidFilter")
	require.Contains(t, r.Body["detail"], "more than 100 comparisons")
	// A filter within both limits is answered.
	require.Equal(t, 200, s.do("GET", "/Users?filter="+url.QueryEscape(strings.Join(terms[:10], " or ")), "").Status)
}

// TestHostileProjection: 40,000 excludedAttributes names (13.5 s for one page before) are refused.
func TestHostileProjection(t *testing.T) {
	s := newTestServer(t)
	id := s.createUser("proj@example.com")
	names := strings.TrimSuffix(strings.Repeat("displayName,", 40000), ",")
	for _, path := range []string{"/Users?excludedAttributes=" + names, "/Users/" + id + "?attributes=" + names} {
		r := s.do("GET", path, "")
		requireError(t, r, 400, "invalidValue")
		require.Contains(t, r.Body["detail"], "more than 100 names")
	}
	r := s.do("POST", "/Users/.search", `{"excludedAttributes":`+mustJSON(strings.Split(names, ","))+`}`)
	requireError(t, r, 400, "invalidValue")
	require.Equal(t, 200, s.do("GET", "/Users?attributes="+strings.TrimSuffix(strings.Repeat("userName,", 100), ","), "").Status)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestHostileScan: a sortBy or an unindexed filter over more users than Limits.MaxScan is 400 tooMany; within
// it, the page is right (the bounded heap agrees with a full sort) and an indexed filter is never counted.
func TestHostileScan(t *testing.T) {
	s := newTestServer(t, scim.WithLimits(scim.Limits{MaxScan: 50}))
	for i := range 60 {
		s.createUser(fmt.Sprintf("user%03d@example.com", (i*37)%60))
	}
	for _, q := range []string{"sortBy=userName", "filter=" + url.QueryEscape(`title pr`), "filter=" + url.QueryEscape(`userName sw "user"`) + "&cursor="} {
		r := s.do("GET", "/Users?"+q, "")
		requireError(t, r, 400, "tooMany")
		require.Contains(t, r.Body["detail"], "more than 50 users")
	}
	require.Equal(t, 200, s.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "user007@example.com"`), "").Status)
	require.Equal(t, 200, s.do("GET", "/Users?cursor=&count=5", "").Status)

	small := newTestServer(t, scim.WithLimits(scim.Limits{MaxScan: 50}))
	for i := range 50 {
		small.createUser(fmt.Sprintf("user%03d@example.com", (i*37)%50))
	}
	for _, order := range []string{"ascending", "descending"} {
		r := small.do("GET", "/Users?sortBy=userName&sortOrder="+order+"&startIndex=11&count=5", "")
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.Equal(t, 50.0, r.Body["totalResults"])
		var got []string
		for _, u := range resources(t, r.Body) {
			got = append(got, u["userName"].(string))
		}
		want := []string{"user010@example.com", "user011@example.com", "user012@example.com", "user013@example.com", "user014@example.com"}
		if order == "descending" {
			want = []string{"user039@example.com", "user038@example.com", "user037@example.com", "user036@example.com", "user035@example.com"}
		}
		require.Equal(t, want, got)
	}
}

// TestCollectorBounds: the Collector examines at most MaxScan users, keeps at most a page's depth of them,
// and stops when its context ends.
func TestCollectorBounds(t *testing.T) {
	rt := schema.User()
	sortBy, _ := rt.Resolve("userName")
	users := make([]*scim.User, 1000)
	for i := range users {
		users[i] = &scim.User{ID: strconv.Itoa(i), UserName: fmt.Sprintf("u%04d", (i*7919)%1000)}
	}
	c := scim.NewCollector(context.Background(), scim.Query{SortBy: sortBy, StartIndex: 3, Count: 2, MaxScan: 100})
	var err error
	for _, u := range users {
		if err = c.Add(u); err != nil {
			break
		}
	}
	require.ErrorIs(t, err, scim.ErrTooMany)
	require.Equal(t, 101, c.Scanned())

	c = scim.NewCollector(context.Background(), scim.Query{SortBy: sortBy, StartIndex: 3, Count: 2})
	for _, u := range users {
		require.NoError(t, c.Add(u))
	}
	p := c.Page()
	require.Equal(t, 1000, p.TotalResults)
	require.Equal(t, []string{"u0002", "u0003"}, []string{p.Users[0].UserName, p.Users[1].UserName})
	require.Equal(t, scim.ApplyQuery(users, scim.Query{SortBy: sortBy, StartIndex: 3, Count: 2}).Users, p.Users)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c = scim.NewCollector(ctx, scim.Query{Filter: mustFilter(t, `title pr`), Count: 10})
	n := 0
	for _, u := range users {
		if err = c.Add(u); err != nil {
			break
		}
		n++
	}
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, n, 64, "the context is checked every 64 users")
}

func mustFilter(t *testing.T, s string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(schema.User(), s)
	require.NoError(t, err)
	return e
}

// TestHostilePageSize: users with large values make shorter pages (itemsPerPage says how many), never a
// response past Limits.MaxPageBytes; index and cursor paging still visit every user once.
func TestHostilePageSize(t *testing.T) {
	s := newTestServer(t, scim.WithLimits(scim.Limits{MaxPageBytes: 16 << 10}))
	for i := range 12 {
		s.create(`{"userName":"big` + strconv.Itoa(i) + `","displayName":"` + strings.Repeat("x", 3000) + `"}`)
	}
	r := s.do("GET", "/Users?count=100", "")
	require.Equal(t, 200, r.Status)
	require.LessOrEqual(t, len(r.Raw), 17<<10)
	items := int(r.Body["itemsPerPage"].(float64))
	require.Less(t, items, 12)
	require.Len(t, resources(t, r.Body), items)
	require.Equal(t, 12.0, r.Body["totalResults"])

	seen := map[string]bool{}
	for start := 1; start <= 12; {
		r := s.do("GET", "/Users?count=100&startIndex="+strconv.Itoa(start), "")
		for _, u := range resources(t, r.Body) {
			seen[u["userName"].(string)] = true
		}
		start += int(r.Body["itemsPerPage"].(float64))
	}
	require.Len(t, seen, 12)

	seen = map[string]bool{}
	for cursor, pages := "", 0; pages == 0 || cursor != ""; pages++ {
		r := s.do("GET", "/Users?count=100&cursor="+url.QueryEscape(cursor), "")
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.LessOrEqual(t, len(r.Raw), 17<<10)
		for _, u := range resources(t, r.Body) {
			require.False(t, seen[u["userName"].(string)], "no user twice")
			seen[u["userName"].(string)] = true
		}
		cursor, _ = r.Body["nextCursor"].(string)
	}
	require.Len(t, seen, 12)
}

// TestHostileResourceSize: a PATCH cannot grow a user past Limits.MaxResourceBytes.
func TestHostileResourceSize(t *testing.T) {
	s := newTestServer(t, scim.WithLimits(scim.Limits{MaxResourceBytes: 4096}))
	id := s.createUser("size@example.com")
	require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"add","path":"title","value":"`+strings.Repeat("x", 2000)+`"}`)).Status)
	requireError(t, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"add","path":"nickName","value":"`+strings.Repeat("x", 2500)+`"}`)), 413, "")
	requireError(t, s.do("POST", "/Users", `{"userName":"big","title":"`+strings.Repeat("x", 5000)+`"}`), 413, "")
}

// BenchmarkGroupPatchAddRemove: a group PATCH that adds 20,000 ids and removes the same ones (a hostile
// tenant's shape; the ids need not exist, so nothing reaches the Store). Its cost must grow linearly with the
// list: with a slice deletion per removed id it took 1.5 s at 20,000 ids and 5.3 s at 40,000.
func BenchmarkGroupPatchAddRemove(b *testing.B) {
	h := scim.MustNew(memstore.New(), scim.WithTokens(testToken), scim.WithLimits(scim.Limits{Tenant: scim.TenantLimits{MaxConcurrent: scim.NoLimit}}))
	rec := fuzzServe(h, "POST", "/Groups", `{"displayName":"g"}`)
	var g struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &g); err != nil || g.ID == "" {
		b.Fatalf("group: %s", rec.Body)
	}
	var list strings.Builder
	for i := range 20_000 {
		if i > 0 {
			list.WriteByte(',')
		}
		fmt.Fprintf(&list, `{"value":"%036d"}`, i)
	}
	body := `{"Operations":[{"op":"add","path":"members","value":[` + list.String() + `]},` +
		`{"op":"remove","path":"members","value":[` + list.String() + `]}]}`
	b.ResetTimer()
	for b.Loop() {
		if rec := fuzzServe(h, "PATCH", "/Groups/"+g.ID, body); rec.Code != 204 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
