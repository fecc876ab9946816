package scim

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/echo"
	"github.com/scimkit/scim/internal/normalize"
	"github.com/scimkit/scim/internal/patch"
	"github.com/scimkit/scim/internal/project"
	"github.com/scimkit/scim/schema"
)

// A declared resource type (WithResource) is served by the same engine as users: normalize validates its
// documents, internal/patch changes them, filter and sortkey select and order them, project cuts
// them, putOver replaces them, retryCAS and lockedWrite write them. What differs is only the form the
// Store keeps (a Document, not a typed struct) and that a catalog may be read-only.

// declared is a Resource as the handler serves it.
type declared struct {
	Resource
	// shown is Type as /Schemas shows it: every attribute readOnly for a ReadOnly type.
	shown *schema.ResourceType
	// The route patterns, built once (no allocation a request).
	list, item, search string
	// grants is Resource.Grants resolved against the served User type; no Attr without one.
	grants schema.Path
}

func newDeclared(res Resource, user *schema.ResourceType) (*declared, error) {
	d := &declared{Resource: res, shown: res.Type}
	if res.Grants != "" {
		p, ok := user.Resolve(res.Grants)
		if !ok || p.Attr == nil || p.Sub != nil || !p.Attr.MultiValued {
			return nil, errors.New("scim: WithResource: Grants " + res.Grants + " is not a multi-valued attribute of the User type served")
		}
		d.grants = p
	}
	if res.ReadOnly {
		d.shown = readOnlyType(res.Type)
	}
	d.list = res.Type.Endpoint
	d.item, d.search = d.list+"/{id}", d.list+"/.search"
	return d, nil
}

// readOnlyType returns a copy of rt whose every attribute (and sub-attribute) is readOnly: what a client
// may do with a catalog the service provider computes.
func readOnlyType(rt *schema.ResourceType) *schema.ResourceType {
	ro := func(s *schema.Schema) *schema.Schema {
		c := *s
		c.Attributes = readOnlyAttrs(s.Attributes)
		return &c
	}
	c := *rt
	c.Core = ro(rt.Core)
	c.Extensions = make([]schema.Extension, len(rt.Extensions))
	for i, e := range rt.Extensions {
		c.Extensions[i] = schema.Extension{Schema: ro(e.Schema), Required: e.Required}
	}
	return &c
}

func readOnlyAttrs(attrs []*schema.Attribute) []*schema.Attribute {
	out := make([]*schema.Attribute, len(attrs))
	for i, a := range attrs {
		c := *a
		c.Mutability = schema.ReadOnly
		c.SubAttributes = readOnlyAttrs(a.SubAttributes)
		out[i] = &c
	}
	return out
}

// declaredAt returns the declared type whose endpoint is the first path segment (without case), or nil.
func (h *handler) declaredAt(seg string) *declared {
	for _, d := range h.declared {
		if strings.EqualFold(seg, d.list[1:]) {
			return d
		}
	}
	return nil
}

// routeDeclared serves a declared type's endpoint: segs[0] named it (declaredAt).
func (h *handler) routeDeclared(w http.ResponseWriter, r *request, d *declared, segs []string) error {
	reads, writes := "GET", "GET, POST"
	itemWrites := "GET, PUT, PATCH, DELETE"
	if d.ReadOnly {
		writes, itemWrites = reads, reads
	}
	switch {
	case len(segs) == 1:
		switch r.Method {
		case http.MethodGet:
			req, err := listParams(r)
			if err != nil {
				return err
			}
			return h.listDocs(w, r, d, req)
		case http.MethodPost:
			if !d.ReadOnly {
				return h.createDoc(w, r, d)
			}
		}
		return h.refuse(w, r, d, writes)
	case segs[1] == ".search":
		if r.Method != http.MethodPost {
			return notAllowed(w, r, "POST")
		}
		var req searchRequest
		if err := h.decodeBody(w, r, &req); err != nil {
			return err
		}
		return h.listDocs(w, r, d, req)
	}
	id := segs[1]
	switch r.Method {
	case http.MethodGet:
		return h.getDoc(w, r, d, id)
	case http.MethodPut, http.MethodPatch, http.MethodDelete:
		if d.ReadOnly {
			break
		}
		if r.Method == http.MethodDelete {
			return h.deleteDoc(w, r, d, id)
		}
		return h.updateDoc(w, r, d, id)
	}
	return h.refuse(w, r, d, itemWrites)
}

// refuse answers a method the endpoint does not serve: 405 with Allow, and for a read-only catalog the
// reason (scimType mutability), so that an administrator reading Okta's log sees why.
func (h *handler) refuse(w http.ResponseWriter, r *request, d *declared, allow string) error {
	if !d.ReadOnly || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return notAllowed(w, r, allow)
	}
	w.Header().Set("Allow", allow)
	return errorf(http.StatusMethodNotAllowed, Mutability, d.Type.Endpoint+" is read-only: the service provider keeps its "+d.Type.Name+" catalog")
}

func (h *handler) createDoc(w http.ResponseWriter, r *request, d *declared) error {
	proj, err := h.projectionOf(d.Type, r)
	if err != nil {
		return err
	}
	doc, err := h.decodeResource(w, r, d.Type)
	if err != nil {
		return err
	}
	now := h.now()
	in := &Document{ID: newID(), Attributes: doc, Meta: Meta{Created: now, LastModified: now}}
	if err := h.checkDocSize(in); err != nil {
		return err
	}
	var created *Document
	err = h.lockedWrite(r, docKey(d, in.ID), func() (err error) {
		if created, err = d.Store.Create(r.Context(), in); err == nil && created != nil && created.ID != "" {
			h.emitDoc(r, d, ResourceCreated, created)
		}
		return err
	})
	if err != nil {
		return err
	}
	if created == nil || created.ID == "" {
		return errors.New("scim: the ResourceStore's Create returned a resource without an id")
	}
	return h.writeDoc(w, r, d, http.StatusCreated, created, proj)
}

func (h *handler) getDoc(w http.ResponseWriter, r *request, d *declared, id string) error {
	proj, err := h.projectionOf(d.Type, r)
	if err != nil {
		return err
	}
	doc, err := d.Store.Get(r.Context(), id)
	if err != nil {
		return err
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, doc.Meta.Version) {
		w.Header().Set("ETag", etag(doc.Meta.Version))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return h.writeDoc(w, r, d, http.StatusOK, doc, proj)
}

// updateDoc serves PUT and PATCH: read, change the canonical document, validate, write with the version
// read (retryCAS), as update does for users. A change that changes nothing is not written.
func (h *handler) updateDoc(w http.ResponseWriter, r *request, d *declared, id string) error {
	proj, err := h.projectionOf(d.Type, r)
	if err != nil {
		return err
	}
	var mutate func(doc map[string]any) error
	if r.Method == http.MethodPut {
		body, err := h.decodeResource(w, r, d.Type)
		if err != nil {
			return err
		}
		mutate = func(doc map[string]any) error { return putOver(d.Type, doc, body) }
	} else {
		var req patch.Request
		if err := h.decodeBody(w, r, &req); err != nil {
			return err
		}
		ops, err := patch.Parse(d.Type, userType, req, h.maxOps, r.ignore)
		if err != nil {
			return err
		}
		env := patch.Env{Ctx: r.Context(), RT: d.Type, Ignored: r.ignore, MaxValues: h.maxValues, Work: &r.work}
		mutate = func(doc map[string]any) error { return patch.Apply(env, doc, ops) }
	}
	ctx, ifMatch := r.Context(), r.Header.Get("If-Match")
	var updated *Document
	err = h.retryCAS(r, func() error {
		cur, err := d.Store.Get(ctx, id)
		if err != nil {
			return err
		}
		if ifMatch != "" && !etagMatches(ifMatch, cur.Meta.Version) {
			return ErrVersionMismatch
		}
		before, err := appendCanonical(nil, cur.Attributes)
		if err != nil {
			return err
		}
		doc := deepCopy(cur.Attributes).(map[string]any) // the Store's document is never modified
		if err := mutate(doc); err != nil {
			return err
		}
		if err := h.checkValues(d.Type, doc); err != nil {
			return err
		}
		if err := normalize.Validate(d.Type, doc); err != nil {
			return err
		}
		next := &Document{ID: cur.ID, Attributes: doc, Meta: cur.Meta}
		after, err := appendCanonical(nil, doc) // keys sorted: equal bytes are equal documents
		if err == nil && string(before) == string(after) {
			updated = cur
			return nil
		}
		if err := h.checkSize(len(after)); err != nil {
			return err
		}
		next.Meta.LastModified = h.now()
		return h.lockedWrite(r, docKey(d, cur.ID), func() (err error) {
			if updated, err = d.Store.Replace(ctx, next, cur.Meta.Version); err == nil {
				h.emitDoc(r, d, ResourceUpdated, updated)
			}
			return err
		})
	})
	if re := (*normalize.RequiredError)(nil); errors.As(err, &re) {
		return errorf(http.StatusBadRequest, Mutability, re.Path.String()+" is required: it cannot be removed")
	}
	if err != nil {
		return err
	}
	return h.writeDoc(w, r, d, http.StatusOK, updated, proj)
}

func (h *handler) deleteDoc(w http.ResponseWriter, r *request, d *declared, id string) error {
	ifMatch := r.Header.Get("If-Match")
	err := h.retryCAS(r, func() error {
		cur, err := d.Store.Get(r.Context(), id)
		if err != nil {
			return err
		}
		if ifMatch != "" && !etagMatches(ifMatch, cur.Meta.Version) {
			return ErrVersionMismatch
		}
		return h.lockedWrite(r, docKey(d, cur.ID), func() error {
			err := d.Store.Delete(r.Context(), cur.ID, cur.Meta.Version)
			if err == nil {
				h.emitDoc(r, d, ResourceDeleted, cur)
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listDocs answers a list or .search of a declared type, with index or cursor paging.
func (h *handler) listDocs(w http.ResponseWriter, r *request, d *declared, req searchRequest) error {
	proj, q, err := h.listRequest(d.Type, req)
	if err != nil {
		return err
	}
	var page *DocumentPage
	if req.Cursor != nil {
		cl, ok := d.Store.(ResourceCursorLister)
		switch {
		case !ok:
			return errorf(http.StatusBadRequest, InvalidValue, "cursor pagination is not supported here: use startIndex")
		case req.StartIndex != nil:
			return errorf(http.StatusBadRequest, InvalidValue, "cursor and startIndex cannot be combined")
		case q.SortBy.Attr != nil:
			return errorf(http.StatusBadRequest, InvalidValue, "cursor pagination returns resources in creation order: sortBy needs startIndex")
		}
		q.StartIndex = 0
		page, err = cl.ListCursor(r.Context(), q, *req.Cursor)
	} else {
		page, err = d.Store.List(r.Context(), q)
	}
	if err != nil {
		return err
	}
	base := h.base(r)
	// A page of large resources is cut at Limits.MaxPageBytes (RFC 7644 §3.4.2.4 allows a shorter page); a
	// cursor page so cut would skip what was left out, so it asks again for what fits.
	items, short, err := renderBounded(r.Context(), h.maxPageBytes, page.Documents, func(doc *Document) ([]byte, error) {
		return h.appendDoc(nil, base, d, doc, proj)
	})
	if err != nil {
		return err
	}
	if short && req.Cursor != nil {
		q.Count = len(items)
		if page, err = d.Store.(ResourceCursorLister).ListCursor(r.Context(), q, *req.Cursor); err != nil {
			return err
		}
		page.Documents = page.Documents[:min(len(page.Documents), q.Count)]
	}
	h.writeList(w, page.TotalResults, q.StartIndex, page.NextCursor, items)
	return nil
}

// writeDoc writes one resource with its ETag and location headers.
func (h *handler) writeDoc(w http.ResponseWriter, r *request, d *declared, status int, doc *Document, proj project.Projection) error {
	base := h.base(r)
	if r.bulkOp {
		return writeBulkSuccess(w, status, base+d.Type.Endpoint+"/"+doc.ID, doc.Meta.Version)
	}
	loc := base + d.Type.Endpoint + "/" + doc.ID
	w.Header().Set("ETag", etag(doc.Meta.Version))
	w.Header().Set("Content-Location", loc)
	if status == http.StatusCreated {
		w.Header().Set("Location", loc)
	}
	b, err := h.appendDoc(make([]byte, 0, 1024), base, d, doc, proj)
	h.writeBytes(w, status, b, err)
	return nil
}

// docMeta is the meta a declared resource is answered with: the Store's times and version (as an entity
// tag), the handler's resource type and location.
func docMeta(base string, d *declared, doc *Document) Meta {
	m := Meta{ResourceType: d.Type.Name, Created: doc.Meta.Created, LastModified: doc.Meta.LastModified,
		Location: base + d.Type.Endpoint + "/" + doc.ID}
	if doc.Meta.Version != "" {
		m.Version = etag(doc.Meta.Version)
	}
	return m
}

// renderDoc returns what is sent for doc under proj: its attributes, id and meta, cut by the projection
// (which also drops anything a Store kept outside the declaration).
func (h *handler) renderDoc(base string, d *declared, doc *Document, proj project.Projection) map[string]any {
	out := project.Apply(d.Type, proj, doc.Attributes) // without id and meta: no copy of the document to add them
	out["id"] = doc.ID                                 // returned always (RFC 7643 §3.1)
	meta := metaDoc(docMeta(base, d, doc))
	if proj.IsDefault() {
		out["meta"] = meta
	} else if m, ok := project.Apply(d.Type, proj, map[string]any{"meta": meta})["meta"]; ok {
		out["meta"] = m // the parts of meta the projection asks for
	}
	return out
}

// appendDoc appends the JSON of what is sent for doc under proj (renderDoc's), writing meta straight from
// its fields under the default projection, as a user's answer is written.
func (h *handler) appendDoc(b []byte, base string, d *declared, doc *Document, proj project.Projection) ([]byte, error) {
	if !proj.IsDefault() {
		return appendCanonical(b, h.renderDoc(base, d, doc, proj))
	}
	out := project.Apply(d.Type, proj, doc.Attributes)
	out["id"] = doc.ID
	b, err := appendCanonical(b, out)
	if err != nil {
		return nil, err
	}
	m := docMeta(base, d, doc)
	o := jsonObject{n: 1} // out has members: meta follows them
	if b, err = appendMeta(&o, b[:len(b)-1], &m); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// checkDocSize refuses a resource that would encode larger than Limits.MaxResourceBytes.
func (h *handler) checkDocSize(doc *Document) error {
	b, err := appendCanonical(nil, doc.Attributes)
	if err != nil {
		return err
	}
	return h.checkSize(len(b))
}

// docKey is the lock and event lane key of a declared resource: never a user's or a group's.
func docKey(d *declared, id string) string { return d.Type.Name + "\x00" + id }

// emitDoc queues the event of a committed write of a declared resource; Event.Document carries it.
func (h *handler) emitDoc(r *request, d *declared, t EventType, doc *Document) {
	if h.queue == nil {
		return
	}
	e := Event{Type: t, Tenant: r.tenant, Time: h.now(), RequestID: r.requestID, Resource: d.Type.Name,
		Document: doc, Version: doc.Meta.Version}
	h.enqueue(ContextWithTenant(context.WithoutCancel(r.Context()), e.Tenant), e)
}

// deepCopy copies a canonical document's maps and slices; its scalars are immutable.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}

// grantValues returns the values of the User attribute p (its "value" sub-attribute for a complex one)
// in doc.
func grantValues(doc map[string]any, p schema.Path) []string {
	var out []string
	for _, v := range filter.Values(doc, p) {
		if m, ok := v.(map[string]any); ok {
			v = m["value"]
		}
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// checksGrants reports whether a declared type is a Grants catalog: only then does a user write need the
// grants it had before (a declared type without Grants leaves the User path as it was).
func (h *handler) checksGrants() bool {
	return slices.ContainsFunc(h.declared, func(d *declared) bool { return d.grants.Attr != nil })
}

// checkGrants refuses (400 invalidValue) a user document that grants a value no resource of a Grants
// catalog has: each value after holds and before did not is looked up by id in its catalog's Store.
func (h *handler) checkGrants(r *request, before, after map[string]any) error {
	for _, d := range h.declared {
		if d.grants.Attr == nil {
			continue
		}
		had := grantValues(before, d.grants)
		for _, v := range grantValues(after, d.grants) {
			if slices.Contains(had, v) {
				continue
			}
			if _, err := d.Store.Get(r.Context(), v); errors.Is(err, ErrNotFound) {
				return errorf(http.StatusBadRequest, InvalidValue, d.grants.String()+": "+echo.Quote(v)+" is not the id of one of the tenant's "+d.Type.Name+" resources ("+d.Type.Endpoint+")")
			} else if err != nil {
				return err
			}
		}
	}
	return nil
}
