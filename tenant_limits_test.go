package scim_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// gateStore is a memstore whose Get, for tenant "a" only, blocks until released: a tenant's slow requests.
type gateStore struct {
	*memstore.Store
	entered chan struct{}
	release chan struct{}
}

func (s gateStore) Get(ctx context.Context, id string) (*scim.User, error) {
	if t, _ := scim.Tenant(ctx); t == "a" {
		s.entered <- struct{}{}
		<-s.release
	}
	return s.Store.Get(ctx, id)
}

// tenantAuth maps "Bearer token-<name>" to the tenant <name>.
func tenantAuth(r *http.Request) (string, error) {
	tok, _ := scim.BearerToken(r)
	if len(tok) > 6 && tok[:6] == "token-" {
		return tok[6:], nil
	}
	return "", scim.ErrUnauthorized
}

// limitServer serves a handler over a gateStore with tenantAuth, the limits l, and a metrics hook whose
// reports it returns. Whatever the test leaves blocked is released before the server closes.
func limitServer(t *testing.T, l scim.TenantLimits) (*testServer, http.Handler, gateStore, func() []scim.RequestInfo) {
	store := gateStore{memstore.New(), make(chan struct{}, 100), make(chan struct{})}
	var mu sync.Mutex
	var infos []scim.RequestInfo
	h := scim.MustNew(store, scim.WithAuthenticator(tenantAuth), scim.WithLimits(scim.Limits{Tenant: l}),
		scim.WithMetrics(func(i scim.RequestInfo) { mu.Lock(); infos = append(infos, i); mu.Unlock() }))
	s := serveHandler(t, h)
	t.Cleanup(func() { close(store.release) }) // runs before serveHandler's srv.Close
	return s, h, store, func() []scim.RequestInfo {
		mu.Lock()
		defer mu.Unlock()
		return append([]scim.RequestInfo(nil), infos...)
	}
}

// goGet sends GET path as tenant in a goroutine; its answer arrives on the channel returned.
func goGet(s *testServer, path, tenant string) <-chan result {
	c := make(chan result, 1)
	go func() {
		r, err := s.as("token-"+tenant).send("GET", path, "")
		if err != nil {
			r = result{Raw: []byte(err.Error())}
		}
		c <- r
	}()
	return c
}

// TestTenantConcurrencyLimit: a tenant over its concurrency limit waits, then gets 429 with Retry-After and a
// SCIM error naming the limit, while another tenant is served; its slots come back when its requests end.
func TestTenantConcurrencyLimit(t *testing.T) {
	s, _, store, infos := limitServer(t, scim.TenantLimits{MaxConcurrent: 2, MaxQueue: 1, MaxWait: 100 * time.Millisecond})
	held := []<-chan result{goGet(s, "/Users/x", "a"), goGet(s, "/Users/x", "a")}
	<-store.entered
	<-store.entered // tenant a holds both its slots

	start := time.Now()
	r := s.do("GET", "/Users/x", "", "Authorization", "Bearer token-a")
	requireError(t, r, http.StatusTooManyRequests, "")
	require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "it waited MaxWait for a slot first")
	require.Equal(t, "1", r.Header.Get("Retry-After"))
	require.Equal(t, "429", r.Body["status"])
	require.Contains(t, r.Body["detail"], "at most 2 at once")

	// Tenant b is served meanwhile, and so are unauthenticated requests (401, counted against no tenant).
	requireError(t, s.do("GET", "/Users/x", "", "Authorization", "Bearer token-b"), 404, "")
	require.Equal(t, 200, s.do("GET", "/Users", "", "Authorization", "Bearer token-b").Status)
	requireError(t, s.do("GET", "/Users/x", "", "Authorization", "Bearer wrong"), 401, "")

	store.release <- struct{}{}
	store.release <- struct{}{}
	for _, c := range held {
		require.Equal(t, 404, (<-c).Status)
	}
	require.Equal(t, 200, s.do("GET", "/Users", "", "Authorization", "Bearer token-a").Status) // slots are back

	var refused []scim.RequestInfo
	for _, i := range infos() {
		if i.Status == http.StatusTooManyRequests {
			refused = append(refused, i)
		}
	}
	require.Len(t, refused, 1, "metrics see the 429")
	require.Equal(t, "a", refused[0].Tenant)
}

// TestTenantQueue: a request over the limit waits for a slot and is served when one frees within MaxWait;
// beyond MaxQueue waiting requests, the next is refused at once.
func TestTenantQueue(t *testing.T) {
	s, h, store, _ := limitServer(t, scim.TenantLimits{MaxConcurrent: 1, MaxQueue: 1, MaxWait: 10 * time.Second})
	first := goGet(s, "/Users/x", "a")
	<-store.entered
	queued := goGet(s, "/Users/x", "a")
	require.Eventually(t, func() bool { return scim.TenantWaiting(h, "a") == 1 }, 5*time.Second, time.Millisecond)
	start := time.Now()
	requireError(t, s.do("GET", "/Users/x", "", "Authorization", "Bearer token-a"), 429, "")
	require.Less(t, time.Since(start), 5*time.Second, "the queue is full: refused at once")
	store.release <- struct{}{}
	require.Equal(t, 404, (<-first).Status)
	<-store.entered // the queued request got the slot
	store.release <- struct{}{}
	require.Equal(t, 404, (<-queued).Status)
}

// TestTenantRateLimit: past its burst, a tenant's requests get 429 with the time to its next token in
// Retry-After; another tenant has its own bucket.
func TestTenantRateLimit(t *testing.T) {
	s, _, _, _ := limitServer(t, scim.TenantLimits{Rate: 0.5, Burst: 2})
	as := func(tenant string) []string { return []string{"Authorization", "Bearer token-" + tenant} }
	for range 2 {
		require.Equal(t, 200, s.do("GET", "/Users", "", as("b")...).Status)
	}
	r := s.do("GET", "/Users", "", as("b")...)
	requireError(t, r, 429, "")
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.InDelta(t, 2, retry, 1, "a token every 2 s")
	require.Contains(t, r.Body["detail"], "0.5 per second")
	require.Equal(t, 200, s.do("GET", "/Users", "", as("c")...).Status)
}

// TestTenantLimitsBounded: the limiter forgets idle tenants, so its state stays bounded however many
// tenants come by; by default it is on.
func TestTenantLimitsBounded(t *testing.T) {
	for name, l := range map[string]scim.TenantLimits{
		"default":      scim.DefaultTenantLimits,
		"rate limited": {MaxConcurrent: 4, Rate: 1e6, Burst: 1}, // buckets refill at once: idle entries
	} {
		t.Run(name, func(t *testing.T) {
			opts := []scim.Option{scim.WithAuthenticator(tenantAuth)}
			if name != "default" {
				opts = append(opts, scim.WithLimits(scim.Limits{Tenant: l}))
			}
			h := scim.MustNew(memstore.New(), opts...)
			s := serveHandler(t, h)
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					for i := range 1000 {
						r, err := s.as("token-t"+strconv.Itoa(w*1000+i)).send("GET", "/Users", "")
						if err != nil || r.Status != 200 {
							t.Errorf("%v %v", err, r)
							return
						}
					}
				})
			}
			wg.Wait()
			n := scim.TenantEntries(h)
			require.Positive(t, n)
			require.LessOrEqual(t, n, 1024, "4000 tenants, idle ones swept")
		})
	}
	require.Zero(t, scim.TenantEntries(scim.MustNew(memstore.New(), scim.WithLimits(scim.Limits{Tenant: scim.TenantLimits{MaxConcurrent: scim.NoLimit}}))),
		"NoLimit: no limiter")
}
