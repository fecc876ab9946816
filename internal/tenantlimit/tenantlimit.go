// Package tenantlimit bounds what one tenant asks of a handler at once: a semaphore of concurrent requests
// with a bounded FIFO wait, and an optional token-bucket rate, per tenant, in a map swept of idle tenants. It
// is the engine behind scim.TenantLimits; the scim package keeps the public configuration and turns a
// Refusal into its 429.
package tenantlimit

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Config is scim.TenantLimits resolved: every field set, zero meaning none (MaxConcurrent, Rate), and an
// unbounded MaxQueue or MaxWait as the largest value.
type Config struct {
	MaxConcurrent, MaxQueue int
	MaxWait                 time.Duration
	Rate                    float64
	Burst                   int
}

// Refusal is a request the limiter did not admit: the client waits RetryAfter before trying again.
type Refusal struct {
	RetryAfter time.Duration
	Detail     string
}

func (r *Refusal) Error() string { return r.Detail }

func refuse(after time.Duration, detail string) error {
	return &Refusal{RetryAfter: after, Detail: detail}
}

// Config returns the limits l applies.
func (l *Limiter) Config() Config { return l.l }

// Waiting is how many requests of tenant wait for a slot now.
func (l *Limiter) Waiting(tenant string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.tenants[tenant]; e != nil {
		return int(e.waiting.Load())
	}
	return 0
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

// Limiter applies a Config per tenant. A nil *Limiter limits nothing.
type Limiter struct {
	l       Config
	mu      sync.Mutex
	tenants map[string]*Entry
	sweepAt int
}

// Entry is one tenant's state, held by an admitted request until Release.
type Entry struct {
	// refs counts the requests holding or awaiting this entry; a sweep removes only entries at 0. It is
	// incremented under the limiter's mutex (so a sweep never races a lookup) and decremented anywhere.
	refs    atomic.Int32
	waiting atomic.Int32
	slots   chan struct{} // a semaphore of MaxConcurrent; nil without it
	bucket  *rate.Limiter // nil without Rate
}

// New returns the limiter of l (resolved: zero means none), or nil when l limits nothing.
func New(l Config) *Limiter {
	if l.MaxConcurrent <= 0 && l.Rate <= 0 {
		return nil
	}
	if l.Rate > 0 {
		l.Burst = max(l.Burst, 1)
	}
	return &Limiter{l: l, tenants: map[string]*Entry{}, sweepAt: minTenantEntries}
}

// Acquire admits a request of tenant, waiting if it must, or returns the *Refusal to answer. The entry it
// returns goes back to Release when the request is done.
func (l *Limiter) Acquire(ctx context.Context, tenant string) (*Entry, error) {
	if l == nil {
		return nil, nil
	}
	e := l.entry(tenant)
	if err := l.admit(ctx, e); err != nil {
		e.refs.Add(-1)
		return nil, err
	}
	return e, nil
}

// Release ends a request admitted by Acquire.
func (l *Limiter) Release(e *Entry) {
	if e == nil {
		return
	}
	if e.slots != nil {
		<-e.slots
	}
	e.refs.Add(-1)
}

// entry returns tenant's entry, made if need be, with a reference taken.
func (l *Limiter) entry(tenant string) *Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.tenants[tenant]
	if e == nil {
		if len(l.tenants) >= l.sweepAt {
			l.sweep(time.Now())
		}
		e = &Entry{}
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
func (l *Limiter) sweep(now time.Time) {
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
func (l *Limiter) admit(ctx context.Context, e *Entry) error {
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
				return refuse(delay, "this tenant's request rate is limited to "+
					strconv.FormatFloat(l.l.Rate, 'g', -1, 64)+" per second (bursts of "+strconv.Itoa(l.l.Burst)+")")
			}
			if !sleep(ctx, delay) {
				res.CancelAt(time.Now())
				return refuse(delay, "this tenant's request rate is limited: the request's deadline came first")
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
		return refuse(time.Second, "this tenant has too many requests in progress: at most "+
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

// Len is how many tenants the limiter keeps state for.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tenants)
}
