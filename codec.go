package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scimkit/scim/internal/echo"
	"github.com/scimkit/scim/internal/normalize"
	"github.com/scimkit/scim/internal/project"
	"github.com/scimkit/scim/schema"
)

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

// encodeUser returns the JSON sent for u: written straight from the struct for the default attribute set
// (appendUser), else its canonical document projected through the declared schema.
func (h *handler) encodeUser(r *request, u *User, proj project.Projection) ([]byte, error) {
	return h.encodeUserAt(u, proj, h.location(r, u.ID), etag(u.Meta.Version))
}

// encodeUserAt is encodeUser with the user's location and entity tag already made (writeUser needs them too).
func (h *handler) encodeUserAt(u *User, proj project.Projection, loc, tag string) ([]byte, error) {
	v := *u             // a shallow copy (on the stack: appendUser keeps no reference): Store users are shared
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
		return appendUser(make([]byte, 0, 1024), &v)
	}
	// Through the declared schema: only its attributes, and the schemas list of what is left.
	doc := v.doc()
	if h.trim {
		normalize.Trim(h.rt, doc) // sub-attributes too: Apply copies a selected attribute whole
	}
	return json.Marshal(project.Apply(h.rt, proj, doc))
}

// The schemas lists of a rendered user; shared, never modified.
var (
	coreSchemas       = []string{schema.UserURN}
	enterpriseSchemas = []string{schema.UserURN, schema.EnterpriseUserURN}
	scimContentType   = []string{contentType}
)

func (h *handler) writeUser(w http.ResponseWriter, r *request, status int, u *User, proj project.Projection) error {
	if r.bulkOp { // RFC 7644 §3.7.3: a bulk answers a success's status, location and version, not its body
		return writeBulkSuccess(w, status, h.location(r, u.ID), u.Meta.Version)
	}
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
	b, err := h.encodeUserAt(u, proj, loc, tag)
	h.writeBytes(w, status, b, err)
	return nil
}

// writeBulkSuccess answers a bulk operation that succeeded: the headers its BulkResponse entry is made of,
// no body (none would be sent).
func writeBulkSuccess(w http.ResponseWriter, status int, loc, version string) error {
	w.Header().Set("ETag", etag(version))
	w.Header().Set("Content-Location", loc)
	if status == http.StatusCreated {
		w.Header().Set("Location", loc)
	}
	w.WriteHeader(status)
	return nil
}

func (h *handler) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	h.writeBytes(w, status, b, err)
}

// writeBytes writes an encoded response body; err is the encoding's failure.
func (h *handler) writeBytes(w http.ResponseWriter, status int, b []byte, err error) {
	if err != nil { // only our own types get here; they always marshal
		h.log.Error("scim: encoding response", "error", err)
		b, status = []byte(`{"schemas":["`+schema.ErrorURN+`"],"status":"500"}`), http.StatusInternalServerError
	}
	w.Header()["Content-Type"] = scimContentType // shared and never modified: saves an allocation a request
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeBody decodes a JSON request body into v: a known content type, at most maxBodyBytes, valid UTF-8,
// one JSON value with numbers kept exact.
func (h *handler) decodeBody(w http.ResponseWriter, r *request, v any) error {
	return h.decodeBodyMax(w, r, v, h.maxBodyBytes)
}

// decodeBodyMax is decodeBody with its own bound: group writes carry whole member lists.
func (h *handler) decodeBodyMax(w http.ResponseWriter, r *request, v any, maxBytes int64) error {
	body, err := readBody(w, r, maxBytes)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return decodeError(err)
	}
	if d.More() {
		return errorf(http.StatusBadRequest, InvalidSyntax, "the request body has data after its JSON value")
	}
	return nil
}

// readBody reads a request body: a known content type, at most maxBytes (no more than maxBytes+1 are ever
// buffered), valid UTF-8.
func readBody(w http.ResponseWriter, r *request, maxBytes int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/scim+json" && mt != "application/json") {
			return nil, errorf(http.StatusUnsupportedMediaType, "", "Content-Type must be application/scim+json or application/json")
		}
	}
	size := 512
	if n := r.ContentLength; n > 0 && n < maxBytes { // one buffer of the right size; +1 to see the end
		size = int(n) + 1
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, maxBytes), size)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "", fmt.Sprintf("the request body is larger than %d bytes", maxBytes))
		}
		return nil, errorf(http.StatusBadRequest, InvalidSyntax, "the request body could not be read")
	}
	// encoding/json would turn each bad byte, and each half of a surrogate pair escaped alone, into U+FFFD:
	// a character the client never sent, stored silently.
	if !utf8.Valid(body) {
		return nil, errorf(http.StatusBadRequest, InvalidSyntax, "the request body is not valid UTF-8 (RFC 8259 §8.1)")
	}
	lone, nul := badEscapes(body) // one scan for both
	if lone {
		return nil, errorf(http.StatusBadRequest, InvalidSyntax, `the request body escapes half of a UTF-16 surrogate pair (a \uD800 without its \uDC00): not a character`)
	}
	if nul {
		return nil, errorf(http.StatusBadRequest, InvalidValue, `the request body holds U+0000 (an escaped \u0000): no SCIM value may hold it`)
	}
	return body, nil
}

// readAll is io.ReadAll starting with a buffer of size bytes.
func readAll(rd io.Reader, size int) ([]byte, error) {
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// decodeError is the client's answer to a body that does not decode.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return errorf(http.StatusBadRequest, InvalidSyntax, "the request body has the wrong JSON shape at "+echo.Clip(te.Field))
	}
	return errorf(http.StatusBadRequest, InvalidSyntax, "the request body is not valid JSON")
}

// decodeResource decodes a POST or PUT body into the canonical document of a valid resource of type rt.
func (h *handler) decodeResource(w http.ResponseWriter, r *request, rt *schema.ResourceType) (map[string]any, error) {
	var raw map[string]any
	if err := h.decodeBody(w, r, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errorf(http.StatusBadRequest, InvalidSyntax, "the request body must be a JSON object")
	}
	doc, err := normalize.Resource(rt, raw, r.ignore)
	if err != nil {
		return nil, err
	}
	if err := h.checkValues(rt, doc); err != nil {
		return nil, err
	}
	if err := normalize.Validate(rt, doc); err != nil {
		return nil, err
	}
	return doc, nil
}
