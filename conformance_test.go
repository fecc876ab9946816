package scim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// Conformance tests keyed to the RFCs (RFC 7643, RFC 7644, RFC 9865 and RFC 6750 for the bearer token),
// black-box through HTTP, each run against every Store: MemoryStore, sqlstore over SQLite, and sqlstore over
// PostgreSQL when SCIM_TEST_POSTGRES_DSN names a server (each test then gets its own fresh schema).
//
// Every requirement is a row {id, level, requirement, test}; its subtest is named after the section, the RFC
// 2119 level and a short name (RFC7644_3_4_2_2_MUST_InvalidFilter400), with one subtest per store below it:
//
//	go test -run 'TestConformance.*/RFC7644_3_4_2_2_' .
//	go test -run 'TestConformance.*/.*/postgres' .
//
// SCIM_CONFORMANCE_TABLE=path go test -run TestConformanceTable . writes the table of requirements (markdown)
// for the README.

// confReq is one requirement and the test that checks it.
type confReq struct {
	id    string // "RFC7644 §3.4.2.2"
	level string // the RFC 2119 keyword of the sentence checked: MUST (also SHALL, REQUIRED), SHOULD, MAY; LIB for a guarantee of this library
	short string // the end of the subtest name: InvalidFilter400
	req   string // the requirement in a few words, for the table
	test  func(t *testing.T, s *confServer)
}

// name is the subtest name: the section, the level and the short name.
func (r confReq) name() string {
	id := strings.NewReplacer(" §", "_", ".", "_", " ", "_").Replace(r.id)
	return id + "_" + r.level + "_" + r.short
}

// confGroup is the requirements one top-level test runs, and the file that defines them.
type confGroup struct {
	test, file string
	reqs       []confReq
}

// confGroups lists every group, in the order of the table.
func confGroups() []confGroup {
	return []confGroup{
		{"TestConformanceProtocol", "conformance_test.go", confProtocolReqs},
		{"TestConformanceResources", "conformance_resource_test.go", confResourceReqs},
		{"TestConformanceQuery", "conformance_query_test.go", confQueryReqs},
		{"TestConformancePatch", "conformance_patch_test.go", confPatchReqs},
		{"TestConformanceTenantIsolation", "conformance_tenant_test.go", confTenantReqs},
		{"TestConformanceConcurrency", "conformance_concurrency_test.go", confConcurrencyReqs},
	}
}

// confBug is a library bug a requirement's test found: the test is skipped, on the stores listed (all when
// none), with what is wrong and the exact fix. Delete the entry with the fix.
type confBug struct {
	stores []string
	msg    string
}

// confKnownBugs are the known bugs, by requirement name.
var confKnownBugs = map[string]confBug{}

// confRun runs every requirement against every store, in parallel.
func confRun(t *testing.T, reqs []confReq) {
	for _, r := range reqs {
		t.Run(r.name(), func(t *testing.T) {
			t.Parallel()
			for _, k := range confStoreKinds {
				t.Run(k.name, func(t *testing.T) {
					t.Parallel()
					if b, ok := confKnownBugs[r.name()]; ok && (b.stores == nil || slices.Contains(b.stores, k.name)) {
						t.Skip(b.msg)
					}
					r.test(t, confNewServer(t, k.name, k.open(t)))
				})
			}
		})
	}
}

func TestConformanceProtocol(t *testing.T) { confRun(t, confProtocolReqs) }

// TestConformanceTable checks the table of requirements (well-formed rows, unique names, every known bug on a
// row) and, when SCIM_CONFORMANCE_TABLE names a file, writes it there as markdown for the README: one row per
// requirement whose test passes, then the requirements whose tests are skipped for a known bug.
func TestConformanceTable(t *testing.T) {
	var table, gaps strings.Builder
	table.WriteString("| RFC section | level | requirement | test |\n|---|---|---|---|\n")
	gaps.WriteString("| RFC section | level | requirement | test | bug and fix |\n|---|---|---|---|---|\n")
	seen := map[string]bool{}
	rows, skipped := 0, 0
	for _, g := range confGroups() {
		for _, r := range g.reqs {
			name := r.name()
			require.Contains(t, []string{"MUST", "SHOULD", "MAY", "LIB"}, r.level, name)
			require.Regexp(t, `^RFC\d+ §[0-9.]+$`, r.id, name)
			require.Regexp(t, `^[A-Za-z0-9_]+$`, name)
			require.False(t, seen[name], "duplicate requirement %s", name)
			seen[name] = true
			require.NotEmpty(t, r.req, name)
			require.NotNil(t, r.test, name)
			cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
			link := fmt.Sprintf("[`%s/%s`](%s)", g.test, name, g.file)
			section := strings.Replace(r.id, "RFC", "RFC ", 1)
			b, bug := confKnownBugs[name]
			switch {
			case !bug:
				fmt.Fprintf(&table, "| %s | %s | %s | %s |\n", section, r.level, cell(r.req), link)
				rows++
			case b.stores != nil:
				fmt.Fprintf(&table, "| %s | %s | %s (passes on %s; skipped on %s, see below) | %s |\n", section, r.level, cell(r.req),
					strings.Join(slices.DeleteFunc(confStoreNames(), func(n string) bool { return slices.Contains(b.stores, n) }), ", "),
					strings.Join(b.stores, ", "), link)
				rows++
				fallthrough
			default:
				fmt.Fprintf(&gaps, "| %s | %s | %s | %s | %s |\n", section, r.level, cell(r.req), link, cell(strings.TrimPrefix(b.msg, "bug: ")))
				skipped++
			}
		}
	}
	for name := range confKnownBugs {
		require.True(t, seen[name], "a known bug names no requirement: %s", name)
	}
	t.Logf("%d requirements pass, %d are skipped for a known bug", rows, skipped)
	if path := os.Getenv("SCIM_CONFORMANCE_TABLE"); path != "" {
		doc := "Every row is a requirement of RFC 7643, RFC 7644, RFC 9865 or RFC 6750, checked black-box through HTTP " +
			"against `MemoryStore` (until the module split it ran over sqlstore on SQLite and PostgreSQL too; sqlstore now runs scimtest's kit in its own modules) " +
			"by `go test -run TestConformance .`. Level is the RFC 2119 keyword of the " +
			"sentence tested (MUST also stands for SHALL, REQUIRED, and for behaviour the RFC defines without a keyword); " +
			"LIB marks a guarantee of this library beyond the RFC's text (tenant isolation, concurrency).\n\n" +
			table.String()
		if len(confKnownBugs) > 0 {
			doc += "\n### Known gaps (tests skipped until fixed)\n\n" + gaps.String()
		}
		require.NoError(t, os.WriteFile(path, []byte(doc), 0o644))
	}
}

func confStoreNames() []string {
	var out []string
	for _, k := range confStoreKinds {
		out = append(out, k.name)
	}
	return out
}

// --- stores ---

type confStoreKind struct {
	name string
	open func(t *testing.T) scim.Store
}

var confStoreKinds = confStoreKindsWith()

// confStoreKindsWith returns the stores the suite runs against in this module: MemoryStore. sqlstore is a
// module of its own (sqlstore/), which this module must not require, not even for tests (a consumer's
// go mod tidy loads a dependency's tests); its stores pass scimtest's kit in its own tests.
func confStoreKindsWith() []confStoreKind {
	return []confStoreKind{
		{"memory", func(*testing.T) scim.Store { return scim.NewMemoryStore() }},
	}
}

// --- the server ---

// Bearer tokens of the conformance servers, and the tenants they act for.
const (
	confToken  = "conf-token"    // tenant ""
	confTokenA = "conf-tenant-a" // tenant "tenant-a"
	confTokenB = "conf-tenant-b" // tenant "tenant-b"
)

func confAuth(r *http.Request) (string, error) {
	switch tok, _ := scim.BearerToken(r); tok {
	case confToken:
		return "", nil
	case confTokenA:
		return "tenant-a", nil
	case confTokenB:
		return "tenant-b", nil
	}
	return "", scim.ErrUnauthorized
}

// confServer is a host app with the SCIM handler over one store mounted at /scim/v2, next to its own routes.
type confServer struct {
	t     *testing.T
	kind  string // memory, sqlite or postgres
	URL   string // the mount point: http://127.0.0.1:port/scim/v2
	Store scim.Store
	token string // the bearer token do sends
}

func confNewServer(t *testing.T, kind string, store scim.Store, opts ...scim.Option) *confServer {
	t.Helper()
	mux := http.NewServeMux()
	// Passwords hashed: the conformance of the writeOnly password attribute (and changePassword) is checked too.
	h := scim.NewHandler(store, append([]scim.Option{scim.WithAuthenticator(confAuth), scim.WithPasswords(scim.PasswordsHashed)}, opts...)...)
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "host page") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &confServer{t: t, kind: kind, URL: srv.URL + "/scim/v2", Store: store, token: confToken}
}

// with returns another server over the same store, whose handler has the options.
func (s *confServer) with(opts ...scim.Option) *confServer {
	return confNewServer(s.t, s.kind, s.Store, opts...)
}

// as returns the same server seen with another bearer token ("" sends no Authorization header).
func (s *confServer) as(token string) *confServer {
	c := *s
	c.token = token
	return &c
}

// confResp is one HTTP answer; Body is the decoded JSON object, nil when there is no body.
type confResp struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

func (r confResp) String() string { return strconv.Itoa(r.Status) + " " + string(r.Raw) }

// do sends a request to the mount point + path with the server's token and, when body is not empty,
// Content-Type application/scim+json; headers are name/value pairs that override those ("" removes one). It
// checks what holds for every answer (RFC 7644 §3.8, §3.12): a body is application/scim+json holding a JSON
// object; an error is a SCIM Error whose status is the HTTP status as a string.
func (s *confServer) do(method, path, body string, headers ...string) confResp {
	s.t.Helper()
	r, err := confSend(s.URL+path, method, body, s.token, headers...)
	require.NoError(s.t, err, "%s %s", method, path)
	return r
}

// confSend is do for any goroutine (and the sender of every HTTP test of the package): it returns what a
// require would have failed on as an error. Like Entra, it sends no User-Agent.
func confSend(u, method, body, token string, headers ...string) (confResp, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return confResp{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("User-Agent", "") // net/http then sends none
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if len(headers)%2 != 0 {
		return confResp{}, errors.New("headers come in pairs")
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
		return confResp{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return confResp{}, err
	}
	r := confResp{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
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
func (s *confServer) create(body string) map[string]any {
	s.t.Helper()
	r := s.do("POST", "/Users", body)
	require.Equal(s.t, http.StatusCreated, r.Status, "%s", r.Raw)
	return r.Body
}

// user creates a user with only a userName and returns its id.
func (s *confServer) user(userName string) string {
	s.t.Helper()
	return s.create(`{"userName":` + confJSON(userName) + `}`)["id"].(string)
}

// get returns GET /Users/{id}, which must answer 200.
func (s *confServer) get(id string) map[string]any {
	s.t.Helper()
	r := s.do("GET", "/Users/"+id, "")
	require.Equal(s.t, http.StatusOK, r.Status, "%s", r.Raw)
	return r.Body
}

// list returns GET /Users?query, which must answer 200.
func (s *confServer) list(query string) map[string]any {
	s.t.Helper()
	r := s.do("GET", "/Users?"+query, "")
	require.Equal(s.t, http.StatusOK, r.Status, "%s", r.Raw)
	return r.Body
}

// filter lists the users matching the filter (URL-encoded here) and returns their userNames.
func (s *confServer) filter(f string) []string {
	s.t.Helper()
	return confNames(s.t, s.list("filter="+url.QueryEscape(f)))
}

// patch sends a PatchOp of the operations (JSON objects) to the user.
func (s *confServer) patch(id string, ops ...string) confResp {
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
func confError(t *testing.T, r confResp, status int, scimType string) {
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

// ==================================================================================================
// Protocol: data formats (§3.8), errors (§3.12), authentication (RFC 6750), Bulk (§3.7), /Me (§3.11) and
// discovery (§4).
// ==================================================================================================

var confProtocolReqs = []confReq{
	// --- §3.8 data input/output formats ---
	{"RFC7644 §3.8", "MUST", "ResponsesAreSCIMJSON",
		"every answer with a body, errors included, is `application/scim+json` JSON",
		func(t *testing.T, s *confServer) {
			id := s.user("format@example.com")
			for _, rt := range confRoutes {
				path := strings.ReplaceAll(rt.path, "{id}", id)
				for _, accept := range []string{"", "application/scim+json", "application/json", "*/*"} {
					r := s.do(rt.method, path, rt.body, "Accept", accept) // do checks the Content-Type of every body
					if rt.method != "DELETE" {
						require.NotEmpty(t, r.Raw, "%s %s", rt.method, path)
					}
					if rt.method == "DELETE" && r.Status == 204 {
						id = s.user("format@example.com")
						path = strings.ReplaceAll(rt.path, "{id}", id)
					}
				}
			}
			// Also from a user missing, a method not allowed, a body too big, an unknown media type.
			for _, r := range []confResp{
				s.do("GET", "/Users/missing", ""),
				s.do("DELETE", "/Schemas", ""),
				s.with(scim.WithMaxBodyBytes(64)).do("POST", "/Users", `{"userName":"`+strings.Repeat("x", 100)+`"}`),
				s.do("POST", "/Users", `{"userName":"x"}`, "Content-Type", "text/plain"),
			} {
				require.GreaterOrEqual(t, r.Status, 400)
			}
		}},
	{"RFC7644 §3.8", "MUST", "AcceptsSCIMJSON",
		"requests of media type `application/scim+json` (with or without charset) are accepted; the `Accept: application/scim+json` header is supported",
		func(t *testing.T, s *confServer) {
			id := s.user("accept@example.com")
			for i, ct := range []string{"application/scim+json", "application/scim+json; charset=utf-8"} {
				n := strconv.Itoa(i)
				for _, rq := range []struct{ method, path, body string }{
					{"POST", "/Users", `{"userName":"ct` + n + `@example.com"}`},
					{"PUT", "/Users/" + id, `{"userName":"accept@example.com","title":"t` + n + `"}`},
					{"PATCH", "/Users/" + id, confPatchOp(`{"op":"replace","path":"nickName","value":"n` + n + `"}`)},
					{"POST", "/Users/.search", `{"filter":"userName pr"}`},
				} {
					r := s.do(rq.method, rq.path, rq.body, "Content-Type", ct, "Accept", "application/scim+json")
					require.Contains(t, []int{200, 201}, r.Status, "%s %s %s: %s", ct, rq.method, rq.path, r.Raw)
				}
			}
			require.Equal(t, "t1", s.get(id)["title"])
		}},
	{"RFC7644 §3.8", "SHOULD", "AcceptsApplicationJSON",
		"`application/json` is accepted as request media type and `Accept: application/json` is supported",
		func(t *testing.T, s *confServer) {
			r := s.do("POST", "/Users", `{"userName":"json@example.com"}`, "Content-Type", "application/json", "Accept", "application/json")
			require.Equal(t, 201, r.Status, "%s", r.Raw)
			id := r.Body["id"].(string)
			r = s.do("PATCH", "/Users/"+id, confPatchOp(`{"op":"add","path":"title","value":"T"}`), "Content-Type", "application/json; charset=utf-8")
			require.Equal(t, 200, r.Status, "%s", r.Raw)
			require.Equal(t, "T", s.do("GET", "/Users/"+id, "", "Accept", "application/json").Body["title"])
		}},
	{"RFC7644 §3.8", "MUST", "UTF8",
		"JSON in UTF-8 is accepted and answered: non-ASCII values round-trip and filter",
		func(t *testing.T, s *confServer) {
			name := "Zoë Ångström 日本語 🙂"
			u := s.create(`{"userName":"zoë@exämple.com","displayName":` + confJSON(name) + `,"name":{"familyName":"Ångström"}}`)
			require.Equal(t, name, u["displayName"])
			require.Equal(t, "zoë@exämple.com", u["userName"])
			require.Equal(t, name, s.get(u["id"].(string))["displayName"])
			require.Equal(t, []string{"zoë@exämple.com"}, s.filter(`displayName eq "`+name+`"`))
			require.Equal(t, []string{"zoë@exämple.com"}, s.filter(`name.familyName sw "Ång"`))
			require.Equal(t, []string{"zoë@exämple.com"}, s.filter(`userName eq "ZOË@EXÄMPLE.COM"`), "caseExact false folds non-ASCII too")
		}},

	// --- §3.12 errors ---
	{"RFC7644 §3.12", "MUST", "ErrorResponse",
		"errors carry the Error schema and `status` as a JSON string equal to the HTTP status, with the §3.12 scimType where one applies",
		func(t *testing.T, s *confServer) {
			id := s.user("err@example.com")
			s.user("taken@example.com")
			for _, tt := range []struct {
				name, method, path, body string
				status                   int
				scimType                 string
			}{
				{"malformed JSON", "POST", "/Users", `{"userName":`, 400, "invalidSyntax"},
				{"not an object", "POST", "/Users", `["x"]`, 400, "invalidSyntax"},
				{"malformed PATCH", "PATCH", "/Users/" + id, `{"Operations":[`, 400, "invalidSyntax"},
				{"wrong type", "POST", "/Users", `{"userName":"x","active":"maybe"}`, 400, "invalidValue"},
				{"required missing", "POST", "/Users", `{"displayName":"x"}`, 400, "invalidValue"},
				{"invalid filter", "GET", "/Users?filter=" + url.QueryEscape(`userName xx "a"`), "", 400, "invalidFilter"},
				{"invalid path", "PATCH", "/Users/" + id, confPatchOp(`{"op":"replace","path":"noSuchAttribute","value":"x"}`), 400, "invalidPath"},
				{"no target", "PATCH", "/Users/" + id, confPatchOp(`{"op":"remove"}`), 400, "noTarget"},
				{"mutability", "PATCH", "/Users/" + id, confPatchOp(`{"op":"replace","path":"id","value":"x"}`), 400, "mutability"},
				{"uniqueness", "POST", "/Users", `{"userName":"TAKEN@example.com"}`, 409, "uniqueness"},
				{"not found", "GET", "/Users/00000000-0000-4000-8000-000000000000", "", 404, ""},
				{"precondition", "PUT", "/Users/" + id, `{"userName":"err@example.com"}`, 412, ""},
				{"not implemented", "POST", "/Bulk", `{}`, 501, ""},
			} {
				var r confResp
				if tt.status == 412 {
					r = s.do(tt.method, tt.path, tt.body, "If-Match", `W/"stale"`)
				} else {
					r = s.do(tt.method, tt.path, tt.body)
				}
				confError(t, r, tt.status, tt.scimType) // do checked the schema and the string status
				require.NotEmpty(t, r.Body["detail"], tt.name)
				require.IsType(t, "", r.Body["detail"], tt.name)
			}
			require.Equal(t, 2.0, s.list("")["totalResults"], "no error changed anything")
		}},

	// --- RFC 6750: bearer tokens ---
	{"RFC6750 §3", "MUST", "WWWAuthenticateOn401",
		"a request without a valid bearer token gets 401 with `WWW-Authenticate: Bearer`, on every route, and changes nothing",
		func(t *testing.T, s *confServer) {
			id := s.user("auth@example.com")
			for _, rt := range confRoutes {
				path := strings.ReplaceAll(rt.path, "{id}", id)
				for _, auth := range []string{"", "Bearer wrong", "Bearer " + confToken + "x", "Basic Y29uZjp0b2tlbg==", confToken, "Bearer"} {
					r := s.as("").do(rt.method, path, rt.body, "Authorization", auth)
					confError(t, r, 401, "")
					require.Regexp(t, `^Bearer( |$)`, r.Header.Get("WWW-Authenticate"), "%s %s %q", rt.method, path, auth)
				}
			}
			require.Equal(t, 1.0, s.list("")["totalResults"])
			require.Equal(t, "auth@example.com", s.get(id)["userName"])
			require.Equal(t, 200, s.as("").do("GET", "/Users", "", "Authorization", "bEaReR "+confToken).Status, "the scheme is compared without case")
		}},
	{"RFC6750 §3", "SHOULD", "NoErrorCodeWithoutCredentials",
		"a request with no credentials at all gets a challenge without an `error` code",
		func(t *testing.T, s *confServer) {
			r := s.as("").do("GET", "/Users", "")
			confError(t, r, 401, "")
			require.NotContains(t, r.Header.Get("WWW-Authenticate"), "error=")
		}},
	{"RFC6750 §3", "SHOULD", "InvalidTokenErrorCode",
		"a request whose bearer token is refused gets `error=\"invalid_token\"` in the challenge",
		func(t *testing.T, s *confServer) {
			r := s.as("wrong").do("GET", "/Users", "")
			confError(t, r, 401, "")
			require.Contains(t, r.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
		}},

	// --- §3.7 Bulk, §3.11 /Me ---
	{"RFC7644 §3.7", "MUST", "BulkUnsupportedAdvertised",
		"Bulk is not supported, and says so: `bulk.supported` false in /ServiceProviderConfig and 501 on `/Bulk`",
		func(t *testing.T, s *confServer) {
			bulk, ok := s.do("GET", "/ServiceProviderConfig", "").Body["bulk"].(map[string]any)
			require.True(t, ok)
			require.Equal(t, false, bulk["supported"])
			require.Contains(t, bulk, "maxOperations")
			require.Contains(t, bulk, "maxPayloadSize")
			r := s.do("POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
				{"method":"POST","path":"/Users","bulkId":"q1","data":{"userName":"bulk@example.com"}}]}`)
			confError(t, r, 501, "")
			require.Equal(t, 0.0, s.list("")["totalResults"], "nothing of the Bulk request was done")
		}},
	{"RFC7644 §3.11", "SHOULD", "MeNotSupported501",
		"`/Me`, not supported, answers 501 Not Implemented",
		func(t *testing.T, s *confServer) {
			for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
				body := ""
				if m != "GET" && m != "DELETE" {
					body = `{}`
				}
				confError(t, s.do(m, "/Me", body), 501, "")
			}
		}},

	// --- §4 discovery ---
	{"RFC7644 §4", "MUST", "ServiceProviderConfig",
		"`/ServiceProviderConfig` answers the SPC schema with every REQUIRED attribute of RFC 7643 §5",
		func(t *testing.T, s *confServer) {
			r := s.do("GET", "/ServiceProviderConfig", "")
			require.Equal(t, 200, r.Status)
			b := r.Body
			require.Equal(t, []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"}, confStrings(b["schemas"]))
			for _, f := range []string{"patch", "changePassword", "sort", "etag"} {
				require.IsType(t, true, b[f].(map[string]any)["supported"], f)
			}
			require.IsType(t, true, b["bulk"].(map[string]any)["supported"])
			require.IsType(t, 0.0, b["bulk"].(map[string]any)["maxOperations"])
			require.IsType(t, 0.0, b["bulk"].(map[string]any)["maxPayloadSize"])
			require.IsType(t, true, b["filter"].(map[string]any)["supported"])
			require.IsType(t, 0.0, b["filter"].(map[string]any)["maxResults"])
			schemes, _ := b["authenticationSchemes"].([]any)
			require.NotEmpty(t, schemes)
			for _, sc := range schemes {
				sc := sc.(map[string]any)
				for _, f := range []string{"type", "name", "description"} {
					require.NotEmpty(t, sc[f], f)
				}
			}
			require.Equal(t, "oauthbearertoken", schemes[0].(map[string]any)["type"])
			requireNoNulls(t, "", b)
		}},
	{"RFC7643 §5", "MUST", "ServiceProviderConfigTruthful",
		"what /ServiceProviderConfig advertises is what the server does (patch, sort, etag, changePassword, filter.maxResults, bulk, cursor pagination)",
		func(t *testing.T, s *confServer) {
			s = s.with(scim.WithMaxResults(2))
			b := s.do("GET", "/ServiceProviderConfig", "").Body
			feature := func(name string) bool { return b[name].(map[string]any)["supported"].(bool) }
			require.Equal(t, 2.0, b["filter"].(map[string]any)["maxResults"])
			for i := range 3 {
				s.user("spc" + strconv.Itoa(i) + "@example.com")
			}
			page := s.list("count=10")
			require.Len(t, confResources(t, page), 2, "at most filter.maxResults per page")
			require.Equal(t, 3.0, page["totalResults"])
			require.True(t, feature("filter"))
			require.Len(t, s.filter(`userName sw "spc1"`), 1)
			id := confResources(t, page)[0]["id"].(string)
			if feature("patch") {
				require.Equal(t, 200, s.patch(id, `{"op":"add","path":"title","value":"T"}`).Status)
			}
			if feature("sort") {
				require.Equal(t, []string{"spc2@example.com", "spc1@example.com"}, confNames(t, s.list("sortBy=userName&sortOrder=descending")))
			}
			if feature("etag") {
				r := s.do("GET", "/Users/"+id, "")
				require.NotEmpty(t, r.Header.Get("ETag"))
				confError(t, s.do("DELETE", "/Users/"+id, "", "If-Match", `W/"stale"`), 412, "")
			}
			if feature("changePassword") {
				require.Equal(t, 200, s.patch(id, `{"op":"replace","path":"password","value":"n3w-Secret"}`).Status)
			}
			require.False(t, feature("bulk"))
			confError(t, s.do("POST", "/Bulk", `{}`), 501, "")
			p := b["pagination"].(map[string]any)
			require.Equal(t, true, p["index"])
			require.Equal(t, 2.0, p["maxPageSize"])
			_, cursors := s.Store.(scim.CursorLister)
			require.Equal(t, cursors, p["cursor"])
			if p["cursor"] == true {
				first := s.list("cursor=&count=1")
				require.NotEmpty(t, first["nextCursor"])
			}
		}},
	{"RFC7644 §4", "MUST", "ResourceTypes",
		"`/ResourceTypes` answers a ListResponse of ResourceType resources (User, its endpoint, schema and extension), `/ResourceTypes/User` the one",
		func(t *testing.T, s *confServer) {
			r := s.do("GET", "/ResourceTypes", "")
			require.Equal(t, 200, r.Status)
			require.Equal(t, []string{listURN}, confStrings(r.Body["schemas"]))
			rts := confResources(t, r.Body)
			// User, and Group when the Store keeps groups (a GroupStore).
			groups := len(rts) == 2
			require.Equal(t, float64(len(rts)), r.Body["totalResults"])
			require.Contains(t, []int{1, 2}, len(rts))
			u := rts[0]
			require.Equal(t, []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, confStrings(u["schemas"]))
			require.Equal(t, "User", u["name"])
			require.Equal(t, "/Users", u["endpoint"])
			require.Equal(t, userURN, u["schema"])
			require.Equal(t, confList{confObj{"schema": enterpriseNS, "required": false}}, u["schemaExtensions"])
			require.Equal(t, s.URL+"/ResourceTypes/User", confMeta(t, u)["location"])
			require.Equal(t, "ResourceType", confMeta(t, u)["resourceType"])
			one := s.do("GET", "/ResourceTypes/User", "")
			require.Equal(t, 200, one.Status)
			require.Equal(t, u, one.Body, "the single object, not a ListResponse")
			if groups {
				g := rts[1]
				require.Equal(t, "Group", g["name"])
				require.Equal(t, "/Groups", g["endpoint"])
				require.Equal(t, "urn:ietf:params:scim:schemas:core:2.0:Group", g["schema"])
				require.Equal(t, g, s.do("GET", "/ResourceTypes/Group", "").Body)
			} else {
				confError(t, s.do("GET", "/ResourceTypes/Group", ""), 404, "")
			}
			requireNoNulls(t, "", r.Body)
		}},
	{"RFC7644 §4", "MUST", "Schemas",
		"`/Schemas` answers a ListResponse of the User and enterprise schemas, each with its attributes' characteristics (RFC 7643 §7); `/Schemas/{urn}` the one",
		func(t *testing.T, s *confServer) {
			r := s.do("GET", "/Schemas", "")
			require.Equal(t, 200, r.Status)
			require.Equal(t, []string{listURN}, confStrings(r.Body["schemas"]))
			all := confResources(t, r.Body)
			require.Contains(t, []int{2, 3}, len(all), "User, enterprise User, and Group when the Store keeps groups")
			require.Equal(t, float64(len(all)), r.Body["totalResults"])
			ids := []string{}
			for _, sc := range all {
				ids = append(ids, sc["id"].(string))
				require.Equal(t, []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"}, confStrings(sc["schemas"]))
				require.NotEmpty(t, sc["name"])
				require.Equal(t, "Schema", confMeta(t, sc)["resourceType"])
				for _, a := range sc["attributes"].([]any) {
					confCheckAttrDef(t, a.(map[string]any))
				}
				one := s.do("GET", "/Schemas/"+sc["id"].(string), "")
				require.Equal(t, 200, one.Status)
				require.Equal(t, sc, one.Body)
			}
			if len(all) == 3 {
				require.ElementsMatch(t, []string{userURN, enterpriseNS, "urn:ietf:params:scim:schemas:core:2.0:Group"}, ids)
			} else {
				require.ElementsMatch(t, []string{userURN, enterpriseNS}, ids)
				confError(t, s.do("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group", ""), 404, "")
			}
			requireNoNulls(t, "", r.Body)
		}},
	{"RFC7644 §4", "MUST", "DiscoveryIgnoresQueryParameters",
		"on /Schemas and /ResourceTypes, sorting and pagination parameters are ignored (SHALL)",
		func(t *testing.T, s *confServer) {
			for _, p := range []string{"/Schemas", "/ResourceTypes"} {
				full := s.do("GET", p, "")
				for _, q := range []string{"?count=1", "?startIndex=2", "?sortBy=name&sortOrder=descending", "?count=0&startIndex=5&attributes=id"} {
					r := s.do("GET", p+q, "")
					require.Equal(t, 200, r.Status, "%s%s", p, q)
					require.Equal(t, full.Body, r.Body, "%s%s", p, q)
				}
			}
		}},
	{"RFC7644 §4", "SHOULD", "DiscoveryFilter403",
		"a `filter` on /Schemas or /ResourceTypes is answered 403, so that no client assumes it matched",
		func(t *testing.T, s *confServer) {
			for _, p := range []string{"/Schemas", "/ResourceTypes"} {
				confError(t, s.do("GET", p+"?filter="+url.QueryEscape(`id eq "x"`), ""), 403, "")
			}
		}},
	{"RFC7644 §4", "MUST", "DiscoveryReadOnly405",
		"discovery endpoints are read-only: writes get 405 with an `Allow: GET` header (RFC 9110 §15.5.6 MUST)",
		func(t *testing.T, s *confServer) {
			for _, p := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/User", "/Schemas", "/Schemas/" + userURN} {
				for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
					body := ""
					if m != "DELETE" {
						body = `{}`
					}
					r := s.do(m, p, body)
					confError(t, r, 405, "")
					require.Equal(t, "GET", r.Header.Get("Allow"), "%s %s", m, p)
				}
			}
			require.Equal(t, 200, s.do("GET", "/ServiceProviderConfig", "").Status)
		}},
	{"RFC7643 §7", "MUST", "SchemaCharacteristics",
		"the published User schema states userName `required`, `caseExact` false, `uniqueness` server; id `readOnly`/`always`; password `writeOnly`/`never`; groups `readOnly`",
		func(t *testing.T, s *confServer) {
			user := s.do("GET", "/Schemas/"+userURN, "").Body
			attr := func(name string) map[string]any {
				for _, a := range user["attributes"].([]any) {
					if a := a.(map[string]any); a["name"] == name {
						return a
					}
				}
				t.Fatalf("no attribute %s", name)
				return nil
			}
			un := attr("userName")
			require.Equal(t, true, un["required"])
			require.Equal(t, false, un["caseExact"])
			require.Equal(t, "server", un["uniqueness"])
			require.Equal(t, "string", un["type"])
			pw := attr("password")
			require.Equal(t, "writeOnly", pw["mutability"])
			require.Equal(t, "never", pw["returned"])
			require.Equal(t, "readOnly", attr("groups")["mutability"])
			emails := attr("emails")
			require.Equal(t, true, emails["multiValued"])
			require.Equal(t, "complex", emails["type"])
		}},
}

// confCheckAttrDef checks one attribute definition of /Schemas (RFC 7643 §7) and its sub-attributes.
func confCheckAttrDef(t *testing.T, a map[string]any) {
	t.Helper()
	name, _ := a["name"].(string)
	require.NotEmpty(t, name)
	require.Contains(t, []string{"string", "boolean", "decimal", "integer", "dateTime", "reference", "complex", "binary"}, a["type"], name)
	require.IsType(t, true, a["multiValued"], name)
	require.IsType(t, true, a["required"], name)
	require.IsType(t, true, a["caseExact"], name)
	require.Contains(t, []string{"readOnly", "readWrite", "immutable", "writeOnly"}, a["mutability"], name)
	require.Contains(t, []string{"always", "never", "default", "request"}, a["returned"], name)
	require.Contains(t, []string{"none", "server", "global"}, a["uniqueness"], name)
	if a["type"] == "complex" {
		subs, _ := a["subAttributes"].([]any)
		require.NotEmpty(t, subs, name)
		for _, sa := range subs {
			confCheckAttrDef(t, sa.(map[string]any))
		}
	}
}

// confUnreserved is RFC 3986's unreserved set, the only characters of a cursor (RFC 9865 §2).
var confUnreserved = regexp.MustCompile(`^[A-Za-z0-9\-._~]+$`)
