package scim

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/tenantlimit"
	"github.com/scimkit/scim/schema"
)

// Configuration: the options New takes, and the Limits value that groups every bound. The rules, the same
// for every option and every field:
//   - zero means the default, documented on each field;
//   - NoLimit turns a bound off, in every field of Limits (and its Filter and Tenant structs); any other
//     negative value is a mistake;
//   - a nil argument (a nil logger, hook, authenticator or schema) is a mistake, never a silent default:
//     leave the option out to get the default;
//   - every mistake is reported by New, all of them at once, as an error wrapping ErrInvalidOption.

// Option configures the handler made by New. An option given an impossible value (a negative limit other
// than NoLimit, a malformed token hash, a nil logger, a second way to authenticate) makes New return an
// error wrapping ErrInvalidOption.
type Option func(*config)

// NoLimit, as the value of any field of Limits (its Filter and Tenant fields included), turns that bound
// off: a zero field means the default, so "none" needs a value of its own. Other negative values are
// configuration errors, so that an arithmetic slip is not taken for "no limit".
const NoLimit = -1

// ErrInvalidOption is wrapped by the error New returns (and MustNew panics with) for a configuration
// mistake; the message names the option and the value.
var ErrInvalidOption = errors.New("scim: invalid option")

// fail records a configuration mistake, reported by New.
func (c *config) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...))
}

// setAuth sets the authentication; a second one is a mistake (which of them did the host mean?).
func (c *config) setAuth(option string, auth func(*http.Request) (string, error)) {
	if c.authBy != "" {
		c.fail("%s and %s both set the authentication: give one of WithTokens, WithTokenHashes and WithAuthenticator, once", c.authBy, option)
	}
	c.authBy, c.auth = option, auth
}

// notNil records a nil argument as a mistake and reports whether v was set: a nil that meant "the default"
// here and "an error" there was one more rule to remember, and for WithAuthenticator the default (refuse
// everything) would look like a revoked token to the identity provider.
func (c *config) notNil(option string, set bool) bool {
	if !set {
		c.fail("%s(nil): leave the option out for its default", option)
	}
	return set
}

// config is what the options set; New resolves it (limits applied to their defaults) before serving.
type config struct {
	errs       []error // configuration mistakes, reported by New
	authBy     string  // the option that set auth, if any
	auth       func(*http.Request) (string, error)
	baseURL    string
	limitsIn   Limits // what WithLimits gave, merged; resolved into the fields below by New
	maxRetries int
	// The bounds, resolved from Limits (resolve): every one set, none zero unless it says so.
	maxResults        int
	maxBodyBytes      int64
	maxGroupBodyBytes int64
	maxOps            int
	maxBulkOps        int
	maxBulkPayload    int64
	maxValues         int
	maxResourceBytes  int
	maxAttrNames      int
	maxScan           int // 0: no bound (Query.MaxScan's meaning)
	maxPageBytes      int
	maxMembers        int
	maxWork           int           // 0: no bound
	timeout           time.Duration // 0: no bound
	retryAfter        time.Duration // 0: no Retry-After header
	limits            filter.Limits
	tenantLim         *tenantlimit.Limiter // nil: no per-tenant limits
	events            func(context.Context, Event)
	eventQueue        EventQueue // Limits.Events
	metrics           func(RequestInfo)
	requestLog        *slog.Logger
	log               *slog.Logger
	passwords         PasswordPolicy
	userSchema        *schema.ResourceType
	resources         []Resource       // WithResource's, in the order given
	testClock         func() time.Time // a test's clock (export_test.go WithTestClock); nil: time.Now
}

// WithUserSchema serves the User resource type that schema.DeclareUser made: only the attributes the host
// keeps, and its own extensions. Give the same value to a Store that maps attributes (sqlstore.WithSchema)
// and to scimtest. Without it the handler serves every core and enterprise attribute.
func WithUserSchema(rt *schema.ResourceType) Option {
	return func(c *config) {
		if c.notNil("WithUserSchema", rt != nil) {
			c.userSchema = rt
		}
	}
}

// WithTokens accepts requests whose Authorization header is "Bearer <token>" for one of tokens, compared in
// constant time; they all act for the tenant "". Without WithTokens, WithTokenHashes or WithAuthenticator
// every request is refused with 401. No tokens, or an empty one (an unset environment variable, say), is a
// configuration error, as is a second authentication option.
func WithTokens(tokens ...string) Option {
	return func(c *config) {
		hashes := make([]string, 0, len(tokens))
		for i, t := range tokens {
			if strings.TrimSpace(t) == "" {
				c.fail("WithTokens: token %d is empty", i)
				continue
			}
			hashes = append(hashes, HashToken(t).String())
		}
		c.tokenAuth("WithTokens", len(tokens), hashes)
	}
}

// WithTokenHashes is WithTokens for a host that keeps only the hashes of its tokens (HashToken, MintToken),
// as it should: a leaked configuration or database then grants nothing. A hash that is not 64 hex digits
// (TokenHash.String's form) is a configuration error, not a token silently left out.
func WithTokenHashes(hashes ...string) Option {
	return func(c *config) {
		valid := make([]string, 0, len(hashes))
		for i, h := range hashes {
			if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
				c.fail("WithTokenHashes: hash %d is not a hex SHA-256 (64 hex digits, as HashToken makes)", i)
				continue
			}
			valid = append(valid, h)
		}
		c.tokenAuth("WithTokenHashes", len(hashes), valid)
	}
}

// tokenAuth sets the authentication of WithTokens and WithTokenHashes: n were given, hashes are the valid ones.
func (c *config) tokenAuth(option string, n int, hashes []string) {
	if n == 0 {
		c.fail("%s: no tokens given: every request would be refused", option)
	}
	want := make([][]byte, len(hashes))
	for i, h := range hashes {
		want[i], _ = hex.DecodeString(h)
	}
	c.setAuth(option, func(r *http.Request) (string, error) {
		tok, ok := BearerToken(r)
		if !ok {
			return "", ErrUnauthorized
		}
		// Compare digests: constant time whatever the token's length, and every hash is tried.
		got := sha256.Sum256([]byte(tok))
		match := 0
		for _, w := range want {
			match |= subtle.ConstantTimeCompare(got[:], w)
		}
		if match == 0 {
			return "", ErrUnauthorized
		}
		return "", nil
	})
}

// WithAuthenticator authenticates each request with auth, which returns the tenant (customer account) the
// request acts for. Its error answers the request: ErrUnauthorized (errors.Is) gives 401, an *Error its own
// status (403, say), ErrUnavailable or context.DeadlineExceeded 503. Any other error means the
// authenticator itself failed (its accounts table is unreachable, say): the request gets 500 and the error is
// logged at Error, never a 401 that would tell the identity provider its token was revoked. A multi-tenant
// SaaS maps each customer's token to its account here; BearerToken extracts the token.
//
// A nil auth, or a second authentication option, is a configuration error.
func WithAuthenticator(auth func(r *http.Request) (tenant string, err error)) Option {
	return func(c *config) {
		if c.notNil("WithAuthenticator", auth != nil) {
			c.setAuth("WithAuthenticator", auth)
		}
	}
}

// WithBaseURL sets the absolute URL the handler is reachable at, such as "https://api.example.com/scim/v2",
// for meta.location and the Location header. Without it they are built from the request's Host and the
// prefix the host stripped; set it when a proxy sits in front.
func WithBaseURL(u string) Option {
	return func(c *config) { c.baseURL = strings.TrimRight(u, "/") }
}

// WithLogger sets the logger for failures that are not the client's doing. The default is slog.Default();
// a nil l is a configuration error.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if c.notNil("WithLogger", l != nil) {
			c.log = l
		}
	}
}

// Limits groups every bound the handler applies to a request, given with WithLimits. A zero field means
// its default (given on each field), NoLimit turns that bound off, and any other negative value is a
// configuration error; the same holds in Filter and Tenant. docs/limits.md explains the cost model behind
// them and what a client sees past each.
type Limits struct {
	// MaxBodyBytes is the largest user write body (POST, PUT, PATCH of /Users); larger ones get 413.
	// Default 1 MiB.
	MaxBodyBytes int64
	// MaxGroupBodyBytes is the largest group write body (POST, PUT, PATCH of /Groups); larger ones get 413.
	// Default 16 MiB: Okta's App Integration Wizard apps PUT a group with its whole member list, some 100
	// bytes a member, so 16 MiB carries about 150,000 members.
	MaxGroupBodyBytes int64
	// MaxResourceBytes is the largest user, as encoded JSON, that a POST, PUT or PATCH may leave behind;
	// larger ones get 413. Default MaxBodyBytes plus 1 KiB for what the server adds (id, meta): a PATCH
	// cannot grow a user past what a PUT could send.
	MaxResourceBytes int
	// MaxPageBytes is the largest list response, encoded: a page whose resources would encode larger
	// carries fewer of them, itemsPerPage saying how many (RFC 7644 §3.4.2.4 allows fewer than count). The
	// Store sees it as Query.MaxBytes. Default 8 MiB.
	MaxPageBytes int
	// MaxResults is the largest page a list answers (advertised as filter.maxResults), and the page size
	// when a client names no count. Default 1000.
	MaxResults int
	// MaxMembersReturned is how many members a group may have for a read of it (and a group write answered
	// with the group) to return them; above it the members attribute is left out, never cut short, so that
	// no client can write back a partial list. Lists of groups leave members out unless the request names
	// them (attributes=members), with the same bound. A client pages the members of any group with
	// GET /Users?filter=groups.value eq "<id>". Default 10,000.
	MaxMembersReturned int
	// MaxOperations is how many operations one PATCH may carry, each key of a path-less value counting as
	// one; more get 400 invalidValue. Default 1000.
	MaxOperations int
	// MaxBulkOperations is how many operations one POST /Bulk may carry (advertised as
	// bulk.maxOperations); more get 413 naming the limit, with nothing done. Default 1000.
	MaxBulkOperations int
	// MaxBulkPayload is the largest POST /Bulk body in bytes (advertised as bulk.maxPayloadSize); a larger
	// one gets 413 naming the limit, with nothing done. Default 1 MiB. Each operation's data is also held to
	// the body limit of its endpoint (MaxBodyBytes, MaxGroupBodyBytes).
	MaxBulkPayload int64
	// MaxValues is how many values one multi-valued attribute of a user may hold (emails, roles, …); a
	// POST, PUT or PATCH that would exceed it gets 400 invalidValue naming the attribute. Default 1000.
	MaxValues int
	// MaxAttributeNames is how many names the attributes and excludedAttributes parameters may list
	// together (a schema has fewer attributes than that); more get 400 invalidValue. Default 100.
	MaxAttributeNames int
	// MaxScan is how many users a Store may examine one by one to answer a list (Query.MaxScan): a filter
	// or sortBy its indexes or SQL cannot answer is evaluated user by user, and past this many the request
	// gets 400 tooMany instead of working through the whole tenant. Default 10,000; NoLimit lets a list
	// examine the whole tenant, for hosts whose tenants are small.
	MaxScan int
	// MaxWork is how much work one request may do over what the Store holds, in units of one value
	// examined once (by each comparison of a value filter, when one selects it): a PATCH operation on a
	// multi-valued attribute costs its current values times the comparisons of its value filter, so 1000
	// operations of a 31-term filter over 1000 emails cost 31 million units; a group PATCH costs the
	// members it reads and, for each member filter that is not a list of ids, the members it tests times
	// the filter's comparisons. What grows with the request alone (its values, ids and paths) is bounded
	// by the body limits instead. Past it the request stops and gets 400 tooMany naming it, with nothing
	// written. Default 1,000,000 units, a few tenths of a second of one core at most; NoLimit leaves only
	// the request timeout.
	MaxWork int
	// RequestTimeout bounds each request, the authenticator's and the Store's work included: their
	// context ends after it, and a request that runs out answers 503. Default 30 s; NoLimit: no bound
	// beyond the client's own.
	RequestTimeout time.Duration
	// RetryAfter is the delay a 503 answer (a Store's temporary failure, ErrUnavailable) and a 429
	// answering a Store's ErrBusy ask clients to wait before retrying, sent as Retry-After in whole
	// seconds (rounded up). Default 2 s, as an outage that a retry outlives (a restart, a failover) is
	// seconds long; NoLimit sends no Retry-After, leaving the back-off to the client. The per-tenant
	// limits' own 429s say when their slot or token is due, whatever this is.
	RetryAfter time.Duration
	// Filter bounds the filters a client may send: their length in bytes, how deeply and/or/not and value
	// filters nest, how many comparisons they hold (filter.DefaultLimits: 4096 bytes, 32 levels, 100
	// comparisons, 10 on multi-valued attributes). Longer or deeper ones get 400 invalidFilter.
	Filter filter.Limits
	// Tenant is the per-tenant limits (DefaultTenantLimits: 2 requests per core at once, at least 4, 32 waiting up to 1 s, no
	// rate limit); past them 429 with Retry-After.
	Tenant TenantLimits
	// Events sizes the delivery of WithEvents' events (EventQueue: 4096 events over 8 workers, 1 s wait
	// for room, 30 s per hook). Unlike the other fields, NoLimit is a mistake here, as is any negative value:
	// a queue without bound is memory without bound.
	Events EventQueue
}

// WithLimits sets the bounds of Limits. Only its non-zero fields count, so it may be given more than once
// (a helper's limits, then the host's): each sets the fields it gives, and a zero never undoes an earlier
// value. Without it every bound has its default.
func WithLimits(l Limits) Option {
	return func(c *config) { c.limitsIn = c.limitsIn.merge(l) }
}

// Defaults of the fields of Limits (and where a bound off resolves to: none).
const (
	defaultMaxBodyBytes      = 1 << 20
	defaultMaxGroupBodyBytes = 16 << 20
	defaultMaxPageBytes      = 8 << 20
	defaultMaxResults        = 1000
	defaultMaxMembers        = 10000
	defaultMaxOperations     = 1000
	defaultMaxBulkOperations = 1000
	defaultMaxBulkPayload    = 1 << 20
	defaultMaxValues         = 1000
	defaultMaxAttributeNames = 100
	defaultMaxScan           = 10000
	defaultMaxWork           = 1_000_000
	defaultRequestTimeout    = 30 * time.Second
	defaultRetryAfter        = 2 * time.Second
	unbounded                = math.MaxInt32 // a count without bound: room to add to it without overflow
	resourceOverhead         = 1024          // what the server adds to a body: id, meta
	maxDefaultResourceBody   = 1 << 30       // the default MaxResourceBytes stays an int on 32-bit too
)

// merge returns l with the non-zero fields of o set over it.
func (l Limits) merge(o Limits) Limits {
	over(&l.MaxBodyBytes, o.MaxBodyBytes)
	over(&l.MaxGroupBodyBytes, o.MaxGroupBodyBytes)
	over(&l.MaxResourceBytes, o.MaxResourceBytes)
	over(&l.MaxPageBytes, o.MaxPageBytes)
	over(&l.MaxResults, o.MaxResults)
	over(&l.MaxMembersReturned, o.MaxMembersReturned)
	over(&l.MaxOperations, o.MaxOperations)
	over(&l.MaxBulkOperations, o.MaxBulkOperations)
	over(&l.MaxBulkPayload, o.MaxBulkPayload)
	over(&l.MaxValues, o.MaxValues)
	over(&l.MaxAttributeNames, o.MaxAttributeNames)
	over(&l.MaxScan, o.MaxScan)
	over(&l.MaxWork, o.MaxWork)
	over(&l.RequestTimeout, o.RequestTimeout)
	over(&l.RetryAfter, o.RetryAfter)
	over(&l.Filter.MaxLength, o.Filter.MaxLength)
	over(&l.Filter.MaxDepth, o.Filter.MaxDepth)
	over(&l.Filter.MaxTerms, o.Filter.MaxTerms)
	over(&l.Filter.MaxMultiValued, o.Filter.MaxMultiValued)
	over(&l.Tenant.MaxConcurrent, o.Tenant.MaxConcurrent)
	over(&l.Tenant.MaxQueue, o.Tenant.MaxQueue)
	over(&l.Tenant.MaxWait, o.Tenant.MaxWait)
	over(&l.Tenant.Rate, o.Tenant.Rate)
	over(&l.Tenant.Burst, o.Tenant.Burst)
	over(&l.Events.Size, o.Events.Size)
	over(&l.Events.Workers, o.Events.Workers)
	over(&l.Events.Wait, o.Events.Wait)
	over(&l.Events.Timeout, o.Events.Timeout)
	return l
}

func over[T int | int64 | time.Duration | float64](dst *T, v T) {
	if v != 0 {
		*dst = v
	}
}

// bound resolves one field of Limits: zero gives def, NoLimit gives none, another negative value is a
// mistake (reported, and def kept so that the other fields still resolve).
func bound[T int | int64 | time.Duration | float64](c *config, field string, v, def, none T) T {
	switch {
	case v == 0:
		return def
	case v == NoLimit:
		return none
	case v < 0:
		c.fail("WithLimits: Limits.%s is %v: a bound is positive, 0 (the default) or NoLimit", field, v)
		return def
	}
	return v
}

// resolveLimits sets the bounds from what WithLimits gave.
func (c *config) resolveLimits() {
	l := c.limitsIn
	c.maxBodyBytes = bound(c, "MaxBodyBytes", l.MaxBodyBytes, defaultMaxBodyBytes, math.MaxInt64)
	c.maxGroupBodyBytes = bound(c, "MaxGroupBodyBytes", l.MaxGroupBodyBytes, defaultMaxGroupBodyBytes, math.MaxInt64)
	c.maxResourceBytes = bound(c, "MaxResourceBytes", l.MaxResourceBytes,
		int(min(c.maxBodyBytes, maxDefaultResourceBody))+resourceOverhead, math.MaxInt)
	c.maxPageBytes = bound(c, "MaxPageBytes", l.MaxPageBytes, defaultMaxPageBytes, math.MaxInt)
	c.maxResults = bound(c, "MaxResults", l.MaxResults, defaultMaxResults, unbounded)
	c.maxMembers = bound(c, "MaxMembersReturned", l.MaxMembersReturned, defaultMaxMembers, unbounded)
	c.maxOps = bound(c, "MaxOperations", l.MaxOperations, defaultMaxOperations, math.MaxInt)
	c.maxBulkOps = bound(c, "MaxBulkOperations", l.MaxBulkOperations, defaultMaxBulkOperations, math.MaxInt)
	c.maxBulkPayload = bound(c, "MaxBulkPayload", l.MaxBulkPayload, defaultMaxBulkPayload, math.MaxInt64-1) // +1 is read to detect "larger"
	c.maxValues = bound(c, "MaxValues", l.MaxValues, defaultMaxValues, math.MaxInt)
	c.maxAttrNames = bound(c, "MaxAttributeNames", l.MaxAttributeNames, defaultMaxAttributeNames, math.MaxInt)
	c.maxScan = bound(c, "MaxScan", l.MaxScan, defaultMaxScan, 0)
	c.maxWork = bound(c, "MaxWork", l.MaxWork, defaultMaxWork, 0)
	c.timeout = bound(c, "RequestTimeout", l.RequestTimeout, defaultRequestTimeout, 0)
	c.retryAfter = bound(c, "RetryAfter", l.RetryAfter, defaultRetryAfter, 0)
	d := filter.DefaultLimits
	c.limits = filter.Limits{
		MaxLength:      bound(c, "Filter.MaxLength", l.Filter.MaxLength, d.MaxLength, unbounded),
		MaxDepth:       bound(c, "Filter.MaxDepth", l.Filter.MaxDepth, d.MaxDepth, unbounded),
		MaxTerms:       bound(c, "Filter.MaxTerms", l.Filter.MaxTerms, d.MaxTerms, unbounded),
		MaxMultiValued: bound(c, "Filter.MaxMultiValued", l.Filter.MaxMultiValued, d.MaxMultiValued, unbounded),
	}
	// TenantLimits.resolve turns NoLimit into the limiter's "none"; here only the mistakes are caught.
	t := l.Tenant
	bound(c, "Tenant.MaxConcurrent", t.MaxConcurrent, 0, 0)
	bound(c, "Tenant.MaxQueue", t.MaxQueue, 0, 0)
	bound(c, "Tenant.MaxWait", t.MaxWait, 0, 0)
	bound(c, "Tenant.Rate", t.Rate, 0, 0)
	bound(c, "Tenant.Burst", t.Burst, 0, 0)
	if t.Burst == NoLimit { // a bucket without bound admits every request: the rate limits nothing
		t.Rate, t.Burst = NoLimit, 0
	}
	c.tenantLim = tenantlimit.New(limiterConfig(t.resolve()))
	// The event queue's fields have no NoLimit (newEventQueue gives zero its default).
	q := l.Events
	for _, f := range []struct {
		name string
		v    int64
	}{{"Size", int64(q.Size)}, {"Workers", int64(q.Workers)}, {"Wait", int64(q.Wait)}, {"Timeout", int64(q.Timeout)}} {
		if f.v < 0 {
			c.fail("WithLimits: Limits.Events.%s is negative: an event queue field is positive or 0 (the default), never NoLimit", f.name)
		}
	}
	c.eventQueue = q
}
