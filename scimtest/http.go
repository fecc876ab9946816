package scimtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
)

// Bearer tokens of the conformance servers, and the tenants they act for (HandlerOptions.Tenants).
const (
	confToken  = "conf-token"    // tenant "", or the host's first tenant
	confTokenA = "conf-tenant-a" // tenant "tenant-a", or the host's first tenant
	confTokenB = "conf-tenant-b" // tenant "tenant-b", or the host's second tenant
)

// auth is the suite's authenticator: the tokens' tenants as the host named them, or the suite's own.
func (run *handlerRun) auth(r *http.Request) (string, error) {
	def, a, b := "", "tenant-a", "tenant-b"
	if t := run.opts.Tenants; t != [2]string{} {
		def, a, b = t[0], t[0], t[1]
	}
	switch tok, _ := scim.BearerToken(r); tok {
	case confToken:
		return def, nil
	case confTokenA:
		return a, nil
	case confTokenB:
		return b, nil
	}
	return "", scim.ErrUnauthorized
}

// tenant is the tenant of confToken, for a check that calls the Store directly.
func (s *server) tenant() string { return s.run.opts.Tenants[0] }

// server is a host app with the SCIM handler over one store mounted at /scim/v2, next to its own routes.
type server struct {
	t     *testing.T
	run   *handlerRun // the newStore and options TestHandler was given
	URL   string      // the mount point: http://127.0.0.1:port/scim/v2
	Store scim.Store
	token string // the bearer token do sends
}

// handlerRun is what TestHandler was given: how to make a Store, and the host's options.
type handlerRun struct {
	newStore func(t *testing.T) scim.Store
	opts     HandlerOptions
}

// newServer mounts a handler over store with the suite's authenticator, hashed passwords (so that the
// writeOnly password attribute and changePassword are checked too), the host's options, then opts.
func (run *handlerRun) newServer(t *testing.T, store scim.Store, opts ...scim.Option) *server {
	t.Helper()
	mux := http.NewServeMux()
	all := append([]scim.Option{scim.WithAuthenticator(run.auth), scim.WithPasswords(scim.PasswordsHashed)}, run.opts.Options...)
	h := scim.MustNew(store, append(all, opts...)...)
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "host page") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &server{t: t, run: run, URL: srv.URL + "/scim/v2", Store: store, token: confToken}
}

// fresh returns a server over a new Store from newStore, independent of s's.
func (s *server) fresh() *server {
	s.t.Helper()
	return s.run.newServer(s.t, s.run.newStore(s.t))
}

// with returns another server over the same store, whose handler has the options.
func (s *server) with(opts ...scim.Option) *server {
	return s.run.newServer(s.t, s.Store, opts...)
}

// as returns the same server seen with another bearer token ("" sends no Authorization header).
func (s *server) as(token string) *server {
	c := *s
	c.token = token
	return &c
}

// response is one HTTP answer; Body is the decoded JSON object, nil when there is no body.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

func (r response) String() string { return strconv.Itoa(r.Status) + " " + string(r.Raw) }

// do sends a request to the mount point + path with the server's token and, when body is not empty,
// Content-Type application/scim+json; headers are name/value pairs that override those ("" removes one). It
// checks what holds for every answer (RFC 7644 §3.8, §3.12): a body is application/scim+json holding a JSON
// object; an error is a SCIM Error whose status is the HTTP status as a string.
func (s *server) do(method, path, body string, headers ...string) response {
	s.t.Helper()
	r, err := confSend(s.URL+path, method, body, s.token, headers...)
	require.NoError(s.t, err, "%s %s", method, path)
	return r
}

// confSend is do for any goroutine: it returns what a
// require would have failed on as an error. Like Entra, it sends no User-Agent, and like Entra and Okta it
// sends a request again after a 429: the suite's parallel checks may exceed a host's tenant limits, whose
// answer is "later", not a wrong one. It waits what Retry-After asks, at most 100 ms a time (the suite
// checks answers, not the pace), for 30 s at most.
func confSend(u, method, body, token string, headers ...string) (response, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := confSendOnce(u, method, body, token, headers...)
		if r.Status != http.StatusTooManyRequests || time.Now().After(deadline) {
			return r, err
		}
		wait := 100 * time.Millisecond
		if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err == nil && secs >= 0 {
			wait = min(wait, time.Duration(secs)*time.Second)
		}
		time.Sleep(wait)
	}
}

// confSendOnce sends one request for confSend.
func confSendOnce(u, method, body, token string, headers ...string) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return response{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("User-Agent", "") // net/http then sends none
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if len(headers)%2 != 0 {
		return response{}, errors.New("headers come in pairs")
	}
	for i := 0; i < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
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
		if !slices.Equal(confStrings(r.Body["schemas"]), []string{errorURN}) {
			return r, fmt.Errorf("%s %s: error schemas %v", method, u, r.Body["schemas"])
		}
		if r.Body["status"] != strconv.Itoa(r.Status) {
			return r, fmt.Errorf("%s %s: error status %#v, want the string %q", method, u, r.Body["status"], strconv.Itoa(r.Status))
		}
	}
	return r, nil
}

// --- helpers ---

// create POSTs a user, which must answer 201, and returns the answer's body.
func (s *server) create(body string) map[string]any {
	s.t.Helper()
	r := s.do("POST", "/Users", body)
	require.Equal(s.t, http.StatusCreated, r.Status, "%s", r.Raw)
	return r.Body
}

// user creates a user with only a userName and returns its id.
func (s *server) user(userName string) string {
	s.t.Helper()
	return s.create(`{"userName":` + confJSON(userName) + `}`)["id"].(string)
}

// get returns GET /Users/{id}, which must answer 200.
func (s *server) get(id string) map[string]any {
	s.t.Helper()
	r := s.do("GET", "/Users/"+id, "")
	require.Equal(s.t, http.StatusOK, r.Status, "%s", r.Raw)
	return r.Body
}

// list returns GET /Users?query, which must answer 200.
func (s *server) list(query string) map[string]any {
	s.t.Helper()
	r := s.do("GET", "/Users?"+query, "")
	require.Equal(s.t, http.StatusOK, r.Status, "%s", r.Raw)
	return r.Body
}

// filter lists the users matching the filter (URL-encoded here) and returns their userNames.
func (s *server) filter(f string) []string {
	s.t.Helper()
	return confNames(s.t, s.list("filter="+url.QueryEscape(f)))
}

// patch sends a PatchOp of the operations (JSON objects) to the user.
func (s *server) patch(id string, ops ...string) response {
	s.t.Helper()
	return s.do("PATCH", "/Users/"+id, confPatchOp(ops...))
}

func confPatchOp(ops ...string) string {
	return `{"schemas":["` + patchOpURN + `"],"Operations":[` + strings.Join(ops, ",") + `]}`
}

func confJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// confError asserts a SCIM error answer of the status and scimType ("" for none).
func confError(t *testing.T, r response, status int, scimType string) {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r.Raw)
	if scimType == "" {
		require.NotContains(t, r.Body, "scimType", "%s", r.Raw)
	} else {
		require.Equal(t, scimType, r.Body["scimType"], "%s", r.Raw)
	}
}

// confResources returns the Resources of a ListResponse, which must be an array.
func confResources(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	list, ok := body["Resources"].([]any)
	require.True(t, ok, "Resources must be an array: %v", body)
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = e.(map[string]any)
	}
	return out
}

// confNames returns the userNames of a ListResponse's Resources, in order.
func confNames(t *testing.T, body map[string]any) []string {
	t.Helper()
	out := []string{}
	for _, u := range confResources(t, body) {
		out = append(out, u["userName"].(string))
	}
	return out
}

// confStrings returns a JSON array of strings as a slice (nil when v is not one).
func confStrings(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

func confKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// confMeta returns the meta object of a resource.
func confMeta(t *testing.T, u map[string]any) map[string]any {
	t.Helper()
	m, ok := u["meta"].(map[string]any)
	require.True(t, ok, "no meta in %v", u)
	return m
}

// confObj and confList shorten expected JSON values.
type (
	confObj  = map[string]any
	confList = []any
)

// confSleep waits so that the next write gets a later millisecond time stamp than the last.
func confSleep() { time.Sleep(3 * time.Millisecond) }

// confRoutes is one request of each route the handler serves or refuses; {id} stands for a user id.
var confRoutes = []struct{ method, path, body string }{
	{"GET", "/Users", ""},
	{"POST", "/Users", `{"userName":"route@example.com"}`},
	{"POST", "/Users/.search", `{"filter":"userName pr"}`},
	{"GET", "/Users/{id}", ""},
	{"PUT", "/Users/{id}", `{"userName":"route@example.com"}`},
	{"PATCH", "/Users/{id}", `{"schemas":["` + patchOpURN + `"],"Operations":[{"op":"add","path":"title","value":"x"}]}`},
	{"DELETE", "/Users/{id}", ""},
	{"GET", "/ServiceProviderConfig", ""},
	{"GET", "/ResourceTypes", ""},
	{"GET", "/ResourceTypes/User", ""},
	{"GET", "/Schemas", ""},
	{"GET", "/Schemas/" + userURN, ""},
	{"POST", "/Bulk", `{}`},
	{"GET", "/Me", ""},
	{"GET", "/Nope", ""},
}

// The URNs of RFC 7643 and RFC 7644 the requirements name.
const (
	userURN      = "urn:ietf:params:scim:schemas:core:2.0:User"
	enterpriseNS = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	listURN      = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	errorURN     = "urn:ietf:params:scim:api:messages:2.0:Error"
	patchOpURN   = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// requireNoNulls fails the test at the first JSON null in v (RFC 7643 §2.5: unassigned attributes are
// omitted, never null); at names where v is.
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

// fullUser sets every writable attribute of the core User schema and the enterprise extension.
const fullUser = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "externalId": "ext-1",
  "userName": "bjensen@example.com",
  "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara",
           "middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
  "displayName": "Babs Jensen",
  "nickName": "Babs",
  "profileUrl": "https://login.example.com/bjensen",
  "title": "Tour Guide",
  "userType": "Employee",
  "preferredLanguage": "en-US",
  "locale": "en-US",
  "timezone": "America/Los_Angeles",
  "active": true,
  "password": "t1meMa$heen",
  "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
             {"value": "babs@jensen.org", "type": "home"}],
  "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
  "ims": [{"value": "someaimhandle", "type": "aim"}],
  "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
  "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
                 "region": "CA", "postalCode": "91608", "country": "USA", "formatted": "100 Universal City Plaza", "primary": true}],
  "entitlements": [{"value": "delete-users"}],
  "roles": [{"value": "admin", "display": "Administrator"}],
  "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
    "division": "Theme Park", "department": "Tour Operations",
    "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
  }
}`
