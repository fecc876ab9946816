package scim

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"reflect"

	"github.com/scimkit/scim/internal/document"
	"github.com/scimkit/scim/internal/normalize"
	"github.com/scimkit/scim/internal/patch"
	"github.com/scimkit/scim/schema"
)

func (h *handler) create(w http.ResponseWriter, r *request) error {
	proj, err := h.projection(r) // refused before any work
	if err != nil {
		return err
	}
	doc, err := h.decodeResource(w, r, h.rt)
	if err != nil {
		return err
	}
	if err := h.checkGrants(r, nil, doc); err != nil {
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
	now := h.now()
	u.ID = newID()
	u.PasswordHash = hash
	u.Meta = Meta{ResourceType: h.rt.Name, Created: now, LastModified: now}
	b, err := appendUser(make([]byte, 0, 1024), u) // its size, as a Store would keep it
	if err != nil {
		return err
	}
	if err := h.checkSize(len(b)); err != nil {
		return err
	}
	var created *User
	err = h.lockedWrite(r, u.ID, func() (err error) {
		if created, err = h.store.Create(h.writeContext(r.Context(), u, b), u); err == nil && created != nil && created.ID != "" {
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
	body, err := h.decodeResource(w, r, h.rt)
	if err != nil {
		return err
	}
	u, err := h.update(r, id, func(doc map[string]any) error { return putOver(h.rt, doc, body) })
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
	var req patch.Request
	if err := h.decodeBody(w, r, &req); err != nil {
		return err
	}
	ops, err := patch.Parse(h.rt, userType, req, h.maxOps, r.ignore)
	if err != nil {
		return err
	}
	env := patch.Env{Ctx: r.Context(), RT: h.rt, Ignored: r.ignore, MaxValues: h.maxValues, Work: &r.work}
	u, err := h.update(r, id, func(doc map[string]any) error {
		if err := patch.Apply(env, doc, ops); err != nil {
			return err
		}
		if _, set := doc["password"]; !set && patch.ClearsPassword(ops) {
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
	var updated *User
	err := h.retryCAS(r, func() error {
		cur, err := h.store.Get(ctx, id)
		if err != nil {
			return err
		}
		if ifMatch != "" && !etagMatches(ifMatch, cur.Meta.Version) {
			return ErrVersionMismatch
		}
		doc := cur.doc()
		if h.trim { // what the Store kept from before the declaration shrank is not carried along
			normalize.Trim(h.rt, doc)
		}
		var granted map[string]any // the grants before the change, when a catalog checks them
		if h.checksGrants() {
			granted = cur.doc()
		}
		if err := mutate(doc); err != nil {
			return err
		}
		newPassword, touched := doc["password"].(string)
		clear := touched && newPassword == "" // a PATCH removed the password (clearsPassword)
		if newPassword != "" && newPassword != plain {
			if hashed, _, err = h.takePassword(ctx, doc); err != nil {
				return err
			}
			plain = newPassword
		}
		delete(doc, "password")
		if err := h.checkValues(h.rt, doc); err != nil {
			return err
		}
		if err := normalize.Validate(h.rt, doc); err != nil {
			return err
		}
		if err := h.checkGrants(r, granted, doc); err != nil {
			return err
		}
		u, err := userFromDoc(doc)
		if err != nil {
			return err
		}
		u.ID, u.Meta, u.PasswordHash = cur.ID, cur.Meta, cur.PasswordHash
		switch {
		case newPassword != "":
			u.PasswordHash = hashed
		case clear:
			u.PasswordHash = ""
		}
		// Unchanged when the user is as it was (equalUsers: field by field, what comparing the encodings
		// of both told, without encoding the user read). A new password is always a change.
		if equalUsers(cur, u) && newPassword == "" && u.PasswordHash == cur.PasswordHash {
			updated = cur
			return nil
		}
		u.Meta.LastModified = h.now()
		after, err := appendUser(make([]byte, 0, 2048), u) // its size, as a Store would keep it
		if err != nil {
			return err
		}
		if err := h.checkSize(len(after)); err != nil {
			return err
		}
		return h.lockedWrite(r, cur.ID, func() (err error) {
			if updated, err = h.store.Replace(h.writeContext(ctx, u, after), u, cur.Meta.Version); err == nil {
				h.emit(r, cur, updated)
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return updated, nil
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
	// what was deleted. A lost race is retried without If-Match, as in update. With events, the groups the
	// user is in are read first: its deletion ends those memberships, and each group reports it.
	var cur *User
	var left []GroupRef
	err := h.retryCAS(r, func() (err error) {
		if cur, err = h.store.Get(r.Context(), id); err != nil {
			return err
		}
		if ifMatch != "" && !etagMatches(ifMatch, cur.Meta.Version) {
			return ErrVersionMismatch
		}
		if left, err = h.groupsLeft(r, cur.ID); err != nil {
			return err
		}
		return h.lockedWrite(r, cur.ID, func() error {
			err := h.store.Delete(r.Context(), id, cur.Meta.Version)
			if err == nil {
				h.emit(r, cur, nil)
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	h.emitLeft(r, cur.ID, left) // after the user's lock: each group's under its own
	w.WriteHeader(http.StatusNoContent)
	return nil
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
		return "", false, passwordRefused()
	}
	hash, err = h.hashPassword(ctx, pw)
	return hash, err == nil, err
}

// putOver makes doc, a resource's canonical document, what a PUT of body leaves: what the client may
// write replaced by body; what it cannot write (id, meta, readOnly attributes such as groups) or read back
// (password, when not sent) kept, so a PUT built from a GET loses nothing. An immutable attribute may be
// sent again as it is, not changed.
func putOver(rt *schema.ResourceType, doc, body map[string]any) error {
	next := map[string]any{}
	for _, p := range rt.Attributes() {
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
}
