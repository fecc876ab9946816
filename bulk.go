package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim/internal/echo"
	"github.com/scimkit/scim/schema"
)

// Bulk (RFC 7644 §3.7): POST /Bulk carries operations that are each an ordinary request. Each one is served
// by route, the code path of a single request, against a response recorder: a bulk operation cannot behave
// differently from the same request sent alone, and no endpoint needs bulk code of its own. The bulk request
// holds one tenant slot and one deadline (ServeHTTP's) for its whole run; its operations run one after the
// other in it, each with its own work budget. docs/bulk.md describes the behaviour a client sees.

// bulkRequest is the BulkRequest message; encoding/json matches its names without case.
type bulkRequest struct {
	Schemas      []string `json:"schemas"`
	FailOnErrors *int     `json:"failOnErrors"`
	Operations   []bulkOp `json:"Operations"`
}

type bulkOp struct {
	Method  string  `json:"method"`
	Path    string  `json:"path"`
	BulkID  string  `json:"bulkId"`
	Version string  `json:"version"`
	Data    rawData `json:"data"`
}

// rawData is an operation's data as it stands in the request body, which the bulk keeps until its end:
// json.RawMessage would copy every operation's data once more.
type rawData []byte

// UnmarshalJSON keeps b, a part of the body json.Unmarshal was given.
func (d *rawData) UnmarshalJSON(b []byte) error {
	*d = b
	return nil
}

type bulkResponse struct {
	Schemas    []string     `json:"schemas"`
	Operations []bulkResult `json:"Operations"`
}

// bulkResult is one operation's answer (RFC 7644 §3.7.3): status as a string, as the RFC's examples have
// it; response only for a failure, holding the SCIM error the operation would have answered alone.
type bulkResult struct {
	Method   string          `json:"method"`
	BulkID   string          `json:"bulkId,omitempty"`
	Version  string          `json:"version,omitempty"`
	Location string          `json:"location,omitempty"`
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`
}

// bulkRefPrefix marks a reference to the resource another operation of the request creates (RFC 7644 §3.7.2).
const bulkRefPrefix = "bulkId:"

// plannedOp is an operation with the bulkIds it refers to, found once before anything runs.
type plannedOp struct {
	bulkOp
	refs   []string // the bulkIds its path and data refer to
	data   any      // data decoded, when it refers to bulkIds (to substitute them); else nil
	cyclic bool     // it is part of a circle of references
}

func (h *handler) bulk(w http.ResponseWriter, r *request) error {
	if r.Method != http.MethodPost {
		return notAllowed(w, r, "POST")
	}
	body, err := readBody(w, r, h.maxBulkPayload)
	if se, ok := err.(*Error); ok && se.Status == http.StatusRequestEntityTooLarge {
		// RFC 7644 §3.7.4: the error names the limit exceeded.
		return errorf(http.StatusRequestEntityTooLarge, "", fmt.Sprintf(
			"the bulk request is larger than maxPayloadSize (%d bytes): split it", h.maxBulkPayload))
	} else if err != nil {
		return err
	}
	// Unmarshal, not a Decoder: it decodes in place, where a Decoder would copy the whole body once more.
	// No number needs UseNumber: data stays raw until its operation decodes it.
	var req bulkRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return decodeError(err)
	}
	switch {
	case req.Operations == nil:
		return errorf(http.StatusBadRequest, InvalidSyntax, `a BulkRequest needs "Operations"`)
	case len(req.Operations) > h.maxBulkOps:
		return errorf(http.StatusRequestEntityTooLarge, "", fmt.Sprintf(
			"the bulk request has more than maxOperations (%d) operations: split it", h.maxBulkOps))
	case req.FailOnErrors != nil && *req.FailOnErrors < 0:
		return errorf(http.StatusBadRequest, InvalidValue, "failOnErrors must not be negative")
	}
	ops, order, err := planBulk(req.Operations)
	if err != nil {
		return err
	}
	failOn := 0 // 0: every operation runs, whatever fails (RFC 7644 §3.7: continue past partial failures)
	if req.FailOnErrors != nil {
		failOn = *req.FailOnErrors
	}
	created := make(map[string]string) // bulkId → the id of what its POST created; "" when it failed
	results := make([]*bulkResult, len(ops))
	rec := &bulkRecorder{header: make(http.Header)}
	errs := 0
	for _, i := range order {
		if r.Context().Err() != nil { // out of time: what ran is reported, the rest did not run
			break
		}
		res, id := h.bulkOp(r, rec, &ops[i], created)
		results[i] = &res
		if ops[i].BulkID != "" && strings.EqualFold(ops[i].Method, http.MethodPost) {
			created[ops[i].BulkID] = id
		}
		if res.Response != nil {
			if errs++; failOn > 0 && errs >= failOn {
				break
			}
		}
	}
	out := bulkResponse{Schemas: []string{schema.BulkResponseURN}, Operations: make([]bulkResult, 0, len(ops))}
	for _, res := range results { // in the client's order, whatever order they ran in
		if res != nil {
			out.Operations = append(out.Operations, *res)
		}
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// planBulk finds each operation's references and the order to run them in: each operation after those it
// refers to (RFC 7644 §3.7.1 lets a reference come before the POST it names), the client's order otherwise.
// Operations on a circle of references are marked: they fail with 409, which §3.7.1 allows in place of
// resolving the circle (that would need a create without the reference and a PATCH adding it). Two
// operations with one bulkId make the request ambiguous: 400.
func planBulk(in []bulkOp) ([]plannedOp, []int, error) {
	ops := make([]plannedOp, len(in))
	byID := make(map[string]int) // bulkId → its POST
	for i, o := range in {
		ops[i].bulkOp = o
		if o.BulkID != "" {
			if _, dup := byID[o.BulkID]; dup {
				return nil, nil, errorf(http.StatusBadRequest, InvalidValue,
					"bulkId "+strconv.Quote(echo.Clip(o.BulkID))+" is given to more than one operation")
			}
			if strings.EqualFold(o.Method, http.MethodPost) {
				byID[o.BulkID] = i
			}
		}
		for _, seg := range strings.Split(o.Path, "/") {
			if ref, ok := strings.CutPrefix(seg, bulkRefPrefix); ok {
				ops[i].refs = append(ops[i].refs, ref)
			}
		}
		if mayRefer(o.Data) {
			var v any
			d := json.NewDecoder(bytes.NewReader(o.Data))
			d.UseNumber()
			if d.Decode(&v) == nil { // it decoded with the whole body: never fails
				n := len(ops[i].refs)
				ops[i].refs = collectRefs(v, ops[i].refs)
				if len(ops[i].refs) > n {
					ops[i].data = v
				}
			}
		}
	}
	// Depth first, in the client's order: an operation is placed once what it refers to is.
	const (
		unseen = iota
		open   // on the stack: meeting it again closes a circle
		placed
	)
	state := make([]uint8, len(ops))
	order := make([]int, 0, len(ops))
	var stack []int
	var visit func(i int)
	visit = func(i int) {
		state[i] = open
		stack = append(stack, i)
		for _, ref := range ops[i].refs {
			j, ok := byID[ref]
			switch {
			case !ok: // unknown: the operation fails when it runs
			case state[j] == unseen:
				visit(j)
			case state[j] == open: // the stack from j to i is a circle
				for k := len(stack) - 1; k >= 0; k-- {
					ops[stack[k]].cyclic = true
					if stack[k] == j {
						break
					}
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = placed
		order = append(order, i)
	}
	for i := range ops {
		if state[i] == unseen {
			visit(i)
		}
	}
	return ops, order, nil
}

// mayRefer reports whether data may hold a "bulkId:" string, without decoding it: a JSON string can spell
// those letters and the colon only literally or with a \u escape. Most operations refer to nothing, and
// this spares them a second decoding of their data.
func mayRefer(data []byte) bool {
	return bytes.Contains(data, []byte(bulkRefPrefix)) || bytes.Contains(data, []byte(`\u`))
}

// collectRefs appends the bulkIds of the "bulkId:" strings anywhere in v.
func collectRefs(v any, refs []string) []string {
	switch v := v.(type) {
	case string:
		if ref, ok := strings.CutPrefix(v, bulkRefPrefix); ok {
			refs = append(refs, ref)
		}
	case []any:
		for _, e := range v {
			refs = collectRefs(e, refs)
		}
	case map[string]any:
		for _, e := range v {
			refs = collectRefs(e, refs)
		}
	}
	return refs
}

// substitute replaces the "bulkId:" strings anywhere in v with the ids in ids.
func substitute(v any, ids map[string]string) any {
	switch v := v.(type) {
	case string:
		if ref, ok := strings.CutPrefix(v, bulkRefPrefix); ok {
			return ids[ref]
		}
	case []any:
		for i, e := range v {
			v[i] = substitute(e, ids)
		}
	case map[string]any:
		for k, e := range v {
			v[k] = substitute(e, ids)
		}
	}
	return v
}

// bulkOp runs one operation as the request it stands for and returns its result, and the id of the
// resource it created (POST) or "".
func (h *handler) bulkOp(outer *request, rec *bulkRecorder, op *plannedOp, created map[string]string) (bulkResult, string) {
	start := time.Now()
	res := bulkResult{Method: op.Method, BulkID: op.BulkID}
	method := strings.ToUpper(op.Method)
	fail := func(err error) (bulkResult, string) {
		se, _ := toError(err)
		res.Status = strconv.Itoa(se.Status)
		res.Response, _ = json.Marshal(errorBody{Schemas: []string{schema.ErrorURN}, Status: res.Status,
			ScimType: se.ScimType, Detail: echo.ClipTo(se.Detail, maxDetail)})
		return res, ""
	}
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default: // RFC 7644 §3.7: reads are not bulk operations
		return fail(errorf(http.StatusMethodNotAllowed, "", "a bulk operation's method is POST, PUT, PATCH or DELETE, not "+
			strconv.Quote(echo.Clip(op.Method))))
	}
	// References: the ids of the resources they name, once their POSTs have run.
	ids := make(map[string]string, len(op.refs))
	for _, ref := range op.refs {
		id, ran := created[ref]
		switch {
		case op.cyclic:
			return fail(errorf(http.StatusConflict, "", "the operation is part of a circle of bulkId references, which is not resolved"))
		case !ran:
			return fail(errorf(http.StatusBadRequest, InvalidValue, "no POST of this request has bulkId "+strconv.Quote(echo.Clip(ref))))
		case id == "":
			return fail(errorf(http.StatusConflict, "", "bulkId "+strconv.Quote(echo.Clip(ref))+" names an operation that failed"))
		}
		ids[ref] = id
	}
	path := op.Path
	if len(ids) > 0 {
		segs := strings.Split(path, "/")
		for i, s := range segs {
			if ref, ok := strings.CutPrefix(s, bulkRefPrefix); ok {
				segs[i] = url.PathEscape(ids[ref])
			}
		}
		path = strings.Join(segs, "/")
	}
	u, err := url.Parse("/" + strings.TrimPrefix(path, "/"))
	if err != nil || op.Path == "" || u.Host != "" || u.User != nil {
		return fail(errorf(http.StatusBadRequest, InvalidValue, "a bulk operation's path is an endpoint below the mount point, such as /Users"))
	}
	data := op.Data
	if op.data != nil {
		if data, err = json.Marshal(substitute(op.data, ids)); err != nil {
			return fail(err)
		}
	}
	if string(data) == "null" {
		data = nil
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	hr := (&http.Request{Method: method, URL: u, Header: make(http.Header), Host: outer.Host, TLS: outer.TLS,
		RemoteAddr: outer.RemoteAddr, Body: http.NoBody}).WithContext(outer.Context())
	if len(data) > 0 {
		hr.Body, hr.ContentLength = readCloser{bytes.NewReader(data)}, int64(len(data))
	}
	if op.Version != "" {
		hr.Header.Set("If-Match", op.Version)
	}
	// The request's own state, as ServeHTTP makes it: the bulk's tenant and id, a budget of its own.
	r := &request{Request: hr, requestID: outer.requestID, tenant: outer.tenant, authenticated: true, bulkOp: true,
		base: h.base(outer), work: workBudget{left: h.maxWork, limit: h.maxWork}}
	r.resource, r.route = routeOf(segs)
	clear(rec.header)
	rec.status, rec.body = 0, rec.body[:0]
	r.w.ResponseWriter = rec
	h.serveBulkOp(r, segs)
	h.finish(&r.w, r, start)

	res.Status = strconv.Itoa(rec.status)
	if rec.status >= 400 {
		res.Response = bytes.Clone(rec.body)
	} else {
		res.Version = rec.header.Get("ETag")
		res.Location = rec.header.Get("Location")
	}
	if res.Location == "" && method != http.MethodPost {
		res.Location = h.base(outer) + u.EscapedPath() // RFC 7644 §3.7.3 gives the target, failed or not
	}
	if method != http.MethodPost || rec.status != http.StatusCreated {
		return res, ""
	}
	loc := rec.header.Get("Location")
	return res, loc[strings.LastIndexByte(loc, '/')+1:]
}

// serveBulkOp routes one operation, as ServeHTTP does a request: a panic fails the operation alone (500,
// logged), since the operations before it are done and must be reported.
func (h *handler) serveBulkOp(r *request, segs []string) {
	w := &r.w
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.ErrorContext(r.Context(), "scim: panic serving a bulk operation", "method", r.Method, "route", r.route,
				"request_id", r.requestID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			h.writeError(w, r, errorf(http.StatusInternalServerError, "", "internal server error"))
		}
	}()
	var err error
	if r.resource == "Bulk" {
		err = errorf(http.StatusBadRequest, InvalidValue, "a bulk operation cannot be a bulk request")
	} else {
		err = h.route(w, r, segs, r.route)
	}
	if err != nil {
		h.writeError(w, r, err)
	}
}

// bulkRecorder is the response writer of a bulk operation: it keeps the status, the headers, and the body
// of an error only, since a success's body is not part of the bulk response (RFC 7644 §3.7.3).
type bulkRecorder struct {
	header http.Header
	status int
	body   []byte
}

// Header returns the operation's response headers.
func (w *bulkRecorder) Header() http.Header { return w.header }

// WriteHeader records the first status.
func (w *bulkRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

// Write keeps the body of an error; any other body is dropped.
func (w *bulkRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.status >= 400 {
		w.body = append(w.body, b...)
	}
	return len(b), nil
}

// readCloser is an operation's body: http.Request wants a ReadCloser, io.NopCloser would allocate one more.
type readCloser struct{ *bytes.Reader }

// Close implements io.Closer.
func (readCloser) Close() error { return nil }
