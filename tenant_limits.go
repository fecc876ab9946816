package scim

import (
	"context"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// TenantLimits bounds what one tenant (the authenticator's answer) may ask of the handler, so that one
// customer's identity provider, or a runaway script with its token, cannot starve the others. A request
// over a limit may wait briefly for its turn; past MaxQueue or MaxWait it is answered 429 Too Many Requests
// with a Retry-After header, which Entra ID and Okta honour by backing off.
//
// It is the Tenant field of Limits, with the same rules: a zero field keeps DefaultTenantLimits' value, so
// TenantLimits{MaxConcurrent: 4} changes only that one; NoLimit turns a limit off:
// TenantLimits{MaxConcurrent: NoLimit} (the rate is off by default) limits nothing; any other negative
// value is a configuration error.
type TenantLimits struct {
	// MaxConcurrent is how many requests of one tenant are served at once. Counting requests in flight,
	// not requests per second, weighs each by what it costs: a slow unindexed filter holds its slot for
	// as long as it runs.
	MaxConcurrent int
	// MaxQueue is how many more requests of one tenant may wait for one of those slots; beyond it they are
	// answered 429 at once, since they would wait in vain. NoLimit lets any number wait (for MaxWait).
	MaxQueue int
	// MaxWait is how long a request may wait for a slot or a rate token before it is answered 429, and
	// never past the request's deadline (Limits.RequestTimeout). NoLimit waits until that deadline.
	MaxWait time.Duration
	// Rate is the requests per second one tenant may sustain (a token bucket).
	Rate float64
	// Burst is how many requests a tenant may send at once above Rate: the bucket's size. It is at least 1
	// when Rate is set (the default); NoLimit, a bucket without bound, turns the rate limit off.
	Burst int
}

// DefaultTenantLimits is what a handler applies to the zero fields of Limits.Tenant: two requests of a
// tenant at once per core (GOMAXPROCS when the package loads), at least 4; 32 more waiting up to a second;
// no rate limit.
//
// Per core, because a tenant's requests beyond the cores add no throughput to CPU-bound work, only take
// the other tenants' share of it: on 2 cores, 8 at once let a tenant flooding cheap requests move another's
// p99 5.7–11×, 4 at once 3.4–5.4× (docs/benchmarks.md, fairness at the database); and two per core still keep the
// cores busy while requests wait for PostgreSQL. A client sending more waits briefly in the queue.
//
// The short wait absorbs a client's bursts without an error (Entra counts a 429 as a failed step to retry
// later); a long one would only hide an overload, holding connections and memory until the clients time
// out, when a 429 with Retry-After makes them slow down.
var DefaultTenantLimits = TenantLimits{MaxConcurrent: max(4, 2*runtime.GOMAXPROCS(0)), MaxQueue: 32, MaxWait: time.Second}

// resolve applies the defaults to l's zero fields and turns NoLimit into the limiter's "none" (zero, and
// an unbounded queue or wait).
func (l TenantLimits) resolve() TenantLimits {
	d := DefaultTenantLimits
	switch {
	case l.MaxConcurrent == 0:
		l.MaxConcurrent = d.MaxConcurrent
	case l.MaxConcurrent < 0:
		l.MaxConcurrent = 0
	}
	switch {
	case l.MaxQueue == 0:
		l.MaxQueue = d.MaxQueue
	case l.MaxQueue < 0:
		l.MaxQueue = math.MaxInt
	}
	switch {
	case l.MaxWait == 0:
		l.MaxWait = d.MaxWait
	case l.MaxWait < 0:
		l.MaxWait = math.MaxInt64 // the request's deadline ends the wait
	}
	switch {
	case l.Rate == 0:
		l.Rate = d.Rate
	case l.Rate < 0:
		l.Rate = 0
	}
	return l
}

// The limiter keeps an entry per tenant seen; idle ones are swept when the map reaches sweepAt, which is
// then set to twice what is left (at least minTenantEntries). Entries in use are never swept, so the map
// holds at most max(minTenantEntries, twice the busy tenants).
const (
	minTenantEntries = 1024
	// maxTenantEntries: past it, idle tenants whose rate bucket has not refilled are forgotten too (their
	// debt forgiven) rather than letting the map grow.
	maxTenantEntries = 1 << 16
)

// tenantLimiter applies TenantLimits. A nil *tenantLimiter limits nothing.
type tenantLimiter struct {
	l       TenantLimits
	mu      sync.Mutex
	tenants map[string]*tenantEntry
	sweepAt int
}

// tenantEntry is one tenant's state.
type tenantEntry struct {
	// refs counts the requests holding or awaiting this entry; a sweep removes only entries at 0. It is
	// incremented under the limiter's mutex (so a sweep never races a lookup) and decremented anywhere.
	refs    atomic.Int32
	waiting atomic.Int32
	slots   chan struct{} // a semaphore of MaxConcurrent; nil without it
	bucket  *rate.Limiter // nil without Rate
}

func newTenantLimiter(l TenantLimits) *tenantLimiter {
	if l.MaxConcurrent <= 0 && l.Rate <= 0 {
		return nil
	}
	if l.Rate > 0 {
		l.Burst = max(l.Burst, 1)
	}
	return &tenantLimiter{l: l, tenants: map[string]*tenantEntry{}, sweepAt: minTenantEntries}
}

// acquire admits a request of tenant, waiting if it must, or returns the 429 to answer (with Retry-After set
// in h). The entry it returns goes back to release when the request is done.
func (l *tenantLimiter) acquire(ctx context.Context, tenant string, h http.Header) (*tenantEntry, error) {
	if l == nil {
		return nil, nil
	}
	e := l.entry(tenant)
	if err := l.admit(ctx, e, h); err != nil {
		e.refs.Add(-1)
		return nil, err
	}
	return e, nil
}

// release ends a request admitted by acquire.
func (l *tenantLimiter) release(e *tenantEntry) {
	if e == nil {
		return
	}
	if e.slots != nil {
		<-e.slots
	}
	e.refs.Add(-1)
}

// entry returns tenant's entry, made if need be, with a reference taken.
func (l *tenantLimiter) entry(tenant string) *tenantEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.tenants[tenant]
	if e == nil {
		if len(l.tenants) >= l.sweepAt {
			l.sweep(time.Now())
		}
		e = &tenantEntry{}
		if l.l.MaxConcurrent > 0 {
			e.slots = make(chan struct{}, l.l.MaxConcurrent)
		}
		if l.l.Rate > 0 {
			e.bucket = rate.NewLimiter(rate.Limit(l.l.Rate), l.l.Burst)
		}
		l.tenants[tenant] = e
	}
	e.refs.Add(1)
	return e
}

// sweep removes idle entries: no request in them, and a full bucket (forgetting a bucket that is not full
// would hand its tenant a full one). Called with l.mu held.
func (l *tenantLimiter) sweep(now time.Time) {
	for t, e := range l.tenants {
		if e.refs.Load() == 0 && (e.bucket == nil || e.bucket.TokensAt(now) >= float64(l.l.Burst)) {
			delete(l.tenants, t)
		}
	}
	if len(l.tenants) >= maxTenantEntries {
		for t, e := range l.tenants {
			if e.refs.Load() == 0 {
				delete(l.tenants, t)
			}
		}
	}
	l.sweepAt = max(minTenantEntries, 2*len(l.tenants))
}

// admit waits for e's rate token, then for one of its slots, until MaxWait or the context's deadline.
func (l *tenantLimiter) admit(ctx context.Context, e *tenantEntry, h http.Header) error {
	now := time.Now()
	until := now.Add(l.l.MaxWait)
	if d, ok := ctx.Deadline(); ok && d.Before(until) {
		until = d
	}
	if e.bucket != nil {
		res := e.bucket.ReserveN(now, 1)
		if delay := res.DelayFrom(now); delay > 0 {
			if now.Add(delay).After(until) {
				res.CancelAt(now)
				return tooMany(h, delay, "this tenant's request rate is limited to "+
					strconv.FormatFloat(l.l.Rate, 'g', -1, 64)+" per second (bursts of "+strconv.Itoa(l.l.Burst)+")")
			}
			if !sleep(ctx, delay) {
				res.CancelAt(time.Now())
				return tooMany(h, delay, "this tenant's request rate is limited: the request's deadline came first")
			}
		}
	}
	if e.slots == nil {
		return nil
	}
	select {
	case e.slots <- struct{}{}:
		return nil
	default:
	}
	full := func() error {
		return tooMany(h, time.Second, "this tenant has too many requests in progress: at most "+
			strconv.Itoa(l.l.MaxConcurrent)+" at once")
	}
	wait := time.Until(until)
	if wait <= 0 {
		return full()
	}
	defer e.waiting.Add(-1)
	if int(e.waiting.Add(1)) > l.l.MaxQueue {
		return full()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case e.slots <- struct{}{}:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	return full()
}

// tooMany sets Retry-After (whole seconds, at least 1: RFC 9110 §10.2.3) and returns the 429.
func tooMany(h http.Header, after time.Duration, detail string) error {
	h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(after.Seconds())))))
	return errorf(http.StatusTooManyRequests, "", detail)
}

// sleep waits d, or less if ctx ends first (then it reports false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// len is how many tenants the limiter keeps state for.
func (l *tenantLimiter) len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tenants)
}
