package scim

import (
	"context"
	"slices"
	"strings"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/listing"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/shared/sortkey"
)

// Resource declares a resource type served beside Users and Groups: an Okta entitlement catalog (Roles,
// Entitlements, Licenses), the Agent of draft-wzdk-scim-agent-resource, a host's own. The handler serves it
// with the code that serves users (validation, PATCH, filters, sort, paging, projection, ETags, /Schemas,
// /ResourceTypes, events, Bulk); the Store keeps its resources as documents.
type Resource struct {
	// Type is the resource type schema.Declare made.
	Type *schema.ResourceType
	// Store keeps its resources. One Store value per resource type: it is given no type name.
	Store ResourceStore
	// ReadOnly makes it a catalog the host computes (Okta imports roles and entitlements, never writes
	// them): writes answer 405, and /Schemas shows every attribute as readOnly.
	ReadOnly bool
	// Grants, when set, names the multi-valued User attribute ("roles", "entitlements", or an extension's)
	// whose values are ids of this type's resources, as Okta grants catalog entries: a user write adding a
	// value the tenant's catalog lacks is refused (400 invalidValue), so a grant never names nothing.
	Grants string
}

// WithResource serves one more resource type (call it once per type). Its name and endpoint must differ
// from every other type's (User and Group included, compared without case); a nil Type or Store is a
// configuration error.
func WithResource(res Resource) Option {
	return func(c *config) {
		if res.Type == nil || res.Store == nil {
			c.fail("WithResource: a nil Type or Store")
			return
		}
		for _, e := range endpoints { // /Schemas, /Bulk, /Me, ...: the protocol's own
			if strings.EqualFold("/"+e.name, res.Type.Endpoint) {
				c.fail("WithResource: %s's endpoint %s is the protocol's", res.Type.Name, res.Type.Endpoint)
				return
			}
		}
		for _, o := range append([]Resource{{Type: userType}, {Type: groupType}}, c.resources...) {
			if strings.EqualFold(o.Type.Name, res.Type.Name) || strings.EqualFold(o.Type.Endpoint, res.Type.Endpoint) {
				c.fail("WithResource: %s (%s) has the name or endpoint of %s", res.Type.Name, res.Type.Endpoint, o.Type.Name)
				return
			}
		}
		c.resources = append(c.resources, res)
	}
}

// The events of a declared resource type's writes (WithEvents): Event.Resource names the type and
// Event.Document holds the resource. They are never a user's event types, so that a hook switching on
// UserDeleted does not see a role's deletion.
const (
	ResourceCreated EventType = "resource.created"
	ResourceUpdated EventType = "resource.updated"
	ResourceDeleted EventType = "resource.deleted"
)

// Document is one resource of a declared type as a ResourceStore keeps it.
type Document struct {
	// ID is the resource's id; Create may replace the handler's with its own, as Store.Create does.
	ID string
	// Attributes is the resource's canonical document: attribute names as declared (core attributes at
	// the top level, an extension's under its URN), values validated and coerced to the schema's types,
	// externalId when set; never id, meta or schemas. It encodes as JSON as it is.
	Attributes map[string]any
	// Meta is kept as for users (Store): Created and LastModified from the handler, Version from the Store.
	Meta Meta
}

// ResourceStore keeps the resources of one declared type. Its contract is Store's, over documents:
// every method reads the tenant from the context (Tenant) and sees only that tenant's resources; the Store
// enforces uniqueness (an attribute declared with uniqueness "server", compared without case unless
// caseExact: ErrConflict) and versions (ErrVersionMismatch); Create and Replace take ownership of d.
// Check one with scimtest.TestResourceStore.
type ResourceStore interface {
	// Create stores a new resource; the handler has set ID, Meta.Created and Meta.LastModified.
	Create(ctx context.Context, d *Document) (*Document, error)
	// Get returns the resource with the id, or ErrNotFound.
	Get(ctx context.Context, id string) (*Document, error)
	// Replace stores d in place of the resource with d.ID if its version is still version (any when
	// empty), keeping Meta.Created, and returns it with its new version.
	Replace(ctx context.Context, d *Document, version string) (*Document, error)
	// Delete removes the resource with the id if its version is still version (any when empty).
	Delete(ctx context.Context, id, version string) error
	// List returns one page of the resources matching q (its paths resolved against the declared type),
	// and how many match in all; ApplyDocuments answers it over resources held in memory.
	List(ctx context.Context, q Query) (*DocumentPage, error)
}

// DocumentPage is one page of a ResourceStore's List answer.
type DocumentPage struct {
	Documents []*Document
	// TotalResults is how many resources match the query in all pages.
	TotalResults int
	// NextCursor names the position after this page in a ListCursor answer; "" on the last page.
	NextCursor string
}

// ResourceCursorLister is the optional cursor pagination (RFC 9865) of a ResourceStore, as CursorLister
// is a Store's.
type ResourceCursorLister interface {
	ListCursor(ctx context.Context, q Query, cursor string) (*DocumentPage, error)
}

// View returns d's whole canonical document, with id and meta beside its attributes: what filters and
// sort keys are evaluated on. It copies only the top level.
func (d *Document) View() map[string]any {
	v := make(map[string]any, len(d.Attributes)+2)
	for k, a := range d.Attributes {
		v[k] = a
	}
	v["id"] = d.ID
	v["meta"] = metaDoc(d.Meta)
	return v
}

// MatchesDocument reports whether d satisfies the query's filter (a nil filter matches every resource).
func (q Query) MatchesDocument(d *Document) bool {
	return q.Filter == nil || filter.Match(q.Filter, d.View())
}

// ApplyDocuments answers q over docs in Go: it filters, sorts (stably) and cuts out the page. It is the whole
// List of a ResourceStore that keeps few resources (a catalog computed per request, say). It ignores
// q.MaxScan; a Store over many resources pushes its queries down instead.
func ApplyDocuments(docs []*Document, q Query) *DocumentPage {
	type item struct {
		d   *Document
		key any
	}
	var hits []item
	for _, d := range docs {
		if q.Filter == nil && q.SortBy.Attr == nil {
			hits = append(hits, item{d: d})
			continue
		}
		v := d.View()
		if q.Filter != nil && !filter.Match(q.Filter, v) {
			continue
		}
		it := item{d: d}
		if q.SortBy.Attr != nil {
			it.key = sortkey.Of(v, q.SortBy)
		}
		hits = append(hits, it)
	}
	if q.SortBy.Attr != nil {
		slices.SortStableFunc(hits, func(a, b item) int { return sortkey.Compare(a.key, b.key, q.Descending) })
	}
	page := listing.Page(hits, q.StartIndex, q.Count)
	out := &DocumentPage{Documents: make([]*Document, len(page)), TotalResults: len(hits)}
	for i, it := range page {
		out.Documents[i] = it.d
	}
	return out
}
