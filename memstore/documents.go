package memstore

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"sync"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/listing"
	"github.com/scimkit/scim/schema"
)

// Documents is a scim.ResourceStore (and scim.ResourceCursorLister) that keeps the resources of one
// declared type in memory, partitioned by tenant. Lookups by id and by an attribute declared unique
// ("server" or "global" uniqueness, a top-level string of the core schema) are map lookups, also for a
// filter that pins one with "eq"; any other filter or sort examines the tenant's resources one by one, up
// to Query.MaxScan (past it scim.ErrTooMany).
type Documents struct {
	rt      *schema.ResourceType
	unique  []*schema.Attribute // the attributes kept unique, each with its index
	mu      sync.RWMutex        // guards the map only: each tenant has its own lock
	tenants map[string]*docTenant
	seq     int64 // creation order, under mu
	cursors *scim.CursorSealer
}

type docTenant struct {
	mu    sync.RWMutex
	byID  map[string]*docEntry
	by    []map[string]*docEntry // one index per Documents.unique attribute: folded (or exact) value → entry
	order []*docEntry            // by seq: creation order
}

type docEntry struct {
	doc *scim.Document // the Store's: never modified, replaced whole
	seq int64
	ver int64
}

// NewDocuments returns an empty store for resources of type rt (schema.Declare's).
func NewDocuments(rt *schema.ResourceType) *Documents {
	sealer, _ := scim.NewCursorSealer(scim.NewCursorKey()) // a 32-byte key: cannot fail
	d := &Documents{rt: rt, tenants: map[string]*docTenant{}, cursors: sealer}
	for _, a := range rt.Core.Attributes {
		if a.Uniqueness != schema.UniqueNone && a.Type == schema.String && !a.MultiValued {
			d.unique = append(d.unique, a)
		}
	}
	return d
}

func (d *Documents) tenant(ctx context.Context, create bool) (*docTenant, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	name, err := scim.Tenant(ctx)
	if err != nil {
		return nil, "", err
	}
	d.mu.RLock()
	t := d.tenants[name]
	d.mu.RUnlock()
	if t != nil || !create {
		return t, name, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if t = d.tenants[name]; t == nil {
		t = &docTenant{byID: map[string]*docEntry{}, by: make([]map[string]*docEntry, len(d.unique))}
		for i := range t.by {
			t.by[i] = map[string]*docEntry{}
		}
		d.tenants[name] = t
	}
	return t, name, nil
}

// key is the index key of a unique attribute's value: folded unless the attribute is caseExact.
func key(a *schema.Attribute, v any) (string, bool) {
	s, ok := v.(string)
	if !ok || s == "" {
		return "", false
	}
	if !a.CaseExact {
		s = filter.Fold(s)
	}
	return s, true
}

// taken reports whether doc has a unique value another entry than self holds.
func (d *Documents) taken(t *docTenant, doc *scim.Document, self *docEntry) bool {
	for i, a := range d.unique {
		if k, ok := key(a, doc.Attributes[a.Name]); ok {
			if e := t.by[i][k]; e != nil && e != self {
				return true
			}
		}
	}
	return false
}

func (d *Documents) index(t *docTenant, e *docEntry, add bool) {
	for i, a := range d.unique {
		if k, ok := key(a, e.doc.Attributes[a.Name]); ok {
			if add {
				t.by[i][k] = e
			} else {
				delete(t.by[i], k)
			}
		}
	}
}

// Create implements scim.ResourceStore.
func (d *Documents) Create(ctx context.Context, doc *scim.Document) (*scim.Document, error) {
	t, _, err := d.tenant(ctx, true)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.byID[doc.ID]; dup || d.taken(t, doc, nil) {
		return nil, scim.ErrConflict
	}
	d.mu.Lock()
	d.seq++
	e := &docEntry{doc: doc, seq: d.seq, ver: 1}
	d.mu.Unlock()
	doc.Meta.Version = "1"
	t.byID[doc.ID] = e
	t.order = append(t.order, e) // under t.mu, with a seq above every other: stays sorted
	d.index(t, e, true)
	return doc, nil
}

// Get implements scim.ResourceStore.
func (d *Documents) Get(ctx context.Context, id string) (*scim.Document, error) {
	t, _, err := d.tenant(ctx, false)
	if err != nil || t == nil {
		return nil, cmp.Or(err, scim.ErrNotFound)
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if e := t.byID[id]; e != nil {
		return e.doc, nil
	}
	return nil, scim.ErrNotFound
}

// entry returns the entry with the id at version (any when empty), under t.mu held for writing.
func (t *docTenant) entry(id, version string) (*docEntry, error) {
	e := t.byID[id]
	switch {
	case e == nil:
		return nil, scim.ErrNotFound
	case version != "" && version != strconv.FormatInt(e.ver, 10):
		return nil, scim.ErrVersionMismatch
	}
	return e, nil
}

// Replace implements scim.ResourceStore.
func (d *Documents) Replace(ctx context.Context, doc *scim.Document, version string) (*scim.Document, error) {
	t, _, err := d.tenant(ctx, false)
	if err != nil || t == nil {
		return nil, cmp.Or(err, scim.ErrNotFound)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, err := t.entry(doc.ID, version)
	if err != nil {
		return nil, err
	}
	if d.taken(t, doc, e) {
		return nil, scim.ErrConflict
	}
	d.index(t, e, false)
	doc.Meta.Created = e.doc.Meta.Created
	e.ver++
	doc.Meta.Version = strconv.FormatInt(e.ver, 10)
	e.doc = doc
	d.index(t, e, true)
	return doc, nil
}

// Delete implements scim.ResourceStore.
func (d *Documents) Delete(ctx context.Context, id, version string) error {
	t, _, err := d.tenant(ctx, false)
	if err != nil || t == nil {
		return cmp.Or(err, scim.ErrNotFound)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, err := t.entry(id, version)
	if err != nil {
		return err
	}
	d.index(t, e, false)
	delete(t.byID, id)
	if i, ok := slices.BinarySearchFunc(t.order, e.seq, func(x *docEntry, s int64) int { return cmp.Compare(x.seq, s) }); ok {
		t.order = slices.Delete(t.order, i, i+1)
	}
	return nil
}

// candidates returns the entries that may match q's filter, in creation order, and whether each of them
// does (an index answered the whole filter).
func (d *Documents) candidates(t *docTenant, q scim.Query) (entries []*docEntry, exact bool) {
	if q.Filter == nil {
		return t.order, true
	}
	if id, ok := q.Equal("id"); ok {
		if e := t.byID[id]; e != nil {
			return []*docEntry{e}, true
		}
		return nil, true
	}
	for i, a := range d.unique {
		if v, ok := q.Equal(a.Name); ok {
			if k, ok := key(a, v); ok && t.by[i][k] != nil {
				return []*docEntry{t.by[i][k]}, true
			}
			return nil, true
		}
	}
	return t.order, false
}

// List implements scim.ResourceStore.
func (d *Documents) List(ctx context.Context, q scim.Query) (*scim.DocumentPage, error) {
	t, _, err := d.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return &scim.DocumentPage{Documents: []*scim.Document{}}, nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	entries, exact := d.candidates(t, q)
	if exact && q.SortBy.Attr == nil {
		page := listing.Page(entries, q.StartIndex, q.Count)
		out := &scim.DocumentPage{Documents: make([]*scim.Document, len(page)), TotalResults: len(entries)}
		for i, e := range page {
			out.Documents[i] = e.doc
		}
		return out, nil
	}
	if q.MaxScan > 0 && len(entries) > q.MaxScan {
		return nil, scim.ErrTooMany
	}
	docs := make([]*scim.Document, len(entries))
	for i, e := range entries {
		docs[i] = e.doc
	}
	return scim.ApplyDocuments(docs, q), ctx.Err()
}

// ListCursor implements scim.ResourceCursorLister: pages in creation order, each cursor sealed to the tenant.
func (d *Documents) ListCursor(ctx context.Context, q scim.Query, cursor string) (*scim.DocumentPage, error) {
	t, name, err := d.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	var after int64
	if cursor != "" {
		if after, err = d.cursors.Open(name, cursor); err != nil {
			return nil, err
		}
	}
	page := &scim.DocumentPage{Documents: []*scim.Document{}}
	if t == nil {
		return page, nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	entries, exact := d.candidates(t, q)
	if !exact && q.MaxScan > 0 && len(entries) > q.MaxScan {
		return nil, scim.ErrTooMany
	}
	var last int64
	for _, e := range entries {
		if !exact && !q.MatchesDocument(e.doc) {
			continue
		}
		page.TotalResults++
		if e.seq > after && len(page.Documents) < q.Count {
			page.Documents = append(page.Documents, e.doc)
			last = e.seq
		} else if e.seq > after && last != 0 && page.NextCursor == "" {
			page.NextCursor = d.cursors.Seal(name, last)
		}
	}
	return page, ctx.Err()
}
