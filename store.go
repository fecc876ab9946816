package scim

import (
	"context"
	"errors"
	"slices"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// Store persists users. The handler does all of SCIM (validation, PATCH, projection, ETags); a Store keeps
// users and enforces, atomically, the two things only it can: userName uniqueness (compared without case)
// within a tenant, and versions for optimistic concurrency. Every method reads the tenant from the context
// (Tenant) and must only ever see that tenant's users.
//
// A context without a tenant (Tenant's ErrNoTenant) gives that error from every method, which then touches
// nothing.
//
// Every method returns an error once ctx is done (the handler passes the request's context, which ends when
// the client goes away or the request times out).
//
// Ownership: Create and Replace take ownership of u (the handler never touches it again, so a Store may keep
// it). Users a Store returns may be shared with the Store: the handler never modifies them.
//
// Check an implementation with scimtest.TestStore.
type Store interface {
	// Create stores a new user. The handler has set ID (a random UUID), Meta.Created and Meta.LastModified;
	// the Store sets Meta.Version. The Store may keep the handler's ID or assign its own (a table's integer
	// key, as a decimal string, say): the returned user's ID is the resource's id from then on, and Get,
	// Replace and Delete receive it. Ids must be unique within the tenant and never reused. It returns
	// ErrConflict when the tenant already has the userName (without case).
	Create(ctx context.Context, u *User) (*User, error)
	// Get returns the user with the id, or ErrNotFound.
	Get(ctx context.Context, id string) (*User, error)
	// Replace stores u in place of the user with u.ID if that user's version is still version (any version
	// when version is empty) and returns it with its new Meta.Version. It returns ErrNotFound,
	// ErrVersionMismatch, or ErrConflict when another user of the tenant has the userName.
	//
	// Replace must keep Meta.Created: the returned user (and every later Get) carries the creation time the
	// user was created with, never the time of the Replace (RFC 7643 §3.1). The handler passes u with the
	// Meta.Created it read and a new Meta.LastModified, so a Store over a table may write u's created_at
	// back or leave the column out of its UPDATE; what it must not do is set created_at = now().
	Replace(ctx context.Context, u *User, version string) (*User, error)
	// Delete removes the user with the id if its version is still version (any when empty). It returns
	// ErrNotFound or ErrVersionMismatch.
	Delete(ctx context.Context, id, version string) error
	// List returns one page of the users matching q, and how many match in all. A Store that cannot push
	// the query down to its database can answer with ApplyQuery over its users.
	List(ctx context.Context, q Query) (*Page, error)
}

// JSONKeeper is the optional capability of a Store that keeps each user's JSON, as sqlstore does: the
// handler, which has encoded the user anyway (to bound its size), gives that encoding to the Store's Create
// and Replace (EncodedUser), so that the user is not encoded twice. Other Stores are not given it and pay
// nothing for it. The handler finds the capability by type assertion, as CursorLister.
type JSONKeeper interface {
	Store
	// KeepsUserJSON marks the capability; the handler never calls it.
	KeepsUserJSON()
}

// EncodedUser returns the JSON the handler encoded u to (what u's MarshalJSON returns) when ctx is the
// context of the handler's call of a JSONKeeper's Create or Replace with u; ok is false in any other call,
// and the Store then encodes u itself. The bytes are u as the handler passed it: a Store that changes u
// before keeping its JSON must encode it itself. They are the Store's: the handler never touches them again.
func EncodedUser(ctx context.Context, u *User) (b []byte, ok bool) {
	e, _ := ctx.Value(encodedKey{}).(*encodedCtx)
	if e == nil || e.u != u {
		return nil, false
	}
	return e.b, true
}

// encodedCtx carries a user's encoding to the Store (EncodedUser): one allocation, where context.WithValue
// and a pair to put in it would be two.
type encodedCtx struct {
	context.Context
	u *User
	b []byte
}

type encodedKey struct{}

func (c *encodedCtx) Value(k any) any {
	if k == (encodedKey{}) {
		return c
	}
	return c.Context.Value(k)
}

// writeContext is the context of the Store's write of u, whose encoding is b: ctx, with a copy of b for a
// JSONKeeper. A copy, so that b itself never escapes: the handler encodes into a buffer on its stack, and
// a Store that keeps no JSON should not pay for a heap one.
func (h *handler) writeContext(ctx context.Context, u *User, b []byte) context.Context {
	if !h.keepsJSON {
		return ctx
	}
	return &encodedCtx{Context: ctx, u: u, b: slices.Clone(b)}
}

// Sentinel errors a Store returns (wrapped or not); the handler maps them to SCIM errors.
var (
	// ErrNotFound: no user with that id in this tenant (404).
	ErrNotFound = errors.New("scim: resource not found")
	// ErrConflict: the userName is taken in this tenant (409, scimType uniqueness).
	ErrConflict = errors.New("scim: uniqueness conflict")
	// ErrVersionMismatch: the user changed since the version given (412).
	ErrVersionMismatch = errors.New("scim: version mismatch")
	// ErrInvalidCursor: a ListCursor cursor the Store cannot use (400, scimType invalidCursor, RFC 9865).
	ErrInvalidCursor = errors.New("scim: invalid cursor")
	// ErrTooMany: the query needs more than Query.MaxScan users examined one by one, a filter or sortBy
	// the Store's indexes cannot answer over a large tenant (400, scimType tooMany, naming the limit).
	ErrTooMany = errors.New("scim: the query needs too many users examined")
	// ErrBusy: the tenant's calls already hold its share of what the Store serves at once (its database
	// connections) and this one's turn did not come before its context ended, while other tenants were
	// served (429 Too Many Requests with Retry-After, as for the handler's own per-tenant limits). sqlstore
	// returns it; a Store that shares a bounded resource between tenants may too.
	ErrBusy = errors.New("scim: the tenant's share of the store is in use")
)

// Query selects a page of users (RFC 7644 §3.4.2).
type Query struct {
	// Filter selects users; nil selects all. Its attribute paths are resolved against the User schema.
	Filter filter.Expr
	// SortBy orders the results when SortBy.Attr is set; otherwise the Store's order must be stable
	// (creation order, say) so that index paging works.
	SortBy schema.Path
	// Descending reverses SortBy's order.
	Descending bool
	// StartIndex is the 1-based index of the first result to return.
	StartIndex int
	// Count is how many results to return at most; 0 asks for TotalResults alone.
	Count int
	// MaxScan, when positive, is how many users a Store may examine one by one (in Go, or row by row
	// where its database cannot evaluate the filter or sort) to answer: past it the Store returns
	// ErrTooMany rather than work through a whole tenant. Lookups its indexes answer are not counted. The
	// handler sets it (Limits.MaxScan); Collector enforces it.
	MaxScan int
	// MaxBytes, when positive, is the most bytes of users a page needs: a Store may return fewer users than
	// Count once the users it has read encode to more (RFC 7644 §3.4.2.4 allows a shorter page), so that a
	// page of very large users is not read whole. The handler sets it (Limits.MaxPageBytes).
	MaxBytes int
}

// Page is one page of a List answer.
type Page struct {
	Users []*User
	// TotalResults is how many users match the query in all pages.
	TotalResults int
	// NextCursor names the position after this page in a ListCursor answer; "" on the last page.
	NextCursor string
}

// CursorLister is the optional capability of cursor pagination (RFC 9865), which the handler finds by type
// assertion and advertises in /ServiceProviderConfig. Unlike index pages, cursor pages stay correct while
// users are created and deleted between requests, and cost the same however deep the client pages.
type CursorLister interface {
	// ListCursor returns up to q.Count users matching q.Filter, in the Store's stable List order, starting
	// after the position cursor names ("" for the first page), with TotalResults and the NextCursor of the
	// following page. q.SortBy and q.StartIndex are unset. A cursor the Store did not make, or can no
	// longer use, gives ErrInvalidCursor.
	ListCursor(ctx context.Context, q Query, cursor string) (*Page, error)
}

type tenantKey struct{}

// ErrNoTenant is what Tenant returns for a context that carries no tenant: a Store called outside a request
// the handler serves, with a context nobody gave a tenant (context.Background(), say). A Store returns it
// (or wraps it) and touches nothing, rather than acting on the tenant "" by accident.
var ErrNoTenant = errors.New("scim: the context carries no tenant")

// ContextWithTenant returns a context carrying the tenant: the customer account whose users a Store called
// with it may see. The handler gives every authenticated request's context its tenant ("" for single-tenant
// use, with WithTokens); a host calls ContextWithTenant to use its Store outside a request (an admin page,
// a job).
//
// It is named for what it returns, as context.WithValue is, and not With…, the prefix of this package's
// Options: a WithTenant(ctx, t) next to WithTokens(t) would read as if both configured the handler.
func ContextWithTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenant)
}

// Tenant returns the tenant of ctx: the one the handler authenticated the request as ("" for single-tenant
// use), or the one ContextWithTenant set. A context with neither gives ErrNoTenant, so that a Store called
// with the wrong context fails loudly instead of acting on the tenant "". Every Store method starts with it.
func Tenant(ctx context.Context) (string, error) {
	if t, ok := ctx.Value(tenantKey{}).(string); ok {
		return t, nil
	}
	return "", ErrNoTenant
}
