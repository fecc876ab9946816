package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/internal/slicestore"
	"github.com/scimkit/scim/memstore"
)

// Black-box protocol tests: every test talks HTTP to a handler mounted the way host apps mount it, under
// /scim/v2 of the host's own mux, next to the host's other routes.

const (
	testToken    = "t"
	userURN      = "urn:ietf:params:scim:schemas:core:2.0:User"
	enterpriseNS = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	listURN      = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	errorURN     = "urn:ietf:params:scim:api:messages:2.0:Error"
	patchOpURN   = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// testServer is a host app with the SCIM handler mounted at /scim/v2 (or a handler served at the root), and
// the client every HTTP test of the package talks to it with: the test package's one harness.
type testServer struct {
	t *testing.T
	// URL is the absolute URL of the mount point, http://127.0.0.1:port/scim/v2.
	URL   string
	Store *memstore.Store // the store of newTestServer, nil otherwise
	token string          // the bearer token sent; "" sends no Authorization header
	query string          // appended to every path's query: Entra's ?aadOptscim062020 in compliant mode
	http  *http.Client    // nil: http.DefaultClient
}

// serveHandler serves h at the root of a test server.
func serveHandler(t *testing.T, h http.Handler) *testServer {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testServer{t: t, URL: srv.URL, token: testToken}
}

// newTestServer mounts a handler over a fresh memstore that accepts the bearer token testToken unless
// opts set their own authentication.
func newTestServer(t *testing.T, opts ...scim.Option) *testServer {
	t.Helper()
	store := memstore.New()
	s := serveStoreAt(t, store, opts...)
	s.Store = store
	return s
}

// serveStoreAt mounts a handler over store at /scim/v2 of a host mux, next to the host's own page; it
// accepts testToken unless opts set their own authentication, and is shut down when the test ends,
// delivering its last events.
func serveStoreAt(t *testing.T, store scim.Store, opts ...scim.Option) *testServer {
	t.Helper()
	mux := http.NewServeMux()
	h := scim.MustNew(store, scim.WithTestToken(testToken, opts...)...)
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "host page") })
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, h.Shutdown(ctx)) // delivers the last events; ends the workers
	})
	return &testServer{t: t, URL: srv.URL + "/scim/v2", token: testToken}
}

// as returns the same server seen with another bearer token ("" sends no Authorization header).
func (s *testServer) as(token string) *testServer {
	c := *s
	c.token = token
	return &c
}

// via returns the same server reached through client (one connection, HTTP/2).
func (s *testServer) via(client *http.Client) *testServer {
	c := *s
	c.http = client
	return &c
}

// result is one HTTP answer. Body is the decoded JSON object, nil when the answer has no body.
type result struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

func (r result) String() string { return strconv.Itoa(r.Status) + " " + string(r.Raw) }

// do sends a request to the mount point + path with the server's bearer token, no User-Agent (as Entra) and,
// when body is not empty, Content-Type application/scim+json. headers are name/value pairs that override
// those; an empty value removes the header. It checks what holds for every answer (RFC 7644 §3.8, §3.12): a
// body is application/scim+json holding one JSON object; an error is a SCIM Error whose status is the HTTP
// status as a string.
func (s *testServer) do(method, path, body string, headers ...string) result {
	s.t.Helper()
	r, err := s.send(method, path, body, headers...)
	require.NoError(s.t, err, "%s %s", method, path)
	return r
}

// answer is do for the tests that read an answer by its parts (the Entra replays).
func (s *testServer) answer(method, path, body string) (int, http.Header, map[string]any) {
	s.t.Helper()
	r := s.do(method, path, body)
	return r.Status, r.Header, r.Body
}

// send is do for any goroutine: what do would have failed the test on, it returns as an error.
func (s *testServer) send(method, path, body string, headers ...string) (result, error) {
	u := s.URL + path
	if s.query != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + s.query
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return result{}, err
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	req.Header.Set("User-Agent", "") // net/http then sends none
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if len(headers)%2 != 0 {
		return result{}, errors.New("headers come in pairs")
	}
	for i := 0; i < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	client := s.http
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, err
	}
	r := result{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/scim+json" {
			return r, fmt.Errorf("%s %s: Content-Type %q, want application/scim+json: %s", method, u, ct, raw)
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		if err := d.Decode(&r.Body); err != nil || r.Body == nil || d.More() {
			return r, fmt.Errorf("%s %s: the body is not one JSON object: %s", method, u, raw)
		}
	}
	if r.Status >= 400 {
		if r.Body == nil {
			return r, fmt.Errorf("%s %s: %d without a SCIM error body", method, u, r.Status)
		}
		if !slices.Equal(stringsOf(r.Body["schemas"]), []string{errorURN}) {
			return r, fmt.Errorf("%s %s: error schemas %v", method, u, r.Body["schemas"])
		}
		if r.Body["status"] != strconv.Itoa(r.Status) {
			return r, fmt.Errorf("%s %s: error status %#v, want the string %q", method, u, r.Body["status"], strconv.Itoa(r.Status))
		}
	}
	return r, nil
}

// requireError asserts a SCIM error answer with the status and scimType ("" for none).
func requireError(t *testing.T, r result, status int, scimType string) {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r.Raw)
	if scimType == "" {
		require.NotContains(t, r.Body, "scimType", "%s", r.Raw)
	} else {
		require.Equal(t, scimType, r.Body["scimType"], "%s", r.Raw)
	}
}

// create POSTs a user and returns the answer, which must be 201.
func (s *testServer) create(body string) map[string]any {
	s.t.Helper()
	r := s.do("POST", "/Users", body)
	require.Equal(s.t, http.StatusCreated, r.Status, "%s", r.Raw)
	return r.Body
}

// createUser creates a user with only a userName and returns its id.
func (s *testServer) createUser(userName string) string {
	s.t.Helper()
	return s.create(`{"userName":` + jsonString(userName) + `}`)["id"].(string)
}

// get returns GET /Users/{id}, which must be 200.
func (s *testServer) get(id string) map[string]any {
	s.t.Helper()
	r := s.do("GET", "/Users/"+id, "")
	require.Equal(s.t, http.StatusOK, r.Status, "%s", r.Raw)
	return r.Body
}

// patch sends a PatchOp of the operations (JSON objects) to the user.
func (s *testServer) patch(id string, ops ...string) result {
	s.t.Helper()
	return s.do("PATCH", "/Users/"+id, patchOp(ops...))
}

// list returns GET /Users?query, which must answer 200.
func (s *testServer) list(query string) map[string]any {
	s.t.Helper()
	r := s.do("GET", "/Users?"+query, "")
	require.Equal(s.t, http.StatusOK, r.Status, "%s", r.Raw)
	return r.Body
}

// filter lists the users matching the filter (URL-encoded here) and returns their userNames.
func (s *testServer) filter(f string) []string {
	s.t.Helper()
	return userNames(s.t, s.list("filter="+url.QueryEscape(f)))
}

// without returns a copy of m without the keys.
func without(m map[string]any, keys ...string) map[string]any {
	out := maps(m)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// storeKinds are the stores the tests that run on every store use in this module: memstore and a host-style
// Store (the sqlstore
// module runs scimtest's suites over its stores; this module must not require it, not even for tests).
var storeKinds = []struct {
	name string
	open func(t *testing.T) scim.Store
}{
	{"memory", func(*testing.T) scim.Store { return memstore.New() }},
	// A Store and GroupStore whose List is a scim.Collector, as docs/stores.md tells a host to write one: the
	// handler answers filters on groups for it.
	{"slice", func(*testing.T) scim.Store { return slicestore.New() }},
}

// stringsOf returns a JSON array of strings as a slice (nil when v is not one).
func stringsOf(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

// patchOp wraps operations (JSON objects) in a PatchOp message.
func patchOp(ops ...string) string {
	return `{"schemas":["` + patchOpURN + `"],"Operations":[` + strings.Join(ops, ",") + `]}`
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// resources returns the Resources of a ListResponse, which must be an array.
func resources(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	list, ok := body["Resources"].([]any)
	require.True(t, ok, "Resources must be an array: %v", body)
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = e.(map[string]any)
	}
	return out
}

// userNames returns the userNames of a ListResponse's Resources, in order.
func userNames(t *testing.T, body map[string]any) []string {
	t.Helper()
	out := []string{}
	for _, u := range resources(t, body) {
		out = append(out, u["userName"].(string))
	}
	return out
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// --- routing ---

func TestRouting(t *testing.T) {
	s := newTestServer(t)
	id := s.createUser("route@example.com")
	tests := []struct {
		method, path string
		status       int
		allow        string // the Allow header of a 405
	}{
		{"GET", "/Users", 200, ""},
		{"GET", "/users", 200, ""}, // endpoint names without case
		{"GET", "/Users/", 200, ""},
		{"GET", "/Users/" + id, 200, ""},
		{"GET", "/USERS/" + id, 200, ""},
		{"GET", "/ServiceProviderConfig", 200, ""},
		{"GET", "/ResourceTypes", 200, ""},
		{"GET", "/Schemas", 200, ""},
		{"GET", "/Nope", 404, ""},
		{"GET", "/Groups", 200, ""}, // memstore keeps groups
		{"GET", "/groups/.search", 405, "POST"},
		{"GET", "/.search", 405, "POST"},
		{"DELETE", "/Groups", 405, "GET, POST"},
		{"POST", "/Groups/x", 405, "GET, PUT, PATCH, DELETE"},
		{"GET", "/Groups/x/y", 404, ""},
		{"GET", "/Users/" + id + "/extra", 404, ""},
		{"GET", "/ServiceProviderConfig/x", 404, ""},
		{"GET", "/ResourceTypes/User/x", 404, ""},
		{"GET", "/", 404, ""},
		{"PATCH", "/Users", 405, "GET, POST"},
		{"PUT", "/Users", 405, "GET, POST"},
		{"DELETE", "/Users", 405, "GET, POST"},
		{"POST", "/Users/" + id, 405, "GET, PUT, PATCH, DELETE"},
		{"GET", "/Users/.search", 405, "POST"},
		{"DELETE", "/Users/.search", 405, "POST"},
		{"POST", "/ServiceProviderConfig", 405, "GET"},
		{"PUT", "/ResourceTypes", 405, "GET"},
		{"DELETE", "/ResourceTypes/User", 405, "GET"},
		{"POST", "/Schemas", 405, "GET"},
		{"PUT", "/Schemas/" + userURN, 405, "GET"},
		{"DELETE", "/Schemas/" + userURN, 405, "GET"},
		{"GET", "/Bulk", 405, "POST"},
		{"POST", "/Me", 501, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			body := ""
			if tt.method == "POST" || tt.method == "PUT" || tt.method == "PATCH" {
				body = `{}`
			}
			r := s.do(tt.method, tt.path, body)
			require.Equal(t, tt.status, r.Status, "%s", r.Raw)
			require.NotEmpty(t, r.Raw, "every answer here has a body")
			require.Equal(t, tt.allow, r.Header.Get("Allow"))
		})
	}
	// The host's own routes are untouched.
	resp, err := http.Get(strings.TrimSuffix(s.URL, "/scim/v2") + "/app")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
}

// --- authentication ---

func TestAuthMultipleTokens(t *testing.T) {
	s := newTestServer(t, scim.WithTokens("one", "two"))
	for _, tok := range []string{"one", "two"} {
		require.Equal(t, 200, s.do("GET", "/Users", "", "Authorization", "Bearer "+tok).Status)
	}
	requireError(t, s.do("GET", "/Users", "", "Authorization", "Bearer three"), 401, "")
	requireError(t, s.do("GET", "/Users", ""), 401, "") // WithTokens replaces, it does not add
}

func TestAuthNotConfigured(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.MustNew(memstore.New())))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s := &testServer{t: t, URL: srv.URL + "/scim/v2", token: testToken}
	requireError(t, s.do("GET", "/Users", ""), 401, "")
	requireError(t, s.do("GET", "/ServiceProviderConfig", ""), 401, "")
}

// TestAuthenticatorErrors: ErrUnauthorized answers 401, an *Error its status, ErrUnavailable 503, and any
// other error 500 with an Error log line: an authenticator's outage must not look like a revoked token.
func TestAuthenticatorErrors(t *testing.T) {
	logs := &syncBuffer{}
	s := newTestServer(t, scim.WithLogger(slog.New(slog.NewTextHandler(logs, nil))), scim.WithAuthenticator(func(r *http.Request) (string, error) {
		tok, _ := scim.BearerToken(r)
		switch tok {
		case "ok":
			return "acme", nil
		case "suspended":
			return "", &scim.Error{Status: http.StatusForbidden, Detail: "account suspended"}
		case "broken":
			return "", errors.New("database down: secret details")
		case "wrapped":
			return "", fmt.Errorf("token revoked: %w", scim.ErrUnauthorized)
		case "down":
			return "", fmt.Errorf("accounts: %w", scim.ErrUnavailable)
		}
		return "", scim.ErrUnauthorized
	}))
	require.Equal(t, 200, s.do("GET", "/Users", "", "Authorization", "Bearer ok").Status)

	r := s.do("GET", "/Users", "", "Authorization", "Bearer suspended")
	requireError(t, r, http.StatusForbidden, "")
	require.Empty(t, r.Header.Get("WWW-Authenticate"))
	require.Equal(t, "account suspended", r.Body["detail"])

	for _, tok := range []string{"wrapped", "other", ""} {
		r := s.do("GET", "/Users", "", "Authorization", "Bearer "+tok)
		requireError(t, r, http.StatusUnauthorized, "")
		require.NotEmpty(t, r.Header.Get("WWW-Authenticate"))
	}
	require.Empty(t, logs.String(), "a client's wrong credentials are not the server's failure")

	requireError(t, s.do("GET", "/Users", "", "Authorization", "Bearer down"), http.StatusServiceUnavailable, "")

	r = s.do("GET", "/Users", "", "Authorization", "Bearer broken")
	requireError(t, r, http.StatusInternalServerError, "")
	require.Empty(t, r.Header.Get("WWW-Authenticate"))
	require.NotContains(t, string(r.Raw), "secret details", "an authenticator's own error never reaches the client")
	require.Contains(t, logs.String(), "level=ERROR")
	require.Contains(t, logs.String(), "scim: authenticator failed")
	require.Contains(t, logs.String(), "database down: secret details", "the log line names the cause")
}

// TestMultiTenant: with WithAuthenticator each customer's token maps to its account, and an account sees,
// changes and deletes only its own users.
func TestMultiTenant(t *testing.T) {
	s := newTestServer(t, scim.WithAuthenticator(func(r *http.Request) (string, error) {
		switch tok, _ := scim.BearerToken(r); tok {
		case "token-a":
			return "tenant-a", nil
		case "token-b":
			return "tenant-b", nil
		}
		return "", scim.ErrUnauthorized
	}))
	as := func(tenant string) []string { return []string{"Authorization", "Bearer token-" + tenant} }

	ra := s.do("POST", "/Users", `{"userName":"same@example.com","displayName":"A"}`, as("a")...)
	require.Equal(t, 201, ra.Status, "%s", ra.Raw)
	rb := s.do("POST", "/Users", `{"userName":"SAME@example.com","displayName":"B"}`, as("b")...)
	require.Equal(t, 201, rb.Status, "the same userName is allowed in another tenant: %s", rb.Raw)
	idA, idB := ra.Body["id"].(string), rb.Body["id"].(string)
	requireError(t, s.do("POST", "/Users", `{"userName":"Same@Example.com"}`, as("a")...), 409, "uniqueness")

	// Tenant A cannot see, change or delete B's user: to A it does not exist.
	requireError(t, s.do("GET", "/Users/"+idB, "", as("a")...), 404, "")
	requireError(t, s.do("PUT", "/Users/"+idB, `{"userName":"stolen"}`, as("a")...), 404, "")
	requireError(t, s.do("PATCH", "/Users/"+idB, patchOp(`{"op":"replace","path":"displayName","value":"stolen"}`), as("a")...), 404, "")
	requireError(t, s.do("DELETE", "/Users/"+idB, "", as("a")...), 404, "")

	for _, tenant := range []string{"a", "b"} {
		for _, path := range []string{"/Users", `/Users?filter=userName+eq+"same@example.com"`, `/Users?filter=id+eq+"` + idA + `"+or+id+eq+"` + idB + `"`} {
			r := s.do("GET", path, "", as(tenant)...)
			require.Equal(t, 200, r.Status)
			require.Equal(t, 1.0, r.Body["totalResults"], "%s %s", tenant, path)
			require.Equal(t, strings.ToUpper(tenant), resources(t, r.Body)[0]["displayName"])
		}
		r := s.do("POST", "/Users/.search", `{"filter":"displayName pr"}`, as(tenant)...)
		require.Equal(t, 1.0, r.Body["totalResults"])
	}
	require.Equal(t, "B", s.do("GET", "/Users/"+idB, "", as("b")...).Body["displayName"])
	require.Equal(t, 204, s.do("DELETE", "/Users/"+idB, "", as("b")...).Status)
	require.Equal(t, 200, s.do("GET", "/Users/"+idA, "", as("a")...).Status, "deleting B's user leaves A's")
}

// --- content types and bodies ---

func TestRequestContentTypes(t *testing.T) {
	tests := []struct {
		contentType string
		ok          bool
	}{
		{"application/scim+json", true},
		{"application/scim+json; charset=utf-8", true},
		{"application/scim+json;charset=utf-8", true},
		{"application/json", true},
		{"application/json; charset=UTF-8", true},
		{"Application/SCIM+JSON", true},
		{"", true}, // no Content-Type: the body is read as JSON
		{"text/plain", false},
		{"application/xml", false},
		{"application/x-www-form-urlencoded", false},
		{"application/scim+json; charset", false}, // malformed media type
	}
	s := newTestServer(t)
	id := s.createUser("ct@example.com")
	for i, tt := range tests {
		reqs := []struct{ method, path, body string }{
			{"POST", "/Users", `{"userName":"ct` + strconv.Itoa(i) + `@example.com"}`},
			{"PUT", "/Users/" + id, `{"userName":"ct@example.com","title":"t` + strconv.Itoa(i) + `"}`},
			{"PATCH", "/Users/" + id, patchOp(`{"op":"replace","path":"nickName","value":"n` + strconv.Itoa(i) + `"}`)},
			{"POST", "/Users/.search", `{"filter":"userName pr"}`},
		}
		for _, rq := range reqs {
			t.Run(rq.method+" "+rq.path+" "+tt.contentType, func(t *testing.T) {
				r := s.do(rq.method, rq.path, rq.body, "Content-Type", tt.contentType)
				if tt.ok {
					require.Contains(t, []int{200, 201}, r.Status, "%s", r.Raw)
				} else {
					requireError(t, r, http.StatusUnsupportedMediaType, "")
				}
			})
		}
	}
}

// TestResponsesAreSCIMJSON: every answer with a body, errors included, is application/scim+json (checked
// by do) and errors carry status as a string; this walks one request of every kind of answer.
func TestErrorBodies(t *testing.T) {
	s := newTestServer(t, scim.WithLimits(scim.Limits{MaxBodyBytes: 256}))
	id := s.createUser("err@example.com")
	s.createUser("taken@example.com")
	big := `{"userName":"big","displayName":"` + strings.Repeat("x", 300) + `"}`
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		scimType                 string
	}{
		{"no token", "GET", "/Users", "", []string{"Authorization", ""}, 401, ""},
		{"unknown route", "GET", "/Nope", "", nil, 404, ""},
		{"unknown user", "GET", "/Users/nope", "", nil, 404, ""},
		{"wrong method", "PATCH", "/Users", "{}", nil, 405, ""},
		{"malformed JSON", "POST", "/Users", `{"userName":`, nil, 400, "invalidSyntax"},
		{"not an object", "POST", "/Users", `["userName"]`, nil, 400, "invalidSyntax"},
		{"JSON null", "POST", "/Users", `null`, nil, 400, "invalidSyntax"},
		{"two JSON values", "POST", "/Users", `{"userName":"a"}{"userName":"b"}`, nil, 400, "invalidSyntax"},
		{"empty body", "POST", "/Users", ``, []string{"Content-Type", "application/scim+json"}, 400, "invalidSyntax"},
		{"malformed PUT", "PUT", "/Users/" + id, `{`, nil, 400, "invalidSyntax"},
		{"malformed PATCH", "PATCH", "/Users/" + id, `{"Operations":[`, nil, 400, "invalidSyntax"},
		{"malformed search", "POST", "/Users/.search", `{"filter":`, nil, 400, "invalidSyntax"},
		{"search of wrong shape", "POST", "/Users/.search", `{"count":"ten"}`, nil, 400, "invalidSyntax"},
		{"no userName", "POST", "/Users", `{"displayName":"x"}`, nil, 400, "invalidValue"},
		{"uniqueness", "POST", "/Users", `{"userName":"TAKEN@example.com"}`, nil, 409, "uniqueness"},
		{"oversized", "POST", "/Users", big, nil, 413, ""},
		{"oversized PATCH", "PATCH", "/Users/" + id, patchOp(`{"op":"add","path":"title","value":"` + strings.Repeat("x", 300) + `"}`), nil, 413, ""},
		{"text/plain", "POST", "/Users", `{"userName":"x"}`, []string{"Content-Type", "text/plain"}, 415, ""},
		{"invalid filter", "GET", "/Users?filter=userName+eq", "", nil, 400, "invalidFilter"},
		{"stale If-Match", "DELETE", "/Users/" + id, "", []string{"If-Match", `W/"stale"`}, 412, ""},
		{"not implemented", "POST", "/Me", "{}", nil, 501, ""},
		{"malformed bulk", "POST", "/Bulk", "{}", nil, 400, "invalidSyntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(tt.method, tt.path, tt.body, tt.headers...)
			requireError(t, r, tt.status, tt.scimType)
			require.NotEmpty(t, r.Body["detail"])
		})
	}
	// After all that the users are as they were.
	require.Equal(t, 2.0, s.do("GET", "/Users", "").Body["totalResults"])
}

func TestMaxBodyBytes(t *testing.T) {
	s := newTestServer(t, scim.WithLimits(scim.Limits{MaxBodyBytes: 100}))
	body := func(n int) string {
		b := `{"userName":"u` + strconv.Itoa(n) + `","title":""}`
		return b[:len(b)-2] + strings.Repeat("x", n-len(b)) + `"}`
	}
	require.Len(t, body(100), 100)
	require.Equal(t, 201, s.do("POST", "/Users", body(100)).Status)
	requireError(t, s.do("POST", "/Users", body(101)), 413, "")
	requireError(t, s.do("POST", "/Users/.search", `{"filter":"title co \"`+strings.Repeat("x", 100)+`\""}`), 413, "")
	require.Equal(t, 1.0, s.do("GET", "/Users", "").Body["totalResults"])

	// The default is 1 MiB: a body of a few hundred KiB is fine.
	d := newTestServer(t)
	require.Equal(t, 201, d.do("POST", "/Users", `{"userName":"big","title":"`+strings.Repeat("x", 500<<10)+`"}`).Status)
	requireError(t, d.do("POST", "/Users", `{"userName":"bigger","title":"`+strings.Repeat("x", 1<<20)+`"}`), 413, "")
}

// TestUnknownQueryParameters: Entra's compliant mode appends ?aadOptscim062020 to every URL; unknown
// parameters are ignored on every route.
func TestUnknownQueryParameters(t *testing.T) {
	for _, q := range []string{"?aadOptscim062020", "?aadOptscim062020&foo=bar", "?foo"} {
		t.Run(q, func(t *testing.T) {
			s := newTestServer(t)
			created := s.do("POST", "/Users"+q, `{"userName":"q@example.com"}`)
			require.Equal(t, 201, created.Status, "%s", created.Raw)
			id := created.Body["id"].(string)
			require.Equal(t, s.URL+"/Users/"+id, created.Header.Get("Location"), "the query is not part of the location")
			require.Equal(t, created.Header.Get("Location"), created.Body["meta"].(map[string]any)["location"])

			for _, rq := range []struct {
				method, path, body string
				status             int
			}{
				{"GET", "/Users/" + id + q, "", 200},
				{"GET", "/Users" + q, "", 200},
				{"GET", "/Users" + q + `&filter=userName+eq+"q@example.com"`, "", 200},
				{"POST", "/Users/.search" + q, `{"filter":"id eq \"` + id + `\""}`, 200},
				{"PUT", "/Users/" + id + q, `{"userName":"q@example.com","title":"T"}`, 200},
				{"PATCH", "/Users/" + id + q, patchOp(`{"op":"replace","path":"nickName","value":"N"}`), 200},
				{"GET", "/ServiceProviderConfig" + q, "", 200},
				{"GET", "/ResourceTypes" + q, "", 200},
				{"GET", "/ResourceTypes/User" + q, "", 200},
				{"GET", "/Schemas" + q, "", 200},
				{"GET", "/Schemas/" + enterpriseNS + q, "", 200},
				{"DELETE", "/Users/" + id + q, "", 204},
			} {
				r := s.do(rq.method, rq.path, rq.body)
				require.Equal(t, rq.status, r.Status, "%s %s: %s", rq.method, rq.path, r.Raw)
				if rq.method == "GET" && strings.HasPrefix(rq.path, "/Users/") || rq.method == "PUT" || rq.method == "PATCH" {
					require.Equal(t, s.URL+"/Users/"+id, r.Body["meta"].(map[string]any)["location"])
				}
				if strings.HasPrefix(rq.path, "/Users?") || strings.HasPrefix(rq.path, "/Users/.search") {
					require.Equal(t, 1.0, r.Body["totalResults"], "%s", rq.path)
				}
			}
		})
	}
}

// TestLocation: meta.location and the Location header are absolute: from WithBaseURL when set, else from
// the request and the prefix the host stripped.
func TestLocation(t *testing.T) {
	s := newTestServer(t)
	created := s.do("POST", "/Users", `{"userName":"loc@example.com"}`)
	id := created.Body["id"].(string)
	loc := created.Header.Get("Location")
	require.Equal(t, s.URL+"/Users/"+id, loc)
	require.True(t, strings.HasPrefix(loc, "http://"))
	require.Equal(t, loc, created.Body["meta"].(map[string]any)["location"])
	require.Equal(t, loc, s.get(id)["meta"].(map[string]any)["location"])
	require.Equal(t, loc, resources(t, s.do("GET", "/Users", "").Body)[0]["meta"].(map[string]any)["location"])

	b := newTestServer(t, scim.WithBaseURL("https://api.example.com/scim/v2/"))
	created = b.do("POST", "/Users", `{"userName":"loc@example.com"}`)
	id = created.Body["id"].(string)
	require.Equal(t, "https://api.example.com/scim/v2/Users/"+id, created.Header.Get("Location"))
	require.Equal(t, "https://api.example.com/scim/v2/Users/"+id, created.Body["meta"].(map[string]any)["location"])
	spc := b.do("GET", "/ServiceProviderConfig", "").Body
	require.Equal(t, "https://api.example.com/scim/v2/ServiceProviderConfig", spc["meta"].(map[string]any)["location"])
}

// --- discovery ---

func TestServiceProviderConfig(t *testing.T) {
	s := newTestServer(t, scim.WithLimits(scim.Limits{MaxResults: 2}))
	r := s.do("GET", "/ServiceProviderConfig", "")
	require.Equal(t, 200, r.Status)
	b := r.Body
	require.Equal(t, []any{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"}, b["schemas"])
	require.Equal(t, true, b["patch"].(map[string]any)["supported"])
	require.Equal(t, map[string]any{"supported": true, "maxOperations": 1000.0, "maxPayloadSize": float64(1 << 20)}, b["bulk"])
	require.Equal(t, map[string]any{"supported": true, "maxResults": 2.0}, b["filter"])
	require.Equal(t, true, b["sort"].(map[string]any)["supported"])
	require.Equal(t, true, b["etag"].(map[string]any)["supported"])
	require.Contains(t, b, "changePassword")
	schemes := b["authenticationSchemes"].([]any)
	require.NotEmpty(t, schemes)
	scheme := schemes[0].(map[string]any)
	require.Equal(t, "oauthbearertoken", scheme["type"])
	require.NotEmpty(t, scheme["name"])
	require.NotEmpty(t, scheme["description"])
	require.Equal(t, "ServiceProviderConfig", b["meta"].(map[string]any)["resourceType"])
	require.Equal(t, s.URL+"/ServiceProviderConfig", b["meta"].(map[string]any)["location"])
	requireNoNulls(t, "", b)

	// What it advertises is true: a page holds at most maxResults users.
	for i := range 3 {
		s.createUser("spc" + strconv.Itoa(i))
	}
	page := s.do("GET", "/Users?count=10", "").Body
	require.Equal(t, 3.0, page["totalResults"])
	require.Equal(t, 2.0, page["itemsPerPage"])
	d := newTestServer(t)
	require.Equal(t, 1000.0, d.do("GET", "/ServiceProviderConfig", "").Body["filter"].(map[string]any)["maxResults"])
}

func TestResourceTypes(t *testing.T) {
	s := newTestServer(t)
	list := s.do("GET", "/ResourceTypes", "")
	require.Equal(t, 200, list.Status)
	require.Equal(t, []any{listURN}, list.Body["schemas"])
	require.Equal(t, 2.0, list.Body["totalResults"])
	rts := resources(t, list.Body)
	require.Len(t, rts, 2) // memstore keeps groups: User and Group
	user := rts[0]
	require.Equal(t, []any{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, user["schemas"])
	require.Equal(t, "User", user["id"])
	require.Equal(t, "User", user["name"])
	require.Equal(t, "/Users", user["endpoint"])
	require.Equal(t, userURN, user["schema"])
	require.Equal(t, []any{map[string]any{"schema": enterpriseNS, "required": false}}, user["schemaExtensions"])
	require.Equal(t, s.URL+"/ResourceTypes/User", user["meta"].(map[string]any)["location"])
	requireNoNulls(t, "", list.Body)

	for _, name := range []string{"User", "user"} {
		one := s.do("GET", "/ResourceTypes/"+name, "")
		require.Equal(t, 200, one.Status)
		require.Equal(t, user, one.Body)
	}
	group := s.do("GET", "/ResourceTypes/group", "")
	require.Equal(t, 200, group.Status)
	require.Equal(t, rts[1], group.Body)
	require.Equal(t, "/Groups", group.Body["endpoint"])
	require.Equal(t, []any{}, group.Body["schemaExtensions"])

	// A Store that keeps no groups serves no Group type.
	u := serveHandler(t, scim.MustNew(usersOnly{memstore.New()}, scim.WithTokens(testToken)))
	require.Equal(t, 1.0, u.do("GET", "/ResourceTypes", "").Body["totalResults"])
	requireError(t, u.do("GET", "/ResourceTypes/Group", ""), 404, "")
	require.Equal(t, 2.0, u.do("GET", "/Schemas", "").Body["totalResults"])
	requireError(t, u.do("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group", ""), 404, "")
}

func TestSchemas(t *testing.T) {
	s := newTestServer(t, scim.WithPasswords(scim.PasswordsHashed)) // the password attribute is published then
	list := s.do("GET", "/Schemas", "")
	require.Equal(t, 200, list.Status)
	require.Equal(t, []any{listURN}, list.Body["schemas"])
	requireNoNulls(t, "", list.Body)
	all := resources(t, list.Body)
	require.Equal(t, 3.0, list.Body["totalResults"])
	require.Equal(t, 3.0, list.Body["itemsPerPage"])
	require.Len(t, all, 3)
	byID := map[string]map[string]any{}
	for _, sc := range all {
		require.Equal(t, []any{"urn:ietf:params:scim:schemas:core:2.0:Schema"}, sc["schemas"])
		require.Equal(t, s.URL+"/Schemas/"+sc["id"].(string), sc["meta"].(map[string]any)["location"])
		require.NotEmpty(t, sc["attributes"])
		byID[sc["id"].(string)] = sc
	}
	require.Contains(t, byID, userURN)
	require.Contains(t, byID, enterpriseNS)

	attr := func(sc map[string]any, name string) map[string]any {
		for _, a := range sc["attributes"].([]any) {
			if a := a.(map[string]any); a["name"] == name {
				return a
			}
		}
		t.Fatalf("no attribute %s in %s", name, sc["id"])
		return nil
	}
	userName := attr(byID[userURN], "userName")
	require.Equal(t, false, userName["caseExact"])
	require.Equal(t, "server", userName["uniqueness"])
	require.Equal(t, true, userName["required"])
	require.Equal(t, "string", userName["type"])
	password := attr(byID[userURN], "password")
	require.Equal(t, "never", password["returned"])
	require.Equal(t, "writeOnly", password["mutability"])
	require.Equal(t, "readOnly", attr(byID[userURN], "groups")["mutability"])
	for _, name := range []string{"employeeNumber", "costCenter", "organization", "division", "department", "manager"} {
		attr(byID[enterpriseNS], name)
	}
	for _, name := range []string{"name", "displayName", "nickName", "profileUrl", "title", "userType", "preferredLanguage",
		"locale", "timezone", "active", "emails", "phoneNumbers", "ims", "photos", "addresses", "entitlements", "roles", "x509Certificates"} {
		attr(byID[userURN], name)
	}

	// /Schemas/{urn}: each schema alone, the URN compared without case.
	for id, sc := range byID {
		for _, path := range []string{id, strings.ToUpper(id)} {
			one := s.do("GET", "/Schemas/"+path, "")
			require.Equal(t, 200, one.Status, path)
			require.Equal(t, sc, one.Body)
			requireNoNulls(t, "", one.Body)
		}
	}
	require.Contains(t, byID, groupURN)
	require.Equal(t, "server", attr(byID[groupURN], "displayName")["uniqueness"])
	attr(byID[groupURN], "members")
	requireError(t, s.do("GET", "/Schemas/nope", ""), 404, "")
}

// requireNoNulls fails if any value in v, at any depth, is JSON null: some clients (Entra's schema
// discovery among them) reject them.
func requireNoNulls(t *testing.T, at string, v any) {
	t.Helper()
	switch v := v.(type) {
	case nil:
		t.Fatalf("null at %s", at)
	case map[string]any:
		for k, e := range v {
			requireNoNulls(t, at+"."+k, e)
		}
	case []any:
		for i, e := range v {
			requireNoNulls(t, at+"["+strconv.Itoa(i)+"]", e)
		}
	}
}

// TestNoNullsInResources: nothing the handler answers about users holds a null either.
func TestNoNullsInResources(t *testing.T) {
	s := newTestServer(t)
	created := s.create(`{"userName":"nulls@example.com","name":null,"emails":null,"addresses":[null],
		"` + enterpriseNS + `":{"manager":null}}`)
	requireNoNulls(t, "", created)
	requireNoNulls(t, "", s.get(created["id"].(string)))
	requireNoNulls(t, "", s.do("GET", "/Users", "").Body)
	requireNoNulls(t, "", s.do("GET", "/Users?attributes=emails,name.givenName", "").Body)
}

// panicStore panics in Get, as a buggy host Store might.
type panicStore struct{ *memstore.Store }

func (panicStore) Get(context.Context, string) (*scim.User, error) { panic("host bug: nil map") }

// TestPanicRecovered: a panic while serving a request answers a SCIM 500 without details, is logged, and
// the server goes on serving.
func TestPanicRecovered(t *testing.T) {
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	h := scim.MustNew(panicStore{memstore.New()}, scim.WithTokens(testToken), scim.WithLogger(logger))
	srv := httptest.NewServer(h)
	defer srv.Close()
	s := &testServer{t: t, URL: srv.URL, token: testToken}
	r := s.do("GET", "/Users/abc", "")
	require.Equal(t, 500, r.Status)
	require.Equal(t, "500", r.Body["status"])
	require.NotContains(t, string(r.Raw), "nil map", "the panic's details stay in the log")
	require.Contains(t, logs.String(), "host bug: nil map")
	require.Equal(t, 200, s.do("GET", "/Users", "").Status, "the server goes on serving")
}

// TestListParamErrorDeterministic: with both startIndex and count malformed, the error names startIndex
// every time, for users and groups alike. The parameters were once read by ranging over a map, so which of
// the two a client was told about changed from request to request.
func TestListParamErrorDeterministic(t *testing.T) {
	h := scim.MustNew(memstore.New(), scim.WithTokens(testToken))
	for _, path := range []string{"/Users", "/Groups"} {
		for range 64 { // the old order was random per request: 64 agreeing answers by chance are 2^-63 likely
			r := httptest.NewRequest("GET", path+"?count=x&startIndex=y", nil)
			r.Header.Set("Authorization", "Bearer "+testToken)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			require.Equal(t, 400, w.Code, "%s", w.Body)
			var body map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
			require.Equal(t, "invalidValue", body["scimType"])
			require.Equal(t, "startIndex must be an integer", body["detail"], path)
		}
	}
}
