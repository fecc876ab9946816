package scim_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// eventServer serves h at the root of a test server (HTTP/1.1, or HTTP/2 over TLS) and shuts both down at the
// end of the test: the server first, then the handler, as a host does.
func eventServer(t *testing.T, h *scim.Handler, http2 bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	if http2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, h.Shutdown(ctx))
	})
	return srv
}

// clientOf is the test client of srv (an eventServer) that sends through client.
func clientOf(t *testing.T, srv *httptest.Server, client *http.Client) *testServer {
	return &testServer{t: t, URL: srv.URL, token: testToken, http: client}
}

// TestEventHookDoesNotHoldTheConnection: a hook that takes long (here: until the test releases it) delays
// neither its request's response body (HTTP/2) nor the next request on the same keep-alive connection
// (HTTP/1.1): hooks run on the handler's workers, not on the request's goroutine.
func TestEventHookDoesNotHoldTheConnection(t *testing.T) {
	for _, tt := range []struct {
		name  string
		http2 bool
	}{{"HTTP/1.1 keep-alive", false}, {"HTTP/2", true}} {
		t.Run(tt.name, func(t *testing.T) {
			started, release, finished := make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
			hook := func(context.Context, scim.Event) {
				started <- struct{}{}
				select { // a hook that would sleep 1.5 s, ended early by the test
				case <-release:
				case <-time.After(1500 * time.Millisecond):
				}
				close(finished)
			}
			h := scim.MustNew(memstore.New(), scim.WithTokens(testToken), scim.WithEvents(hook))
			srv := eventServer(t, h, tt.http2)
			client := srv.Client() // HTTP/2 over TLS: one connection, multiplexed
			if !tt.http2 {
				client = &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
				defer client.CloseIdleConnections()
			}

			r := clientOf(t, srv, client).do("POST", "/Users", `{"userName":"slow.hook@example.com"}`)
			require.Equal(t, http.StatusCreated, r.Status, "the whole response arrived")
			<-started // the hook is running

			var reused bool
			trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
			req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET",
				srv.URL+"/Users", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := client.Do(req)
			require.NoError(t, err)
			_, err = io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.True(t, reused, "the second request went over the first one's connection")
			if tt.http2 {
				require.Equal(t, 2, resp.ProtoMajor)
			}
			select {
			case <-finished:
				t.Fatal("the second request completed only after the hook finished")
			default:
			}
			close(release)
			<-finished
		})
	}
}

// lagStore is a memstore whose writes return a moment after they commit, as a database's do over the
// network: the window in which a later write of the same user can overtake an earlier one's event.
type lagStore struct{ *memstore.Store }

func (s lagStore) Replace(ctx context.Context, u *scim.User, version string) (*scim.User, error) {
	out, err := s.Store.Replace(ctx, u, version)
	time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
	return out, err
}

// TestEventsPerUserOrder: 30 users, each renamed on one connection and deactivated on another at the same
// time (without the per-user lock, this test fails nearly every run). Whichever write commits first, the hook sees each user's events in commit order: their versions
// strictly increase, and the last one is the version the Store holds.
func TestEventsPerUserOrder(t *testing.T) {
	store := memstore.New()
	var mu sync.Mutex
	seen := map[string][]scim.Event{}
	hook := func(_ context.Context, e scim.Event) {
		time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond) // workers at different paces
		mu.Lock()
		seen[e.UserID] = append(seen[e.UserID], e)
		mu.Unlock()
	}
	h := scim.MustNew(lagStore{store}, scim.WithTokens(testToken), scim.WithEvents(hook))
	srv := eventServer(t, h, false)
	renamer := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	deactivator := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}

	const n = 30
	ids := make([]string, n)
	for i := range ids {
		r := clientOf(t, srv, renamer).do("POST", "/Users", fmt.Sprintf(`{"userName":"user%d@example.com"}`, i))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Raw)
		ids[i] = r.Body["id"].(string)
	}
	for i, id := range ids { // a round a user, so that its two writes overlap
		var wg sync.WaitGroup
		wg.Go(func() {
			r := clientOf(t, srv, renamer).do("PATCH", "/Users/"+id,
				patchOp(fmt.Sprintf(`{"op":"replace","path":"userName","value":"renamed%d@example.com"}`, i)))
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
		})
		wg.Go(func() {
			r := clientOf(t, srv, deactivator).do("PATCH", "/Users/"+id,
				patchOp(`{"op":"replace","path":"active","value":false}`))
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
		})
		wg.Wait()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.Shutdown(ctx))

	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		events := seen[id]
		require.Len(t, events, 3, "created, renamed, deactivated")
		require.Equal(t, scim.UserCreated, events[0].Type)
		for i := 1; i < len(events); i++ {
			prev, _ := strconv.Atoi(events[i-1].Version)
			cur, _ := strconv.Atoi(events[i].Version)
			require.Less(t, prev, cur, "user %s: events out of commit order: %s then %s", id, events[i-1].Type, events[i].Type)
		}
		u, err := store.Get(scim.ContextWithTenant(context.Background(), ""), id)
		require.NoError(t, err)
		require.Equal(t, u.Meta.Version, events[2].Version, "the last event is the Store's state")
		require.False(t, u.IsActive())
		require.True(t, strings.HasPrefix(u.UserName, "renamed"))
	}
}

// blockingHook is a hook that tells the test when each call starts and waits for it to release the calls.
type blockingHook struct {
	started chan scim.Event
	release chan struct{}
}

func newBlockingHook() *blockingHook {
	return &blockingHook{started: make(chan scim.Event, 100), release: make(chan struct{})}
}

func (b *blockingHook) hook(ctx context.Context, e scim.Event) {
	b.started <- e
	select {
	case <-b.release:
	case <-ctx.Done():
	}
}

// TestEventShutdownDrains: Shutdown waits for every event queued before it, then later writes still answer
// and their events are dropped and counted.
func TestEventShutdownDrains(t *testing.T) {
	b := newBlockingHook()
	h := scim.MustNew(memstore.New(), scim.WithTokens(testToken), scim.WithEvents(b.hook),
		scim.WithLimits(scim.Limits{Events: scim.EventQueue{Workers: 2}}), scim.WithLogger(slog.New(slog.DiscardHandler)))
	srv := httptest.NewServer(h)
	defer srv.Close()
	const n = 20
	want := map[string]bool{}
	for i := range n {
		r := clientOf(t, srv, srv.Client()).do("POST", "/Users", fmt.Sprintf(`{"userName":"drain%d@example.com"}`, i))
		require.Equal(t, http.StatusCreated, r.Status)
		want[r.Body["id"].(string)] = true
	}
	got := map[string]bool{(<-b.started).UserID: true} // a hook is running, and blocked; the rest wait

	done := make(chan error, 1)
	go func() { done <- h.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) before the queued events were delivered", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(b.release)
	require.NoError(t, <-done)
	close(b.started)
	for e := range b.started {
		got[e.UserID] = true
	}
	require.Equal(t, want, got, "every event queued before Shutdown was delivered")
	require.Equal(t, scim.EventStats{Delivered: n}, h.EventStats())

	r := clientOf(t, srv, srv.Client()).do("POST", "/Users", `{"userName":"late@example.com"}`)
	require.Equal(t, http.StatusCreated, r.Status, "a write after Shutdown still answers")
	require.Equal(t, scim.EventStats{Delivered: n, Dropped: 1}, h.EventStats(), "its event is dropped and counted")
}

// TestEventShutdownTimeout: when Shutdown's context ends first, the running hook's context is cancelled, the
// events still queued are dropped and counted, and Shutdown returns the context's error.
func TestEventShutdownTimeout(t *testing.T) {
	b := newBlockingHook()
	var hookErr error
	hookDone := make(chan struct{})
	hook := func(ctx context.Context, e scim.Event) {
		b.hook(ctx, e)
		if hookErr == nil {
			hookErr = ctx.Err()
			close(hookDone)
		}
	}
	h := scim.MustNew(memstore.New(), scim.WithTokens(testToken), scim.WithEvents(hook),
		scim.WithLimits(scim.Limits{Events: scim.EventQueue{Workers: 1}}), scim.WithLogger(slog.New(slog.DiscardHandler)))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for i := range 5 {
		r := clientOf(t, srv, srv.Client()).do("POST", "/Users", fmt.Sprintf(`{"userName":"stuck%d@example.com"}`, i))
		require.Equal(t, http.StatusCreated, r.Status)
	}
	<-b.started

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, h.Shutdown(ctx), context.DeadlineExceeded)
	<-hookDone
	require.ErrorIs(t, hookErr, context.Canceled, "the running hook's context ends")
	require.Eventually(t, func() bool { return h.EventStats() == scim.EventStats{Delivered: 1, Dropped: 4} },
		5*time.Second, 5*time.Millisecond, "%+v", h.EventStats())
	require.Empty(t, b.started, "no queued event delivered after Shutdown gave up")
}

// TestEventQueueFull: a write whose event finds the queue full waits EventQueue.Wait for room, then answers
// as usual; its event is dropped, logged (without personal data) and counted.
func TestEventQueueFull(t *testing.T) {
	b := newBlockingHook()
	var logs syncBuffer
	h := scim.MustNew(memstore.New(), scim.WithTokens(testToken), scim.WithEvents(b.hook),
		scim.WithLimits(scim.Limits{Events: scim.EventQueue{Size: 1, Workers: 1, Wait: 20 * time.Millisecond}}),
		scim.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	srv := eventServer(t, h, false)
	create := func(name string) {
		t.Helper()
		r := clientOf(t, srv, srv.Client()).do("POST", "/Users", `{"userName":"`+name+`"}`)
		require.Equal(t, http.StatusCreated, r.Status)
	}
	create("running@example.com")
	require.Equal(t, "running@example.com", (<-b.started).After.UserName) // the worker is busy with it
	create("queued@example.com")
	require.Equal(t, 1, h.EventStats().Queued)

	start := time.Now()
	create("dropped@example.com")
	require.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond, "the write waited for room")
	require.Equal(t, scim.EventStats{Queued: 1, Dropped: 1}, h.EventStats())
	require.Contains(t, logs.String(), "scim: event dropped: the event queue is full")
	require.Contains(t, logs.String(), "event=created")
	require.NotContains(t, logs.String(), "dropped@example.com")

	close(b.release)
	require.Equal(t, "queued@example.com", (<-b.started).After.UserName)
	require.Eventually(t, func() bool { return h.EventStats() == scim.EventStats{Delivered: 2, Dropped: 1} },
		5*time.Second, 5*time.Millisecond)
	require.Empty(t, b.started)
}

// TestEventHookContext: the hook's context carries the tenant and the request's values, not its
// cancellation (the request is over by then), and ends after EventQueue.Timeout.
func TestEventHookContext(t *testing.T) {
	type hostKey struct{}
	type seen struct {
		tenant, value string
		err           error
		deadline      time.Time
	}
	got := make(chan seen, 1)
	hook := func(ctx context.Context, _ scim.Event) {
		d, _ := ctx.Deadline()
		v, _ := ctx.Value(hostKey{}).(string)
		tenant, _ := scim.Tenant(ctx)
		got <- seen{tenant, v, ctx.Err(), d}
	}
	h := scim.MustNew(memstore.New(), scim.WithEvents(hook),
		scim.WithLimits(scim.Limits{Events: scim.EventQueue{Timeout: 2 * time.Second}}),
		scim.WithAuthenticator(func(*http.Request) (string, error) { return "acme", nil }))
	host := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { // host middleware adding a value
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), hostKey{}, "trace-7")))
	})
	srv := httptest.NewServer(host)
	t.Cleanup(func() { srv.Close(); require.NoError(t, h.Shutdown(context.Background())) })
	r := clientOf(t, srv, srv.Client()).do("POST", "/Users", `{"userName":"ctx@example.com"}`)
	require.Equal(t, http.StatusCreated, r.Status)
	s := <-got
	require.Equal(t, "acme", s.tenant)
	require.Equal(t, "trace-7", s.value)
	require.NoError(t, s.err, "not cancelled with its request")
	require.WithinDuration(t, time.Now().Add(2*time.Second), s.deadline, time.Second)
}

// TestEventQueueEndsWithItsHandler: a Handler dropped without Shutdown does not keep its workers: once it is
// unreachable, a cleanup closes its queue and the idle workers end.
func TestEventQueueEndsWithItsHandler(t *testing.T) {
	delivered := make(chan struct{}, 1)
	h := scim.MustNew(memstore.New(), scim.WithTokens("t"), scim.WithEvents(func(context.Context, scim.Event) { delivered <- struct{}{} }))
	req := httptest.NewRequest("POST", "/Users", strings.NewReader(`{"userName":"gc@example.com"}`))
	req.Header.Set("Authorization", "Bearer t")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	require.Equal(t, http.StatusCreated, w.Code)
	<-delivered
	ended := scim.QueueEnded(h)
	h = nil // the last reference to the Handler: the queue must end without Shutdown

	require.Eventually(t, func() bool {
		runtime.GC()
		select {
		case <-ended:
			return true
		default:
			return false
		}
	}, 5*time.Second, 10*time.Millisecond, "the workers outlived their Handler")
}
