package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimkit/scim/memstore"
	"github.com/stretchr/testify/require"
)

// The hot paths through each handler in process, with allocations per request:
//
//	go test ./bench -run '^$' -bench . -benchmem
//	go test ./bench -run '^$' -bench 'GetByID/ours' -benchmem -cpuprofile cpu.prof -memprofile mem.prof
//
// BenchmarkHarness is the cost of building a request and a writer: subtract it for the handler's own.

// TestMain lets the test binary be a child server too (child.go re-executes os.Args[0] with -serve=<kind>).
func TestMain(m *testing.M) {
	if kind, ok := serveKind(os.Args[1:]); ok {
		os.Exit(serveChild(kind))
	}
	os.Exit(m.Run())
}

var (
	envOnce sync.Once
	env     *microEnv
	envErr  error
)

func benchEnv(tb testing.TB) *microEnv {
	envOnce.Do(func() { env, envErr = newMicroEnv(10_000) })
	require.NoError(tb, envErr)
	return env
}

func benchOp(b *testing.B, op string) {
	e := benchEnv(b)
	for _, server := range []string{"ours", "elimity"} {
		b.Run("server="+server, func(b *testing.B) {
			h := e.handler(server)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if err := serveOnce(h, op, e.n, draw{r: (i * 7919) % e.n, k: nextK()}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGetByID(b *testing.B)    { benchOp(b, opGet) }
func BenchmarkUserNameEq(b *testing.B) { benchOp(b, opEqHit) }
func BenchmarkPost(b *testing.B)       { benchOp(b, opPost) }
func BenchmarkPatch(b *testing.B)      { benchOp(b, opPatch) }

// BenchmarkSQLite is the same hot paths over sqlstore's SQLite (10k users, a fresh file), to profile the SQL
// side: go test ./bench -run '^$' -bench SQLite/op=post -cpuprofile cpu.prof
func BenchmarkSQLite(b *testing.B) {
	const n = 10_000
	s, closeStore, err := openSQLStore("sqlite")
	require.NoError(b, err)
	defer closeStore()
	require.NoError(b, seedSQL(singleTenant(), s, n, false))
	h := ourHandler(s)
	for _, op := range microOps {
		b.Run("op="+op, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if err := serveOnce(h, op, n, draw{r: (i * 7919) % n, k: nextK()}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHarness(b *testing.B) {
	for _, op := range microOps {
		b.Run("op="+op, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				requestOnly(op, 10_000, draw{r: i % 10_000, k: nextK()})
			}
		})
	}
}

// TestEveryServerAnswersEveryOp runs each op's checked iteration against each server over loopback, as the
// benchmark does before measuring.
func TestEveryServerAnswersEveryOp(t *testing.T) {
	const n = 300
	mem, err := seedMemory(n)
	require.NoError(t, err)
	docs, err := seedDocsMemory(n)
	require.NoError(t, err)
	ours, err := startTarget("ours", "memory", ourHandler(mem, withAccounts(docs)), 2)
	require.NoError(t, err)
	defer ours.close()
	ceil := &ceiling{answers: map[string]map[string]*canned{}}
	pool, err := capture(ours, ceil, slices.DeleteFunc(slices.Clone(allOps), isDocOp), n, 8, rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	c, err := startTarget("ceiling", "-", ceil, 2)
	require.NoError(t, err)
	defer c.close()
	c.pool = pool
	h, err := newElimityServer(seedElimity(n), benchToken)
	require.NoError(t, err)
	el, err := startTarget("elimity", "map", h, 2)
	require.NoError(t, err)
	defer el.close()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tg := range []*target{ours, c, el} {
		for _, op := range allOps {
			if isDocOp(op) && tg != ours {
				continue // no declared types there
			}
			for range 3 {
				require.NoError(t, tg.check(op, n, tg.newDraw(op, n, rng)), "%s %s", tg.name(), op)
			}
		}
		l := tg.run(opSync, n, 2, 30*time.Second, 20) // stops after 20: the time is only a backstop on a busy machine
		require.Zero(t, l.errors, l.first)
		require.Equal(t, 20, l.iters)
	}
}

// TestSeedsMatchTheAPI checks that the users seeded directly into each store are what the API would have
// made: the same GET answer from ours over memstore and SQLite, and the same attributes in elimity's
// handler as its Server makes of Entra's POST.
func TestSeedsMatchTheAPI(t *testing.T) {
	const n = 50
	mem, err := seedMemory(n)
	require.NoError(t, err)
	s, closeStore, err := openSQLStore("sqlite")
	require.NoError(t, err)
	defer closeStore()
	require.NoError(t, seedSQL(singleTenant(), s, n, false))
	for _, i := range []int{0, 17, n - 1} {
		var bodies []string
		for _, h := range []http.Handler{ourHandler(mem), ourHandler(s)} {
			req, _ := microRequest(opGet, n, draw{r: i})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, 200, rec.Code, rec.Body.String())
			bodies = append(bodies, rec.Body.String())
		}
		require.JSONEq(t, bodies[0], bodies[1])
	}

	// Accounts: the same GET answer over both stores, and the attributes the handler makes of a POST.
	docs, err := seedDocsMemory(n)
	require.NoError(t, err)
	require.NoError(t, seedDocsSQL(singleTenant(), s, n, false))
	for _, i := range []int{0, 17, n - 1} {
		for _, op := range []string{opDocGet, opDocEq} {
			var bodies []string
			for _, h := range []http.Handler{ourHandler(mem, withAccounts(docs)), ourHandler(s, withAccounts(s.Resources(accountType)))} {
				req, _ := microRequest(op, n, draw{r: i})
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				require.Equal(t, 200, rec.Code, rec.Body.String())
				bodies = append(bodies, rec.Body.String())
			}
			require.JSONEq(t, bodies[0], bodies[1])
		}
	}
	fresh := memstore.NewDocuments(accountType)
	a := account(7)
	accountBody, err := json.Marshal(a.Attributes)
	require.NoError(t, err)
	areq := httptest.NewRequest("POST", "/Accounts", strings.NewReader(string(accountBody)))
	areq.Header.Set("Authorization", "Bearer "+benchToken)
	arec := httptest.NewRecorder()
	ourHandler(memstore.New(), withAccounts(fresh)).ServeHTTP(arec, areq)
	require.Equal(t, 201, arec.Code, arec.Body.String())
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal(arec.Body.Bytes(), &created))
	got, err := fresh.Get(singleTenant(), created.ID)
	require.NoError(t, err)
	require.Equal(t, a.Attributes, got.Attributes)

	// elimity: POST Entra's body for a user shaped like user 7, then compare what the handler stored.
	eh := seedElimity(n)
	srv, err := newElimityServer(eh, benchToken)
	require.NoError(t, err)
	body := strings.NewReplacer(`"displayName":"Jane Doe 1"`, `"displayName":"`+displayName(7)+`"`,
		`"formatted":"Jane Doe 1","familyName":"Doe","givenName":"Jane"`,
		fmt.Sprintf(`"formatted":%q,"familyName":%q,"givenName":%q`, displayName(7), familyName(7), givenName(7)),
		`"00000001-8d2a-4f8e-bf98-7363c4aed4ef"`, `"`+externalID(7)+`"`,
	).Replace(string(entraPostBody("copy@contoso.com", 1)))
	req := httptest.NewRequest("POST", "/Users", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+benchToken)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	require.Equal(t, 201, rec.Code, rec.Body.String())
	posted := eh.byName["copy@contoso.com"].attrs
	want := elimityAttrs(7)
	want["userName"] = "copy@contoso.com"
	want["emails"].([]interface{})[0].(map[string]interface{})["value"] = "copy@contoso.com"
	gotJSON, _ := json.Marshal(posted)
	wantJSON, _ := json.Marshal(want)
	require.JSONEq(t, string(wantJSON), string(gotJSON))
}

// tinyGroups is the group data at a size a test runs in a second.
var tinyGroups = groupScale{big: 300, listGroups: 120, listMembers: 20, syncGroups: 12, syncMembers: 600}

// TestGroupOps runs the group ops' checked iterations, then the whole group sync (which reads groups back to
// check that no membership was lost), against ours over memstore and SQLite and against elimity's Server.
func TestGroupOps(t *testing.T) {
	sc := tinyGroups
	n := sc.users()
	mem, err := seedGroupsMemory(sc)
	require.NoError(t, err)
	s, closeStore, err := openSQLStore("sqlite")
	require.NoError(t, err)
	defer closeStore()
	require.NoError(t, seedGroupsSQL(singleTenant(), s, sc, false))
	users := seedElimity(n)
	groups, err := seedElimityGroups(users, sc)
	require.NoError(t, err)
	eh, err := newElimityServerWithGroups(users, groups, benchToken)
	require.NoError(t, err)
	var targets []*target
	for _, tc := range []struct {
		server, store string
		h             http.Handler
	}{{"ours", "memory", ourHandler(mem)}, {"ours", "sqlite", ourHandler(s)}, {"elimity", "map", eh}} {
		tg, err := startTarget(tc.server, tc.store, tc.h, 2)
		require.NoError(t, err)
		defer tg.close()
		targets = append(targets, tg)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tg := range targets {
		for _, op := range groupOps {
			for range 3 {
				require.NoError(t, tg.check(op, n, tg.newDraw(op, n, rng)), "%s %s", tg.name(), op)
			}
			l := tg.run(op, n, 2, 30*time.Second, 20)
			require.Zero(t, l.errors, l.first)
		}
		// The groups keep their size: every add was undone.
		for id, want := range map[string]int{groupSmallID: 100, groupBigID: sc.big} {
			status, body, _, err := tg.do(call{method: "GET", uri: "/Groups/" + id})
			require.NoError(t, err)
			require.Equal(t, 200, status, string(body))
			var doc struct{ Members []struct{ Value string } }
			require.NoError(t, json.Unmarshal(body, &doc))
			require.Len(t, doc.Members, want, tg.name())
		}
		rows, err := runGroupSync(tg, sc, n)
		require.NoError(t, err)
		require.Len(t, rows, 2)
	}
}

// TestSeededGroupsMatchTheAPI checks that groups seeded into SQLite with INSERT … SELECT answer as the same
// groups seeded through memstore's API do: the page of groups, and each group with its members.
func TestSeededGroupsMatchTheAPI(t *testing.T) {
	sc := tinyGroups
	mem, err := seedGroupsMemory(sc)
	require.NoError(t, err)
	s, closeStore, err := openSQLStore("sqlite")
	require.NoError(t, err)
	defer closeStore()
	require.NoError(t, seedGroupsSQL(singleTenant(), s, sc, false))
	norm := func(body []byte) map[string]any {
		var doc map[string]any
		require.NoError(t, json.Unmarshal(body, &doc))
		var strip func(v any)
		strip = func(v any) { // times and versions differ between seedings
			switch v := v.(type) {
			case map[string]any:
				delete(v, "meta")
				for _, x := range v {
					strip(x)
				}
			case []any:
				for _, x := range v {
					strip(x)
				}
			}
		}
		strip(doc)
		if ms, ok := doc["members"].([]any); ok {
			slices.SortFunc(ms, func(a, b any) int {
				return strings.Compare(a.(map[string]any)["value"].(string), b.(map[string]any)["value"].(string))
			})
		}
		return doc
	}
	for _, uri := range []string{"/Groups?startIndex=1&count=100", "/Groups/" + groupSmallID, "/Groups/" + listGroupID(7),
		"/Users?count=0&filter=" + url.QueryEscape(`groups.value eq "`+groupBigID+`"`)} {
		var docs []map[string]any
		for _, h := range []http.Handler{ourHandler(mem), ourHandler(s)} {
			req := httptest.NewRequest("GET", uri, nil)
			req.Header.Set("Authorization", "Bearer "+benchToken)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, 200, rec.Code, rec.Body.String())
			docs = append(docs, norm(rec.Body.Bytes()))
		}
		require.Equal(t, docs[0], docs[1], uri)
	}
}

// TestChildProcess starts ours over memstore and the ceiling in child processes (as `go run ./bench`
// does by default), drives GETs at them, walks the users, and checks that the server CPU and allocations
// per request come back from the children, and that the children are gone after close.
func TestChildProcess(t *testing.T) {
	const n = 300
	o := options{pin: false, stores: map[string]bool{"memory": true}}
	ours, err := startServer(o, "memory", seedSpec{Users: n}, 2)
	require.NoError(t, err)
	defer ours.close()
	require.NotNil(t, ours.proc)
	require.NotEqual(t, os.Getpid(), ours.proc.childPID)
	ceil := &ceiling{answers: map[string]map[string]*canned{}}
	pool, err := capture(ours, ceil, []string{opGet}, n, 8, rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	c, err := startServer(o, "ceiling", seedSpec{}, 2)
	require.NoError(t, err)
	defer c.close()
	require.NoError(t, c.loadCanned(ceil))
	c.pool = pool
	for _, tg := range []*target{ours, c} {
		require.NoError(t, tg.check(opGet, n, tg.newDraw(opGet, n, rand.New(rand.NewPCG(3, 4)))), tg.name())
		l := tg.run(opGet, n, 2, 30*time.Second, 300)
		require.Zero(t, l.errors, l.first)
		require.NoError(t, l.usageErr)
		require.True(t, l.measured, tg.name())
		require.Equal(t, 300, l.requests)
		cpu, allocs := l.perRequest()
		require.Positive(t, cpu, tg.name())
		require.Positive(t, allocs, tg.name())
		t.Logf("%s: %.1f µs CPU and %.0f allocations per GET in the server process", tg.name(), cpu, allocs)
	}
	r, err := walk(ours, n, time.Minute)
	require.NoError(t, err)
	require.Equal(t, 3, r.Pages)
	require.False(t, r.partial)
	require.Positive(t, r.CPUus)
	r, err = walk(ours, n, 0) // out of time at once: the deepest pages are asked alone
	require.NoError(t, err)
	require.True(t, r.partial)
	require.Equal(t, 0, r.Pages)
	require.Equal(t, 3, r.PagesTotal)
	require.Positive(t, r.DeepP50us)

	p := ours.proc
	ours.close()
	require.NotNil(t, p.cmd.ProcessState, "the child exits when closed")
	require.True(t, p.cmd.ProcessState.Success())
}

// TestFairDBData: the fairness benchmark at the database measures what it says: A's group holds half its
// users, its cheap requests answer 200 over the seeded data, B reads only its own users, and the big PATCH
// is fairDBEmails removes of fairDBTerms terms each, under the default body limit. (A's costly requests are
// the benchmark's business, not a test's.)
func TestFairDBData(t *testing.T) {
	const nA = 1_000
	s, closeStore, err := seedFairDB("sqlite", nA)
	require.NoError(t, err)
	defer closeStore()
	tg, err := startTarget("ours", "sqlite", fairDBHandler(s, 0), 2)
	require.NoError(t, err)
	defer tg.close()
	total := func(token string, c call) int {
		status, body, _, err := tg.doAs(token, c)
		require.NoError(t, err)
		require.Equal(t, c.status, status, "%s %s: %.300s", c.method, c.uri, body)
		var page struct{ TotalResults int }
		require.NoError(t, json.Unmarshal(body, &page))
		return page.TotalResults
	}
	mix := map[string]hostileKind{}
	for _, k := range fairDBMix(nA) {
		mix[k.name] = k
	}
	require.Equal(t, nA/2, total(tokenA, mix["member paging"].call(0)))
	require.Equal(t, nA+1, total(tokenA, mix["deep sorted list"].call(3)), "A's users and the one with 1000 emails")
	status, body, _, err := tg.doAs(tokenA, mix["password PATCH"].call(7))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%.300s", body)

	status, _, _, err = tg.doAs(tokenB, call{method: "GET", uri: "/Users/" + bUser(3).ID})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	status, _, _, err = tg.doAs(tokenB, call{method: "GET", uri: "/Users/" + userID(3)})
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, status, "B does not see A's users")

	patch := mix["1000-op PATCH"].call(0).body
	require.Less(t, len(patch), 1<<20)
	var p struct{ Operations []struct{ Op, Path string } }
	require.NoError(t, json.Unmarshal(patch, &p))
	require.Len(t, p.Operations, fairDBEmails)
	for _, op := range p.Operations {
		require.Equal(t, "remove", op.Op)
		require.Equal(t, fairDBTerms, strings.Count(op.Path, "type eq"))
	}
}
