package scim

import (
	"errors"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/scimkit/scim/internal/tenantlimit"
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

// tooMany turns the limiter's refusal into the 429 to answer, with Retry-After (whole seconds, at least 1:
// RFC 9110 §10.2.3) set in h.
func tooMany(h http.Header, err error) error {
	var r *tenantlimit.Refusal
	if !errors.As(err, &r) {
		return err
	}
	h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(r.RetryAfter.Seconds())))))
	return errorf(http.StatusTooManyRequests, "", r.Detail)
}

// limiterConfig is l, resolved, as the limiter takes it.
func limiterConfig(l TenantLimits) tenantlimit.Config {
	return tenantlimit.Config{MaxConcurrent: l.MaxConcurrent, MaxQueue: l.MaxQueue, MaxWait: l.MaxWait, Rate: l.Rate, Burst: l.Burst}
}
