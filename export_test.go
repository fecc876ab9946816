package scim

import (
	"net/http"
	"sync"
	"time"

	"github.com/scimkit/scim/filter"
)

// TenantEntries is how many tenants h's per-tenant limiter keeps state for, so that tests can check that it
// stays bounded.
func TenantEntries(h http.Handler) int { return h.(*Handler).h.tenantLim.Len() }

// TenantWaiting is how many requests of tenant wait for a slot in h's per-tenant limiter.
func TenantWaiting(h http.Handler, tenant string) int {
	if l := h.(*Handler).h.tenantLim; l != nil {
		return l.Waiting(tenant)
	}
	return 0
}

// WithTestToken is opts, preceded by WithTokens(token) unless one of them sets the authentication itself:
// the test helpers' default, which a test replaces by giving WithAuthenticator.
func WithTestToken(token string, opts ...Option) []Option {
	for _, o := range opts {
		var c config
		o(&c)
		if c.authBy != "" {
			return opts
		}
	}
	return append([]Option{WithTokens(token)}, opts...)
}

// Settings is what a handler's options resolved to, for the tests of zero meaning the default.
type Settings struct {
	MaxResults, MaxOps, MaxValues, MaxAttrNames, MaxScan, MaxPageBytes, MaxMembers, MaxWork, MaxResourceBytes int
	MaxBodyBytes, MaxGroupBodyBytes, MaxBulkPayload                                                           int64
	MaxBulkOps                                                                                                int
	Timeout, RetryAfter                                                                                       time.Duration
	Filter                                                                                                    filter.Limits
	Tenant                                                                                                    *TenantLimits // nil: no per-tenant limits
	Events                                                                                                    EventQueue
}

// SettingsOf returns what h's options resolved to.
func SettingsOf(h http.Handler) Settings {
	c := h.(*Handler).h
	s := Settings{MaxResults: c.maxResults, MaxOps: c.maxOps, MaxValues: c.maxValues, MaxAttrNames: c.maxAttrNames,
		MaxScan: c.maxScan, MaxWork: c.maxWork, MaxPageBytes: c.maxPageBytes, MaxMembers: c.maxMembers, MaxBodyBytes: c.maxBodyBytes,
		MaxGroupBodyBytes: c.maxGroupBodyBytes, Timeout: c.timeout, RetryAfter: c.retryAfter,
		MaxResourceBytes: c.maxResourceBytes, Filter: c.limits, Events: c.eventQueue,
		MaxBulkOps: c.maxBulkOps, MaxBulkPayload: c.maxBulkPayload}
	if c.tenantLim != nil {
		l := c.tenantLim.Config()
		s.Tenant = &TenantLimits{MaxConcurrent: l.MaxConcurrent, MaxQueue: l.MaxQueue, MaxWait: l.MaxWait, Rate: l.Rate, Burst: l.Burst}
	}
	return s
}

// SetHasher makes h hash passwords with fn, over n hash slots: a test's hasher that blocks shows the order
// in which requests are admitted to the slots. Call it before serving.
func SetHasher(h http.Handler, n int, fn func(password []byte) ([]byte, error)) {
	hh := h.(*Handler).h
	hh.hash, hh.hashSlots = fn, newHashSlots(n)
}

// HashWaiting is how many requests of tenant wait for a hash slot in h.
func HashWaiting(h http.Handler, tenant string) int {
	s := h.(*Handler).h.hashSlots
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tenants[tenant]; t != nil {
		return len(t.queue)
	}
	return 0
}

// QueueEnded returns a channel closed once the workers of h's event queue have ended. It keeps no reference
// to h, so that a test can drop h and watch the queue end without Shutdown.
func QueueEnded(h *Handler) <-chan struct{} {
	return h.h.queue.Ended()
}

// WithTestClock makes the handler take its time stamps (meta.created, meta.lastModified, events) from
// clock instead of time.Now: tests move time on by hand rather than sleep past the millisecond that
// stamps are truncated to. A test-only option: it is not part of the package.
func WithTestClock(clock func() time.Time) Option {
	return func(c *config) { c.testClock = clock }
}

// TestClock is a clock tests move by hand; safe for concurrent use.
type TestClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewTestClock returns a clock standing at start.
func NewTestClock(start time.Time) *TestClock { return &TestClock{now: start} }

// Now returns the clock's time.
func (c *TestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *TestClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
