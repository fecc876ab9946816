package sqlstore

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// waiting is how many calls of tenant wait in g.
func (g *gate) waiting(tenant string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if l := g.lanes[tenant]; l != nil {
		return len(l.waiting)
	}
	return 0
}

// admitted is a queued call once admitted: its lane, nil when its context ended first.
type admitted struct {
	tenant string
	lane   *lane
}

// queue starts a call of tenant that waits in g (the caller has filled its share or the pool); it reports
// on out once admitted.
func queue(t *testing.T, ctx context.Context, g *gate, tenant string, out chan<- admitted) {
	t.Helper()
	n := g.waiting(tenant)
	go func() {
		l, err := g.enter(ctx, tenant)
		if err != nil {
			require.ErrorIs(t, err, scim.ErrBusy)
		}
		out <- admitted{tenant, l}
	}()
	for g.waiting(tenant) == n { // until it is in the queue: its place is then fixed
		runtime.Gosched()
	}
}

func TestGateShare(t *testing.T) {
	ctx := context.Background()
	g := newGate(4, 2)
	enter := func(tenant string) *lane {
		l, err := g.enter(ctx, tenant)
		require.NoError(t, err)
		return l
	}
	// Alone, A takes all but one connection; its next call waits.
	a1, a2, a3 := enter("a"), enter("a"), enter("a")
	a4 := make(chan admitted, 1)
	queue(t, ctx, g, "a", a4)

	// B finds the connection left free.
	b1 := enter("b")

	// With B in, A's limit is its share: a connection A frees does not go to A's waiter while A holds 2.
	g.leave(a1)
	require.Equal(t, 1, g.waiting("a"))
	b2 := enter("b") // B, below its share, takes it

	// A waiter whose context ends leaves the queue with ErrBusy.
	cctx, cancel := context.WithCancel(ctx)
	a5 := make(chan admitted, 1)
	queue(t, cctx, g, "a", a5)
	cancel()
	require.Nil(t, (<-a5).lane)
	require.Equal(t, 1, g.waiting("a"))

	// Once B is gone, A is alone again and its waiter enters.
	g.leave(b1)
	require.Equal(t, 1, g.waiting("a"), "A holds its share while B is in")
	g.leave(b2)
	l := (<-a4).lane
	require.NotNil(t, l)
	for _, l := range []*lane{a2, a3, l} {
		g.leave(l)
	}
	require.Zero(t, g.tenants(), "no state is kept for idle tenants")
}

// TestGateTurns: with one connection (SQLite's writer), tenants take it in turn, each tenant's calls in
// their order: B's one write waits for at most one of A's, however many A queued first.
func TestGateTurns(t *testing.T) {
	ctx := context.Background()
	g := newGate(1, 1)
	held, err := g.enter(ctx, "a")
	require.NoError(t, err)
	out := make(chan admitted, 5)
	for _, tenant := range []string{"a", "a", "a", "b", "c"} {
		queue(t, ctx, g, tenant, out)
	}
	var order []string
	for range 5 {
		g.leave(held)
		next := <-out
		require.NotNil(t, next.lane)
		require.Empty(t, out, "one connection, one call admitted")
		order = append(order, next.tenant)
		held = next.lane
	}
	g.leave(held)
	require.Equal(t, []string{"a", "b", "c", "a", "a"}, order)
	require.Zero(t, g.tenants())
}

func TestGateUnbounded(t *testing.T) {
	var g *gate = newGate(0, 1)
	require.Nil(t, g)
	l, err := g.enter(context.Background(), "a")
	require.NoError(t, err)
	g.leave(l)
}

// TestTenantShare: with a pool of 4 connections, tenant A's calls hold at most its share (2) while B has a
// call in the store, and all but one connection while A is alone, so B's read gets a connection while A's
// extra calls wait and are refused with scim.ErrBusy when their deadline comes; without shares
// (TenantShare: scim.NoLimit) A's four calls hold the whole pool and B waits too. Connections are held by
// MemberIDs calls whose yield blocks until the test lets them go: statements the test controls, not
// timing. Through HTTP, the refusal is a 429 with Retry-After.
func TestTenantShare(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		for _, tc := range []struct {
			name   string
			share  int  // PoolConfig.TenantShare
			bFirst bool // B holds a connection before A's calls come
			holds  int  // A's calls holding connections
			bWaits bool
		}{
			{"A alone first", 0, false, 3, false},
			{"B in first", 0, true, 2, false},
			{"B in first, share 3", 3, true, 3, true}, // B's one connection, A's three: the pool is full
			{"no shares", scim.NoLimit, false, 4, true},
		} {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				if kind == "postgres" {
					postgresDSN(t)
				}
				s := openShared[kind](t, WithPool(PoolConfig{MaxOpen: 4, TenantShare: tc.share}))
				ctxA := scim.ContextWithTenant(context.Background(), "a")
				ctxB := scim.ContextWithTenant(context.Background(), "b")
				for _, ctx := range []context.Context{ctxA, ctxB} {
					_, err := s.Create(ctx, user("u"))
					require.NoError(t, err)
				}
				for _, ctx := range []context.Context{ctxA, ctxB} {
					g := &scim.Group{ID: "g", DisplayName: "g", Members: []scim.Member{{Value: "id-u"}}}
					_, err := s.CreateGroup(ctx, g)
					require.NoError(t, err)
				}

				// Holders: each is inside MemberIDs, its statement open, until release closes.
				release := make(chan struct{})
				holding := make(chan struct{})
				var wg sync.WaitGroup
				hold := func(ctx context.Context) {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for _, err := range s.MemberIDs(ctx, "g") {
							require.NoError(t, err)
							holding <- struct{}{}
							<-release
						}
					}()
					<-holding
				}
				if tc.bFirst {
					hold(ctxB)
				}
				for range tc.holds {
					hold(ctxA)
				}

				// A's next call waits for its share and is refused when its deadline comes (the deadline
				// only bounds the test: A's holders never leave before it).
				short, cancel := context.WithTimeout(ctxA, 50*time.Millisecond)
				_, err := s.Get(short, "id-u")
				cancel()
				require.ErrorIs(t, err, scim.ErrBusy)

				// B's read.
				wait := time.Minute // a hang fails here rather than at the test binary's timeout
				if tc.bWaits {
					wait = 50 * time.Millisecond
				}
				ctx, cancel := context.WithTimeout(ctxB, wait)
				u, err := s.Get(ctx, "id-u")
				cancel()
				if tc.bWaits {
					require.ErrorIs(t, err, scim.ErrBusy, "the pool is full")
				} else {
					require.NoError(t, err)
					require.Equal(t, "u", u.UserName)
				}

				// Through HTTP: A is answered 429 with Retry-After while B is served.
				h := scim.MustNew(s, scim.WithLimits(scim.Limits{RequestTimeout: 100 * time.Millisecond}),
					scim.WithAuthenticator(func(r *http.Request) (string, error) {
						tok, _ := scim.BearerToken(r)
						return tok, nil
					}))
				get := func(tenant string) *httptest.ResponseRecorder {
					req := httptest.NewRequest("GET", "/Users/id-u", nil)
					req.Header.Set("Authorization", "Bearer "+tenant)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					return rec
				}
				rec := get("a")
				require.Equal(t, http.StatusTooManyRequests, rec.Code, rec.Body.String())
				require.NotEmpty(t, rec.Header().Get("Retry-After"))
				require.Contains(t, rec.Body.String(), "share of the database")
				if !tc.bWaits {
					rec = get("b")
					require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				}

				close(release)
				wg.Wait()
				_, err = s.Get(ctxA, "id-u") // A's share is free again
				require.NoError(t, err)
				require.Zero(t, s.readers.tenants())
			})
		}
	}
}

// openShared opens a store of each kind with opts.
var openShared = map[string]func(t *testing.T, opts ...Option) *Store{
	"sqlite": func(t *testing.T, opts ...Option) *Store {
		s, err := openSQLite(context.Background(), filepath.Join(t.TempDir(), "scim.db"), opts...)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	},
	"postgres": func(t *testing.T, opts ...Option) *Store {
		s, err := openPostgres(context.Background(), freshPostgres(t), opts...)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	},
}

// TestNestedCallsShareTheirSlot: a list whose filter names groups reads each batch's groups with
// GroupsOf from within List. The inner call runs on the outer one's admission: with a pool of one
// connection (one call of a tenant at a time), a second admission would wait for the first forever and
// end in ErrBusy. Cursor lists, answered in Go too, see the users' groups as well.
func TestNestedCallsShareTheirSlot(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			if kind == "postgres" {
				postgresDSN(t)
			}
			s := openShared[kind](t, WithPool(PoolConfig{MaxOpen: 1}))
			ctx, cancel := context.WithTimeout(scim.ContextWithTenant(context.Background(), "a"), 10*time.Second)
			defer cancel()
			var ids []string
			for _, name := range []string{"u1", "u2", "u3"} {
				u, err := s.Create(ctx, user(name))
				require.NoError(t, err)
				ids = append(ids, u.ID)
			}
			_, err := s.CreateGroup(ctx, &scim.Group{ID: "g", DisplayName: "Team", Members: []scim.Member{{Value: ids[0]}, {Value: ids[2]}}})
			require.NoError(t, err)
			e, err := filter.Parse(schema.User(), `groups.display eq "Team"`)
			require.NoError(t, err)
			q := scim.Query{Filter: e, StartIndex: 1, Count: 10, MaxScan: 100}
			page, err := s.List(ctx, q)
			require.NoError(t, err)
			require.Equal(t, []string{ids[0], ids[2]}, userIDs(page.Users))
			page, err = s.ListCursor(ctx, q, "")
			require.NoError(t, err)
			require.Equal(t, []string{ids[0], ids[2]}, userIDs(page.Users))
			require.Equal(t, 2, page.TotalResults)
		})
	}
}

func userIDs(users []*scim.User) []string {
	var ids []string
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	return ids
}
