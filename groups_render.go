package scim

import (
	"net/http"
	"slices"
	"time"

	"github.com/scimkit/scim/internal/project"
)

// answerGroupWrite answers a PUT (or a PATCH that asked for the group) with the group; its members are
// read again only when the projection includes them.
func (h *handler) answerGroupWrite(w http.ResponseWriter, r *request, gs GroupStore, g *Group, proj project.Projection, status int) error {
	if n := h.membersLimit(proj); n > 0 && !r.bulkOp { // a bulk answers no body: no members to read
		full, err := gs.GetGroup(r.Context(), g.ID, GroupRead{MaxMembers: n})
		if err != nil {
			return err
		}
		g = full
	}
	return h.writeGroup(w, r, status, g, proj)
}

// writeGroup writes one group with its ETag and location headers.
func (h *handler) writeGroup(w http.ResponseWriter, r *request, status int, g *Group, proj project.Projection) error {
	loc := h.base(r) + groupType.Endpoint + "/" + g.ID
	if r.bulkOp {
		return writeBulkSuccess(w, status, loc, g.Meta.Version)
	}
	w.Header().Set("ETag", etag(g.Meta.Version))
	w.Header().Set("Content-Location", loc)
	if status == http.StatusCreated {
		w.Header().Set("Location", loc)
	}
	h.writeJSON(w, status, h.renderGroup(r, g, proj))
	return nil
}

// renderGroup returns what is sent for g under proj: its canonical document with meta filled in, members
// with their $ref and type (when loaded: a group whose members were omitted, or not loaded, has none).
func (h *handler) renderGroup(r *request, g *Group, proj project.Projection) map[string]any {
	base := h.base(r)
	c := *g
	c.Members = nil
	if !g.MembersOmitted && len(g.Members) > 0 {
		c.Members = make([]Member, len(g.Members))
		for i, m := range g.Members {
			m.Ref = base + "/Users/" + m.Value
			m.Type = "User"
			c.Members[i] = m
		}
	}
	c.Meta.ResourceType = groupType.Name
	c.Meta.Location = base + groupType.Endpoint + "/" + g.ID
	c.Meta.Version = etag(g.Meta.Version)
	return project.Apply(groupType, proj, c.doc())
}

// doc returns the canonical JSON form of the group (without schemas), built directly: a large group's
// members would make a JSON round trip costly.
func (g *Group) doc() map[string]any {
	d := map[string]any{"id": g.ID}
	if g.DisplayName != "" {
		d["displayName"] = g.DisplayName
	}
	if g.ExternalID != "" {
		d["externalId"] = g.ExternalID
	}
	if len(g.Members) > 0 {
		ms := make([]any, len(g.Members))
		for i, m := range g.Members {
			e := map[string]any{"value": m.Value}
			for k, v := range map[string]string{"display": m.Display, "$ref": m.Ref, "type": m.Type} {
				if v != "" {
					e[k] = v
				}
			}
			ms[i] = e
		}
		d["members"] = ms
	}
	if meta := metaDoc(g.Meta); len(meta) > 0 {
		d["meta"] = meta
	}
	return d
}

// metaDoc returns meta's canonical JSON form: its set fields, times in RFC 3339 with nanoseconds.
func metaDoc(m Meta) map[string]any {
	meta := map[string]any{}
	for k, v := range map[string]string{"resourceType": m.ResourceType, "location": m.Location, "version": m.Version} {
		if v != "" {
			meta[k] = v
		}
	}
	for k, t := range map[string]time.Time{"created": m.Created, "lastModified": m.LastModified} {
		if !t.IsZero() {
			meta[k] = t.Format(time.RFC3339Nano)
		}
	}
	return meta
}

// withGroups returns users with their read-only groups attribute computed from the GroupStore (value,
// display, $ref, type "direct"), in one GroupsOf call, when the projection sends groups; otherwise users
// as they are, and no call is made.
func (h *handler) withGroups(r *request, users []*User, proj project.Projection) ([]*User, error) {
	gs, ok := h.groupStore()
	if !ok || len(users) == 0 {
		return users, nil
	}
	p, ok := h.rt.Resolve("groups")
	if !ok || !proj.Includes(p) {
		return users, nil
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	of, err := gs.GroupsOf(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	base := h.base(r)
	out := users // replaced by a copy at the first user whose groups change
	for i, u := range users {
		if len(of[u.ID]) == 0 && len(u.Groups) == 0 { // in no group (the common case): nothing to copy
			continue
		}
		if &out[0] == &users[0] {
			out = slices.Clone(users)
		}
		c := *u // Store users are shared: a copy
		c.Groups = nil
		for _, g := range of[u.ID] {
			c.Groups = append(c.Groups, GroupRef{Value: g.Value, Display: g.Display, Ref: base + "/Groups/" + g.Value, Type: "direct"})
		}
		out[i] = &c
	}
	return out, nil
}
