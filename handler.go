package scim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/scimkit/scim/internal/echo"
	"github.com/scimkit/scim/internal/eventq"
	"github.com/scimkit/scim/internal/normalize"
	"github.com/scimkit/scim/schema"
)

// New returns a Handler serving the SCIM 2.0 protocol for Users (and Groups, when store is a GroupStore)
// over store. Mount it under a prefix with http.StripPrefix:
//
//	h, err := scim.New(store, scim.WithTokens(os.Getenv("SCIM_TOKEN")))
//	if err != nil {
//		return err // SCIM_TOKEN unset, say
//	}
//	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
//
// Configuration mistakes are its error: a nil store, a nil Option or option argument, an impossible value
// (a negative limit other than NoLimit, a malformed hash in WithTokenHashes, an empty token), or more than
// one of WithTokens, WithTokenHashes and WithAuthenticator. The error wraps ErrInvalidOption and names
// every mistake found (errors.Join), not just the first.
//
// Why validate here: net/http and log/slog validate nothing at construction (http.Server's fields and
// slog.HandlerOptions take any value, zero meaning the default, and a bad one shows up only when serving),
// which is the failure this library must not have: an authentication mistake discovered as 401s looks to
// Entra ID like a revoked token and stops provisioning silently.
func New(store Store, opts ...Option) (*Handler, error) {
	c := config{
		auth:       func(*http.Request) (string, error) { return "", ErrUnauthorized },
		maxRetries: 16,
		log:        slog.Default(),
		passwords:  PasswordsRefused,
	}
	if store == nil {
		c.fail("a nil Store")
	}
	for _, o := range opts {
		if o == nil {
			c.fail("a nil Option")
			continue
		}
		o(&c)
	}
	c.resolveLimits()
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	rt := c.userSchema
	if rt == nil {
		rt = userType
	}
	switch c.passwords {
	case PasswordsIgnored: // not an attribute of this service provider: ignored like any other
		rt = rt.Without("password")
	case PasswordsRefused: // refused even when the declaration leaves it out, never dropped silently
		rt = withPassword(rt)
	}
	if _, ok := store.(GroupStore); ok {
		rt = withGroupsAttr(rt) // computed from the GroupStore: part of User whether declared or not
	}
	shown := rt
	if c.passwords == PasswordsRefused {
		shown = rt.Without("password")
	}
	h := &handler{
		clock:     time.Now,
		config:    c,
		store:     store,
		rt:        rt,
		shown:     shown,
		trim:      c.userSchema != nil && !normalize.IsFull(c.userSchema),
		hashSlots: newHashSlots(max(1, runtime.GOMAXPROCS(0)/2)),
	}
	_, h.keepsJSON = store.(JSONKeeper)
	if c.testClock != nil {
		h.clock = c.testClock
	}
	for _, res := range c.resources {
		d, err := newDeclared(res, rt)
		if err != nil {
			return nil, errors.Join(ErrInvalidOption, err)
		}
		h.declared = append(h.declared, d)
	}
	if c.events != nil {
		h.queue = newEventQueue(c.events, c.eventQueue, c.log)
	}
	return newPublicHandler(h), nil
}

// Handler serves the SCIM protocol (an http.Handler) and owns the delivery of its events (WithEvents): a
// host shuts it down after its http.Server, so that the events of the last requests reach the hook.
type Handler struct {
	h *handler // the implementation; Handler is its public face, with the methods a host calls
}

// MustNew is New for options that are the program's own text (examples, tests, a main function): it
// panics on a configuration error, as regexp.MustCompile does on a bad expression, so the mistake is found
// the first time the program starts. A host whose options come from data (token hashes from a database,
// limits from its configuration) calls New and reports the error its own way.
func MustNew(store Store, opts ...Option) *Handler {
	h, err := New(store, opts...)
	if err != nil {
		panic(err)
	}
	return h
}

// ServeHTTP authenticates, routes and answers one request; see New.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.h.ServeHTTP(w, r)
	runtime.KeepAlive(h) // a request in flight keeps its Handler, and so its event queue, open
}

type handler struct {
	config
	store Store
	rt    *schema.ResourceType
	// shown is the User resource type /Schemas and /ResourceTypes describe: rt less what the service
	// provider only knows so as to refuse it (password under PasswordsRefused), so that no client is told
	// it may write an attribute that is then refused.
	shown *schema.ResourceType
	// keepsJSON: the Store is a JSONKeeper, given each written user's encoding (EncodedUser).
	keepsJSON bool
	// trim makes every response go through the declared schema, so that nothing outside it is ever returned
	// even by a Store that keeps more (a JSON column written before the declaration changed, say).
	trim bool
	// hashSlots bounds the password hashes computed at once, shared fairly between tenants (password.go).
	hashSlots *hashSlots
	// hash is bcrypt's, or a test's (export_test.go): it makes the hash of a password.
	hash func(password []byte) ([]byte, error)
	// queue delivers events to the WithEvents hook; nil without one.
	queue *eventq.Queue[Event]
	// declared are the resource types of WithResource, in their order.
	declared []*declared
	// clock is time.Now, or a test's (export_test.go): meta times and event times come from it.
	clock func() time.Time
}

const contentType = "application/scim+json"

// ServeHTTP authenticates, routes and answers one request; see New.
func (h *handler) ServeHTTP(rw http.ResponseWriter, hr *http.Request) {
	start := time.Now()
	r := &request{Request: hr, work: workBudget{left: h.maxWork, limit: h.maxWork}}
	if h.requestLog != nil || h.metrics != nil || h.events != nil { // a request id only where it is reported
		r.requestID = requestID(hr)
		rw.Header().Set("X-Request-Id", r.requestID)
	}
	segs := strings.Split(strings.Trim(hr.URL.Path, "/"), "/")
	r.resource, r.route = routeOf(segs)
	if r.route == "unknown" && len(segs) <= 2 { // a declared type's endpoint, named for logs and metrics
		if dec := h.declaredAt(segs[0]); dec != nil {
			r.resource, r.route = dec.Type.Name, dec.list
			if len(segs) == 2 {
				r.route = dec.item
				if segs[1] == ".search" {
					r.route = dec.search
				}
			}
		}
	}
	r.w.ResponseWriter = rw
	w := &r.w
	defer h.finish(w, r, start)
	defer func() {
		// A panic (in a Store, an authenticator, or a bug of ours) answers 500 without details and is
		// logged; the server goes on serving. http.ErrAbortHandler keeps its meaning.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.ErrorContext(r.Context(), "scim: panic serving request", "method", r.Method, "route", r.route,
				"request_id", r.requestID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			h.writeError(w, r, errorf(http.StatusInternalServerError, "", "internal server error"))
		}
	}()
	// The context carries the tenant once the request is authenticated, for the Store (Tenant).
	var ctx context.Context = &reqCtx{Context: hr.Context(), r: r}
	if h.timeout > 0 { // bounds the authenticator's and the Store's work too: they get this context
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.timeout)
		defer cancel()
	}
	r.Request = hr.WithContext(ctx)
	tenant, err := h.auth(r.Request)
	if err != nil {
		h.writeError(w, r, h.authError(r, err))
		return
	}
	r.tenant, r.authenticated = tenant, true
	// Per-tenant limits (tenant_limits.go) apply once the tenant is known, and their wait counts against the timeout.
	e, err := h.tenantLim.Acquire(ctx, tenant)
	if err != nil {
		h.writeError(w, r, tooMany(w.Header(), err))
		return
	}
	defer h.tenantLim.Release(e)
	if err := h.route(w, r, segs, r.route); err != nil {
		h.writeError(w, r, err)
	}
}

// authError maps an authenticator's error to the answer: ErrUnauthorized gives 401, an *Error its own
// status, ErrUnavailable or a deadline 503. Any other error is the authenticator failing (its accounts
// table is down, say), not the client's credentials being wrong: it answers 500 and is logged, since a 401
// would tell the identity provider that a good token was revoked.
func (h *handler) authError(r *request, err error) error {
	var se *Error
	switch {
	case errors.As(err, &se), errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, ErrUnauthorized):
		return errorf(http.StatusUnauthorized, "", "missing or invalid credentials")
	}
	h.log.ErrorContext(r.Context(), "scim: authenticator failed", "method", r.Method, "route", r.route,
		"request_id", r.requestID, "error", err)
	return errorf(http.StatusInternalServerError, "", "internal server error")
}

// route dispatches on the path below the mount point (its segments, and the pattern routeOf found for
// them). Endpoint names are matched without case, as clients differ in how they spell them.
func (h *handler) route(w http.ResponseWriter, r *request, segs []string, pattern string) error {
	if err := checkQuery(r.URL.RawQuery); err != nil {
		return err
	}
	if strings.IndexByte(r.URL.Path, 0) >= 0 { // %00: no endpoint or id holds it (and PostgreSQL cannot bind it)
		return errorf(http.StatusNotFound, "", "no such resource: a path never holds U+0000")
	}
	switch pattern {
	case "/Users":
		switch r.Method {
		case http.MethodGet:
			return h.list(w, r)
		case http.MethodPost:
			return h.create(w, r)
		}
		return notAllowed(w, r, "GET, POST")
	case "/Users/.search":
		if r.Method == http.MethodPost {
			return h.search(w, r)
		}
		return notAllowed(w, r, "POST")
	case "/Users/{id}":
		switch id := segs[1]; r.Method {
		case http.MethodGet:
			return h.get(w, r, id)
		case http.MethodPut:
			return h.replace(w, r, id)
		case http.MethodPatch:
			return h.patch(w, r, id)
		case http.MethodDelete:
			return h.delete(w, r, id)
		}
		return notAllowed(w, r, "GET, PUT, PATCH, DELETE")
	case "/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/{name}", "/Schemas", "/Schemas/{id}":
		if r.Method != http.MethodGet {
			return notAllowed(w, r, "GET")
		}
		var v any
		var err error
		switch {
		case pattern == "/ServiceProviderConfig": // ignores query parameters (RFC 7644 §4)
			v = h.serviceProviderConfig(r)
		case r.URL.Query().Has("filter"):
			// RFC 7644 §4: these lists are not filtered, and a 403 keeps a client from believing its filter
			// matched.
			return errorf(http.StatusForbidden, "", "/"+segs[0]+" cannot be filtered")
		case strings.HasPrefix(pattern, "/ResourceTypes"):
			v, err = h.resourceTypes(r, segs[1:])
		default:
			v, err = h.schemas(r, segs[1:])
		}
		if err != nil {
			return err
		}
		h.writeJSON(w, http.StatusOK, v)
		return nil
	case "/Groups", "/Groups/.search", "/Groups/{id}", "/.search":
		return h.routeGroups(w, r, segs, pattern) // groups_handler.go
	case "/Bulk":
		return h.bulk(w, r) // bulk.go
	case "/Me": // no mapping from the authenticated tenant to a user of its own: docs/bulk.md
		return errorf(http.StatusNotImplemented, "", "/"+segs[0]+" is not supported")
	}
	if d := h.declaredAt(segs[0]); d != nil && len(segs) <= 2 {
		return h.routeDeclared(w, r, d, segs) // resource_handler.go
	}
	return errorf(http.StatusNotFound, "", "no such endpoint: "+echo.Clip(r.URL.Path))
}

// routeOf names the endpoint and path pattern of a request, for routing, logs and metrics; ids never appear.
func routeOf(segs []string) (resource, route string) {
	for _, e := range endpoints {
		switch {
		case !strings.EqualFold(segs[0], e.name) || len(segs) > 2:
		case len(segs) == 1:
			return e.name, e.list
		case e.search != "" && segs[1] == ".search":
			return e.name, e.search
		default:
			return e.name, e.item
		}
	}
	return "", "unknown"
}

// endpoints are the names routeOf knows, with their patterns (constants: no allocation a request).
var endpoints = []struct{ name, list, item, search string }{
	{"Users", "/Users", "/Users/{id}", "/Users/.search"},
	{"Groups", "/Groups", "/Groups/{id}", "/Groups/.search"},
	{".search", "/.search", "/.search/{id}", ""}, // POST /.search: every resource type (RFC 7644 §3.4.3)
	{"ServiceProviderConfig", "/ServiceProviderConfig", "/ServiceProviderConfig/{id}", ""},
	{"ResourceTypes", "/ResourceTypes", "/ResourceTypes/{name}", ""},
	{"Schemas", "/Schemas", "/Schemas/{id}", ""},
	{"Bulk", "/Bulk", "/Bulk/{id}", ""},
	{"Me", "/Me", "/Me/{id}", ""},
}

// notAllowed answers 405 with the Allow header.
func notAllowed(w http.ResponseWriter, r *request, allow string) error {
	w.Header().Set("Allow", allow)
	return errorf(http.StatusMethodNotAllowed, "", r.Method+" is not allowed here")
}

// newID returns a random (version 4) UUID: ids must be unguessable across tenants.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte // 8-4-4-4-12 hex digits; one allocation, where fmt took six
	hex.Encode(s[0:8], b[0:4])
	hex.Encode(s[9:13], b[4:6])
	hex.Encode(s[14:18], b[6:8])
	hex.Encode(s[19:23], b[8:10])
	hex.Encode(s[24:36], b[10:16])
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return string(s[:])
}

// now is the time stamps' clock: UTC, at millisecond precision so that every store keeps it exactly.
func (h *handler) now() time.Time { return h.clock().UTC().Truncate(time.Millisecond) }

// Shutdown stops accepting events and waits until those already queued are delivered, or until ctx ends,
// like http.Server.Shutdown. Shut the http.Server down first, so that the requests in flight queue their
// events before this one stops accepting them; a write after Shutdown began still answers, and its event is
// dropped and counted. When ctx ends first, Shutdown cancels the contexts of the running hooks, drops the
// events still queued (counted), and returns ctx's error; the workers end once the running hooks return.
// Without WithEvents, or when no event was ever queued, it returns at once.
func (h *Handler) Shutdown(ctx context.Context) error {
	if h.h.queue == nil {
		return nil
	}
	return h.h.queue.Shutdown(ctx)
}

// newPublicHandler wraps h. A Handler dropped without Shutdown still ends its idle workers: the cleanup closes
// the queue once the Handler is unreachable (nothing queued is then lost: no request can be in flight).
func newPublicHandler(h *handler) *Handler {
	p := &Handler{h: h}
	if h.queue != nil {
		runtime.AddCleanup(p, (*eventq.Queue[Event]).Close, h.queue)
	}
	return p
}
