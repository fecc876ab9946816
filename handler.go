package scim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/document"
	"github.com/scimkit/scim/internal/normalize"
	"github.com/scimkit/scim/internal/project"
	"github.com/scimkit/scim/schema"
)

// NewHandler returns a Handler serving the SCIM 2.0 protocol for Users over store. Mount it under a
// prefix with http.StripPrefix:
//
//	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.NewHandler(store, opts...)))
//
// NewHandler panics on a configuration error (see New), as http.ServeMux.Handle panics on a conflicting
// pattern and regexp.MustCompile on a bad expression: the options are the program's own text, fixed when it
// is written, and a mistake in them is found the first time the program starts, not by a client months
// later as a 401. A host whose options come from data (token hashes from a file or a database, limits from
// its configuration) calls New and reports the error its own way.
func NewHandler(store Store, opts ...Option) *Handler {
	h, err := New(store, opts...)
	if err != nil {
		panic(err)
	}
	return h
}

// New is NewHandler returning configuration mistakes as an error instead of panicking: a nil store,
// an option given an impossible value (a negative limit, a malformed hash in WithTokenHashes, an empty
// token), or more than one of WithTokens, WithTokenHashes and WithAuthenticator. The error wraps
// ErrInvalidOption and names every mistake found (errors.Join), not just the first.
//
// Why both: net/http and log/slog validate nothing at construction (http.Server's fields and
// slog.HandlerOptions take any value, zero meaning the default, and a bad one shows up only when serving),
// which is the failure this library must not have: an authentication mistake discovered as 401s looks to
// Entra ID like a revoked token and stops provisioning silently. Changing NewHandler to return an error would
// break every caller for a failure that is nearly always a programming mistake; New gives the error to hosts
// that want it, and NewHandler keeps its signature and fails loudly at start-up, the regexp.MustCompile
// pattern.
func New(store Store, opts ...Option) (*Handler, error) {
	c := config{
		auth:         func(*http.Request) (string, error) { return "", ErrUnauthorized },
		maxResults:   1000,
		maxBodyBytes: 1 << 20,
		maxRetries:   16,
		maxOps:       1000,
		timeout:      30 * time.Second,
		log:          slog.Default(),
		limits:       filter.DefaultLimits,
		maxValues:    defaultMaxValues,
		maxAttrNames: defaultMaxAttributeNames,
		maxScan:      defaultMaxScan,
		maxPageBytes: defaultMaxPageBytes,
		tenantLim:    newTenantLimiter(DefaultTenantLimits),
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
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	if c.maxResourceBytes == 0 { // what a body may carry, and room for what the server adds (id, meta)
		c.maxResourceBytes = int(min(c.maxBodyBytes, 1<<30)) + 1024
	}
	rt := c.userSchema
	if rt == nil {
		rt = userType
	}
	if c.passwords == PasswordsIgnored { // not an attribute of this service provider: ignored like any other
		rt = rt.Without("password")
	}
	h := &handler{
		config:    c,
		store:     store,
		rt:        rt,
		trim:      c.userSchema != nil && !normalize.IsFull(c.userSchema),
		hashSlots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)),
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

// ServeHTTP authenticates, routes and answers one request; see NewHandler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.h.ServeHTTP(w, r)
	runtime.KeepAlive(h) // a request in flight keeps its Handler, and so its event queue, open
}

type handler struct {
	config
	store Store
	rt    *schema.ResourceType
	// trim makes every response go through the declared schema, so that nothing outside it is ever returned
	// even by a Store that keeps more (a JSON column written before the declaration changed, say).
	trim bool
	// hashSlots bounds the password hashes computed at once: each costs tens of milliseconds of CPU, so a
	// burst of password writes queues here instead of taking every core from other requests and tenants.
	hashSlots chan struct{}
	// queue delivers events to the WithEvents hook; nil without one.
	queue *eventQueue
}

const contentType = "application/scim+json"

// ServeHTTP authenticates, routes and answers one request; see NewHandler.
func (h *handler) ServeHTTP(rw http.ResponseWriter, hr *http.Request) {
	start := time.Now()
	r := &request{Request: hr}
	if h.requestLog != nil || h.metrics != nil || h.events != nil { // a request id only where it is reported
		r.requestID = requestID(hr)
		rw.Header().Set("X-Request-Id", r.requestID)
	}
	segs := strings.Split(strings.Trim(hr.URL.Path, "/"), "/")
	r.resource, r.route = routeOf(segs)
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
	// Per-tenant limits (limit.go) apply once the tenant is known, and their wait counts against the timeout.
	e, err := h.tenantLim.acquire(ctx, tenant, w.Header())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer h.tenantLim.release(e)
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
	case "/Bulk", "/Me":
		return errorf(http.StatusNotImplemented, "", "/"+segs[0]+" is not supported")
	}
	return errorf(http.StatusNotFound, "", "no such endpoint: "+r.URL.Path)
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

// --- Users ---

func (h *handler) create(w http.ResponseWriter, r *request) error {
	proj, err := h.projection(r) // refused before any work
	if err != nil {
		return err
	}
	doc, err := h.decodeResource(w, r)
	if err != nil {
		return err
	}
	hash, _, err := h.takePassword(r.Context(), doc)
	if err != nil {
		return err
	}
	u, err := userFromDoc(doc)
	if err != nil {
		return err
	}
	now := now()
	u.ID = newID()
	u.PasswordHash = hash
	u.Meta = Meta{ResourceType: h.rt.Name, Created: now, LastModified: now}
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	if err := h.checkSize(len(b)); err != nil {
		return err
	}
	var created *User
	err = h.lockedWrite(r, u.ID, func() (err error) {
		if created, err = h.store.Create(r.Context(), u); err == nil && created != nil && created.ID != "" {
			h.emit(r, nil, created)
		}
		return err
	})
	if err != nil {
		return err
	}
	if created == nil || created.ID == "" {
		return errors.New("scim: the Store's Create returned a user without an id")
	}
	return h.writeUser(w, r, http.StatusCreated, created, proj)
}

func (h *handler) get(w http.ResponseWriter, r *request, id string) error {
	proj, err := h.projection(r)
	if err != nil {
		return err
	}
	u, err := h.store.Get(r.Context(), id)
	if err != nil {
		return err
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, u.Meta.Version) {
		w.Header().Set("ETag", etag(u.Meta.Version))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return h.writeUser(w, r, http.StatusOK, u, proj)
}

func (h *handler) replace(w http.ResponseWriter, r *request, id string) error {
	proj, err := h.projection(r)
	if err != nil {
		return err
	}
	body, err := h.decodeResource(w, r)
	if err != nil {
		return err
	}
	u, err := h.update(r, id, func(doc map[string]any) error {
		// PUT replaces what the client may write. What it cannot write (id, meta, groups) or read back
		// (password, when not sent) is kept, so a PUT built from a GET loses nothing.
		next := map[string]any{}
		for _, p := range h.rt.Attributes() {
			ov, nv := document.Get(doc, p), document.Get(body, p)
			if p.Attr.Mutability == schema.Immutable && ov != nil && nv != nil && !reflect.DeepEqual(ov, nv) {
				return errorf(http.StatusBadRequest, Mutability, p.String()+" is immutable")
			}
			v := nv
			if p.Attr.Mutability == schema.ReadOnly || (p.Attr.Returned == schema.Never && nv == nil) {
				v = ov
			}
			if v != nil {
				document.Container(next, p, true)[p.Attr.Name] = v
			}
		}
		clear(doc)
		maps.Copy(doc, next)
		return nil
	})
	if err != nil {
		return err
	}
	return h.writeUser(w, r, http.StatusOK, u, proj)
}

func (h *handler) patch(w http.ResponseWriter, r *request, id string) error {
	proj, err := h.projection(r)
	if err != nil {
		return err
	}
	var req patchRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		return err
	}
	ops, err := parsePatch(h.rt, req, h.maxOps, r.ignore)
	if err != nil {
		return err
	}
	env := patchEnv{ctx: r.Context(), rt: h.rt, ignored: r.ignore, maxValues: h.maxValues}
	u, err := h.update(r, id, func(doc map[string]any) error {
		if err := applyPatch(env, doc, ops); err != nil {
			return err
		}
		if _, set := doc["password"]; !set && clearsPassword(ops) {
			doc["password"] = "" // tells update to clear the stored hash (the attribute is write-only)
		}
		return nil
	})
	if re := (*normalize.RequiredError)(nil); errors.As(err, &re) { // it removed a required attribute (RFC 7644 §3.5.2.2)
		return errorf(http.StatusBadRequest, Mutability, re.Path.String()+" is required: a PATCH cannot remove it")
	}
	if err != nil {
		return err
	}
	return h.writeUser(w, r, http.StatusOK, u, proj)
}

// update reads the user, lets mutate change its canonical document, and replaces it with the version it
// read: optimistic concurrency, so no concurrent change is lost. Without If-Match a lost race is retried
// with a fresh read (bounded); with If-Match it is the client's 412. A change that changes nothing is not
// written, so meta.lastModified and the version stay as they were.
func (h *handler) update(r *request, id string, mutate func(doc map[string]any) error) (*User, error) {
	ctx := r.Context()
	ifMatch := r.Header.Get("If-Match")
	var hashed, plain string // a password is hashed once, whatever the retries
	for attempt := 0; ; attempt++ {
		cur, err := h.store.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if ifMatch != "" && !etagMatches(ifMatch, cur.Meta.Version) {
			return nil, ErrVersionMismatch
		}
		before, err := json.Marshal(cur)
		if err != nil {
			return nil, err
		}
		doc := cur.doc()
		if h.trim { // what the Store kept from before the declaration shrank is not carried along
			normalize.Trim(h.rt, doc)
		}
		if err := mutate(doc); err != nil {
			return nil, err
		}
		newPassword, touched := doc["password"].(string)
		clear := touched && newPassword == "" // a PATCH removed the password (clearsPassword)
		if newPassword != "" && newPassword != plain {
			if hashed, _, err = h.takePassword(ctx, doc); err != nil {
				return nil, err
			}
			plain = newPassword
		}
		delete(doc, "password")
		if err := h.checkValues(doc); err != nil {
			return nil, err
		}
		if err := normalize.Validate(h.rt, doc); err != nil {
			return nil, err
		}
		u, err := userFromDoc(doc)
		if err != nil {
			return nil, err
		}
		u.ID, u.Meta, u.PasswordHash = cur.ID, cur.Meta, cur.PasswordHash
		switch {
		case newPassword != "":
			u.PasswordHash = hashed
		case clear:
			u.PasswordHash = ""
		}
		// Unchanged when both encode alike: the encoding of a User is canonical (fixed field order, empty
		// values omitted), so equal bytes are equal users. A new password is always a change.
		after, err := json.Marshal(u)
		if err == nil && bytes.Equal(before, after) && newPassword == "" && u.PasswordHash == cur.PasswordHash {
			return cur, nil
		}
		if err := h.checkSize(len(after)); err != nil {
			return nil, err
		}
		u.Meta.LastModified = now()
		var updated *User
		err = h.lockedWrite(r, cur.ID, func() (err error) {
			if updated, err = h.store.Replace(ctx, u, cur.Meta.Version); err == nil {
				h.emit(r, cur, updated)
			}
			return err
		})
		if errors.Is(err, ErrVersionMismatch) && ifMatch == "" && attempt < h.maxRetries {
			if err := sleepCtx(ctx, time.Duration(attempt)*time.Millisecond); err != nil {
				return nil, err
			}
			continue
		}
		return updated, err
	}
}

func (h *handler) delete(w http.ResponseWriter, r *request, id string) error {
	ifMatch := r.Header.Get("If-Match")
	if ifMatch == "" && h.events == nil { // nothing to check or report: one unconditional delete
		if err := h.store.Delete(r.Context(), id, ""); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	// Read the user (for If-Match, or for the event), then delete that version: the event reports exactly
	// what was deleted. A lost race is retried without If-Match, as in update.
	for attempt := 0; ; attempt++ {
		cur, err := h.store.Get(r.Context(), id)
		if err != nil {
			return err
		}
		if ifMatch != "" && !etagMatches(ifMatch, cur.Meta.Version) {
			return ErrVersionMismatch
		}
		err = h.lockedWrite(r, cur.ID, func() error {
			err := h.store.Delete(r.Context(), id, cur.Meta.Version)
			if err == nil {
				h.emit(r, cur, nil)
			}
			return err
		})
		if errors.Is(err, ErrVersionMismatch) && ifMatch == "" && attempt < h.maxRetries {
			continue
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// searchRequest is the body of POST /.search (RFC 7644 §3.4.3); encoding/json matches its keys without case.
type searchRequest struct {
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
	Filter             string   `json:"filter"`
	SortBy             string   `json:"sortBy"`
	SortOrder          string   `json:"sortOrder"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
	// Cursor, when present (even empty), asks for cursor pagination (RFC 9865).
	Cursor *string `json:"cursor"`
}

func (h *handler) list(w http.ResponseWriter, r *request) error {
	req, err := listParams(r)
	if err != nil {
		return err
	}
	return h.answerList(w, r, req)
}

// listParams reads a list's query parameters into a searchRequest.
func listParams(r *request) (searchRequest, error) {
	q := r.URL.Query()
	req := searchRequest{
		Attributes:         splitList(q.Get("attributes")),
		ExcludedAttributes: splitList(q.Get("excludedAttributes")),
		Filter:             q.Get("filter"),
		SortBy:             q.Get("sortBy"),
		SortOrder:          q.Get("sortOrder"),
	}
	if q.Has("cursor") {
		c := q.Get("cursor")
		req.Cursor = &c
	}
	// In the order of the parameters' definition (RFC 7644 §3.4.2.4), so that a request with both wrong
	// always names startIndex: ranging over a map picked either at random.
	var err error
	if req.StartIndex, err = intParam(q, "startIndex"); err != nil {
		return req, err
	}
	if req.Count, err = intParam(q, "count"); err != nil {
		return req, err
	}
	return req, nil
}

// intParam reads an integer query parameter: nil when absent or empty.
func intParam(q url.Values, name string) (*int, error) {
	s := q.Get(name)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, InvalidValue, name+" must be an integer")
	}
	return &n, nil
}

// query turns a list request into a Query over the resource type rt (Users, Groups): the filter and sortBy
// resolved against rt, the page and its work bounded by the cost model.
func (h *handler) query(rt *schema.ResourceType, req searchRequest) (Query, error) {
	q := Query{StartIndex: 1, Count: h.maxResults, MaxScan: h.maxScan, MaxBytes: h.maxPageBytes}
	if req.StartIndex != nil {
		q.StartIndex = max(*req.StartIndex, 1) // RFC 7644 §3.4.2.4: below 1 means 1
	}
	if req.Count != nil {
		q.Count = min(max(*req.Count, 0), h.maxResults)
	}
	if req.Filter != "" {
		f, err := h.limits.Parse(rt, req.Filter) // its length, depth and comparisons bounded
		if err != nil {
			return q, err
		}
		if p, why := unqueryableIn(f, nil); why != "" {
			return q, errorf(http.StatusBadRequest, InvalidFilter, p.String()+" cannot be filtered on: "+why)
		}
		q.Filter = f
	}
	if req.SortBy != "" {
		p, ok := rt.Resolve(req.SortBy)
		if !ok || p.Attr == nil {
			return q, errorf(http.StatusBadRequest, InvalidValue, "sortBy names no attribute: "+req.SortBy)
		}
		if why := unqueryable(p); why != "" {
			return q, errorf(http.StatusBadRequest, InvalidValue, p.String()+" cannot be sorted by: "+why)
		}
		q.SortBy = p
	}
	switch strings.ToLower(req.SortOrder) {
	case "", "ascending":
	case "descending":
		q.Descending = true
	default:
		return q, errorf(http.StatusBadRequest, InvalidValue, `sortOrder must be "ascending" or "descending"`)
	}
	return q, nil
}

func (h *handler) search(w http.ResponseWriter, r *request) error {
	var req searchRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		return err
	}
	return h.answerList(w, r, req)
}

type listResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	ItemsPerPage int      `json:"itemsPerPage"`
	StartIndex   int      `json:"startIndex,omitempty"` // index pagination only
	NextCursor   string   `json:"nextCursor,omitempty"` // cursor pagination only, absent on the last page
	Resources    []any    `json:"Resources"`
}

func (h *handler) answerList(w http.ResponseWriter, r *request, req searchRequest) error {
	proj, err := h.parseProjection(h.rt, req.Attributes, req.ExcludedAttributes) // refused before the Store works
	if err != nil {
		return err
	}
	q, err := h.query(h.rt, req)
	if err != nil {
		return err
	}
	var page *Page
	if req.Cursor != nil {
		page, err = h.listCursor(r.Context(), q, req)
	} else {
		page, err = h.store.List(r.Context(), q)
	}
	if errors.Is(err, ErrTooMany) {
		return h.tooMany()
	}
	if err != nil {
		return err
	}
	users, err := h.withGroups(r, page.Users, proj) // one GroupsOf call a page, when groups are sent
	if err != nil {
		return err
	}
	items, short, err := h.renderPage(r.Context(), r, users, proj)
	if err != nil {
		return err
	}
	if short && req.Cursor != nil {
		// The next cursor must follow the last user sent: ask again for the users that fit.
		q.Count = len(items)
		if page, err = h.listCursor(r.Context(), q, req); err != nil {
			return err
		}
		if users, err = h.withGroups(r, page.Users[:min(len(page.Users), q.Count)], proj); err != nil {
			return err
		}
		if items, _, err = h.renderPage(r.Context(), r, users, proj); err != nil {
			return err
		}
	}
	if req.Cursor != nil {
		q.StartIndex = 0
	}
	h.writeJSON(w, http.StatusOK, listResponse{
		Schemas:      []string{schema.ListResponseURN},
		TotalResults: page.TotalResults,
		ItemsPerPage: len(items),
		StartIndex:   q.StartIndex,
		NextCursor:   page.NextCursor,
		Resources:    items,
	})
	return nil
}

// unqueryable says why a filter or sortBy may not name p, or "" when it may:
//   - a "returned: never" attribute or sub-attribute (password): filtering or sorting on one would let a
//     client find its value by asking (password eq "guess" answers whether it is the password);
//   - meta.version: an opaque version that each Store keeps in its own form (MemoryStore's documents hold
//     it, sqlstore's a column beside them) and the handler shows as an entity tag (W/"3"), so stores
//     answered the same filter differently, and a literal would have to guess the form; If-Match and
//     If-None-Match are how a client compares versions.
func unqueryable(p schema.Path) string {
	switch {
	case p.Attr != nil && p.Attr.Returned == schema.Never || p.Sub != nil && p.Sub.Returned == schema.Never:
		return "it is never returned"
	case p.Attr != nil && p.Attr.Name == "meta" && p.Sub != nil && p.Sub.Name == "version" && !p.Extension():
		return "versions are compared with If-Match"
	}
	return ""
}

// unqueryableIn returns an attribute the filter compares that unqueryable refuses, and why. Inside a value
// filter of the attribute at parent, paths name its sub-attributes (meta[version eq "1"] is meta.version).
func unqueryableIn(e filter.Expr, parent *schema.Path) (schema.Path, string) {
	switch e := e.(type) {
	case *filter.Logical:
		if p, why := unqueryableIn(e.Left, parent); why != "" {
			return p, why
		}
		return unqueryableIn(e.Right, parent)
	case *filter.Not:
		return unqueryableIn(e.X, parent)
	case *filter.ValuePath:
		if why := unqueryable(e.Path); why != "" {
			return e.Path, why
		}
		return unqueryableIn(e.Filter, &e.Path)
	case *filter.Compare:
		p := e.Path
		if parent != nil {
			p = schema.Path{Schema: parent.Schema, Attr: parent.Attr, Sub: e.Path.Attr}
		}
		return p, unqueryable(p)
	}
	return schema.Path{}, ""
}

// listCursor answers a cursor-paginated query (RFC 9865) from a Store that supports it.
func (h *handler) listCursor(ctx context.Context, q Query, req searchRequest) (*Page, error) {
	cl, ok := h.store.(CursorLister)
	switch {
	case !ok:
		return nil, errorf(http.StatusBadRequest, InvalidValue, "cursor pagination is not supported: use startIndex")
	case req.StartIndex != nil:
		return nil, errorf(http.StatusBadRequest, InvalidValue, "cursor and startIndex cannot be combined")
	case q.SortBy.Attr != nil:
		return nil, errorf(http.StatusBadRequest, InvalidValue, "cursor pagination returns users in creation order: sortBy needs startIndex")
	}
	q.StartIndex = 0
	return cl.ListCursor(ctx, q, *req.Cursor)
}

// --- encoding ---

// projection reads the attributes and excludedAttributes query parameters for the User type (bounded:
// parseProjection).
func (h *handler) projection(r *request) (project.Projection, error) {
	return h.projectionOf(h.rt, r)
}

// projectionOf reads the attributes and excludedAttributes query parameters against rt.
func (h *handler) projectionOf(rt *schema.ResourceType, r *request) (project.Projection, error) {
	if r.URL.RawQuery == "" { // the common case: nothing to parse
		return project.Projection{}, nil
	}
	q := r.URL.Query()
	return h.parseProjection(rt, splitList(q.Get("attributes")), splitList(q.Get("excludedAttributes")))
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// render returns what is sent for u: the user itself for the default attribute set (encoded straight from
// the struct), or its projected canonical document.
func (h *handler) render(r *request, u *User, proj project.Projection) any {
	return h.renderAt(u, proj, h.location(r, u.ID), etag(u.Meta.Version))
}

// renderAt is render with the user's location and entity tag already made (writeUser needs them too).
func (h *handler) renderAt(u *User, proj project.Projection, loc, tag string) any {
	v := *u             // a shallow copy: Store users are shared and never modified
	v.PasswordHash = "" // not in the JSON form anyway; never handed on
	v.Schemas = coreSchemas
	if v.Enterprise != nil {
		v.Schemas = enterpriseSchemas
	}
	if len(v.Extensions) > 0 {
		v.Schemas = append(slices.Clip(v.Schemas), slices.Sorted(maps.Keys(v.Extensions))...)
	}
	v.Meta.ResourceType = h.rt.Name
	v.Meta.Location = loc
	v.Meta.Version = tag
	if proj.IsDefault() && !h.trim && len(v.Extensions) == 0 {
		return &v
	}
	// Through the declared schema: only its attributes, and the schemas list of what is left.
	doc := v.doc()
	if h.trim {
		normalize.Trim(h.rt, doc) // sub-attributes too: Apply copies a selected attribute whole
	}
	return project.Apply(h.rt, proj, doc)
}

// The schemas lists of a rendered user; shared, never modified.
var (
	coreSchemas       = []string{schema.UserURN}
	enterpriseSchemas = []string{schema.UserURN, schema.EnterpriseUserURN}
	scimContentType   = []string{contentType}
)

func (h *handler) writeUser(w http.ResponseWriter, r *request, status int, u *User, proj project.Projection) error {
	if status != http.StatusCreated { // a new user is in no group yet: no GroupsOf call
		us, err := h.withGroups(r, []*User{u}, proj)
		if err != nil {
			return err
		}
		u = us[0]
	}
	loc, tag := h.location(r, u.ID), etag(u.Meta.Version)
	w.Header().Set("ETag", tag)
	w.Header().Set("Content-Location", loc)
	if status == http.StatusCreated {
		w.Header().Set("Location", loc)
	}
	h.writeJSON(w, status, h.renderAt(u, proj, loc, tag))
	return nil
}

func (h *handler) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only our own types get here; they always marshal
		h.log.Error("scim: encoding response", "error", err)
		b, status = []byte(`{"schemas":["`+schema.ErrorURN+`"],"status":"500"}`), http.StatusInternalServerError
	}
	w.Header()["Content-Type"] = scimContentType // shared and never modified: saves an allocation a request
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// base returns the absolute URL of the mount point: the configured base URL, else the request's scheme and
// host with the prefix http.StripPrefix removed (found by comparing RequestURI with the stripped path).
func (h *handler) base(r *request) string {
	if h.baseURL != "" {
		return h.baseURL
	}
	if r.base != "" { // computed once a request: a list renders many locations
		return r.base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	orig, _, _ := strings.Cut(r.RequestURI, "?")
	prefix := strings.TrimSuffix(orig, r.URL.EscapedPath())
	if prefix == orig { // not stripped as we thought: assume the root
		prefix = ""
	}
	r.base = scheme + "://" + r.Host + prefix
	return r.base
}

func (h *handler) location(r *request, id string) string {
	return h.base(r) + h.rt.Endpoint + "/" + id
}

// --- decoding ---

// decodeBody decodes a JSON request body into v: a known content type, at most maxBodyBytes, one JSON value
// with numbers kept exact.
func (h *handler) decodeBody(w http.ResponseWriter, r *request, v any) error {
	return h.decodeBodyMax(w, r, v, h.maxBodyBytes)
}

// decodeBodyMax is decodeBody with its own bound: group writes carry whole member lists.
func (h *handler) decodeBodyMax(w http.ResponseWriter, r *request, v any, maxBytes int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/scim+json" && mt != "application/json") {
			return errorf(http.StatusUnsupportedMediaType, "", "Content-Type must be application/scim+json or application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "", fmt.Sprintf("the request body is larger than %d bytes", maxBytes))
		}
		return errorf(http.StatusBadRequest, InvalidSyntax, "the request body could not be read")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return errorf(http.StatusBadRequest, InvalidSyntax, "the request body has the wrong JSON shape at "+te.Field)
		}
		return errorf(http.StatusBadRequest, InvalidSyntax, "the request body is not valid JSON")
	}
	if d.More() {
		return errorf(http.StatusBadRequest, InvalidSyntax, "the request body has data after its JSON value")
	}
	return nil
}

// decodeResource decodes a POST or PUT body into the canonical document of a valid user.
func (h *handler) decodeResource(w http.ResponseWriter, r *request) (map[string]any, error) {
	var raw map[string]any
	if err := h.decodeBody(w, r, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errorf(http.StatusBadRequest, InvalidSyntax, "the request body must be a JSON object")
	}
	doc, err := normalize.Resource(h.rt, raw, r.ignore)
	if err != nil {
		return nil, err
	}
	if err := h.checkValues(doc); err != nil {
		return nil, err
	}
	if err := normalize.Validate(h.rt, doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// takePassword removes the password from a canonical document and applies the password policy: the bcrypt
// hash when passwords are hashed (set reports that one was sent), a 400 when they are refused. Under
// PasswordsIgnored the resource type has no password attribute, so none reaches here.
func (h *handler) takePassword(ctx context.Context, doc map[string]any) (hash string, set bool, err error) {
	pw, ok := doc["password"].(string)
	delete(doc, "password")
	if !ok || pw == "" {
		return "", false, nil
	}
	if h.passwords != PasswordsHashed {
		return "", false, errorf(http.StatusBadRequest, InvalidValue, "this service provider does not accept passwords")
	}
	select {
	case h.hashSlots <- struct{}{}:
		defer func() { <-h.hashSlots }()
	case <-ctx.Done():
		return "", false, ctx.Err()
	}
	b, err := bcrypt.GenerateFromPassword([]byte(pw), passwordCost)
	if errors.Is(err, bcrypt.ErrPasswordTooLong) {
		return "", false, errorf(http.StatusBadRequest, InvalidValue, "password is longer than 72 bytes")
	}
	return string(b), true, err
}

// --- helpers ---

func etag(version string) string { return `W/"` + version + `"` }

// etagMatches reports whether an If-Match or If-None-Match header value names version: "*" or a list of
// entity tags, compared weakly (RFC 9110 §8.8.3.2).
func etagMatches(header, version string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		t = strings.TrimPrefix(t, "W/")
		if strings.Trim(t, `"`) == version {
			return true
		}
	}
	return false
}

// newID returns a random (version 4) UUID: ids must be unguessable across tenants.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// now is the time stamps' clock: UTC, at millisecond precision so that every store keeps it exactly.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
