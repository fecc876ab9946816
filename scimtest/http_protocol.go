package scimtest

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// ==================================================================================================
// Protocol: data formats (§3.8), errors (§3.12), authentication (RFC 6750), Bulk (§3.7), /Me (§3.11) and
// discovery (§4).
// ==================================================================================================

var protocolReqs = []requirement{
	// --- §3.8 data input/output formats ---
	{"RFC7644 §3.8", "MUST", "ResponsesAreSCIMJSON",
		"every answer with a body, errors included, is `application/scim+json` JSON",
		checkResponsesAreSCIMJSON},
	{"RFC7644 §3.8", "MUST", "AcceptsSCIMJSON",
		"requests of media type `application/scim+json` (with or without charset) are accepted; the `Accept: application/scim+json` header is supported",
		checkAcceptsSCIMJSON},
	{"RFC7644 §3.8", "SHOULD", "AcceptsApplicationJSON",
		"`application/json` is accepted as request media type and `Accept: application/json` is supported",
		checkAcceptsApplicationJSON},
	{"RFC7644 §3.8", "MUST", "UTF8",
		"JSON in UTF-8 is accepted and answered: non-ASCII values round-trip and filter",
		checkUTF8},

	// --- §3.12 errors ---
	{"RFC7644 §3.12", "MUST", "ErrorResponse",
		"errors carry the Error schema and `status` as a JSON string equal to the HTTP status, with the §3.12 scimType where one applies",
		checkErrorResponse},

	// --- RFC 6750: bearer tokens ---
	{"RFC6750 §3", "MUST", "WWWAuthenticateOn401",
		"a request without a valid bearer token gets 401 with `WWW-Authenticate: Bearer`, on every route, and changes nothing",
		checkWWWAuthenticateOn401},
	{"RFC6750 §3", "SHOULD", "NoErrorCodeWithoutCredentials",
		"a request with no credentials at all gets a challenge without an `error` code",
		checkNoErrorCodeWithoutCredentials},
	{"RFC6750 §3", "SHOULD", "InvalidTokenErrorCode",
		"a request whose bearer token is refused gets `error=\"invalid_token\"` in the challenge",
		checkInvalidTokenErrorCode},

	// --- §3.7 Bulk, §3.11 /Me ---
	{"RFC7644 §3.7", "MUST", "Bulk",
		"`/Bulk` runs a BulkRequest's operations and answers a BulkResponse of their statuses as strings (200 even when one fails); an operation may refer to another's POST by `bulkId:` before it, and gets the bulkId back; /ServiceProviderConfig advertises `bulk.supported` with `maxOperations` and `maxPayloadSize`",
		checkBulk},
	{"RFC7644 §3.11", "SHOULD", "MeNotSupported501",
		"`/Me`, not supported, answers 501 Not Implemented",
		checkMeNotSupported501},

	// --- §4 discovery ---
	{"RFC7644 §4", "MUST", "ServiceProviderConfig",
		"`/ServiceProviderConfig` answers the SPC schema with every REQUIRED attribute of RFC 7643 §5",
		checkServiceProviderConfig},
	{"RFC7643 §5", "MUST", "ServiceProviderConfigTruthful",
		"what /ServiceProviderConfig advertises is what the server does (patch, sort, etag, changePassword, filter.maxResults, bulk, cursor pagination)",
		checkServiceProviderConfigTruthful},
	{"RFC7644 §4", "MUST", "ResourceTypes",
		"`/ResourceTypes` answers a ListResponse of ResourceType resources (User, its endpoint, schema and extension), `/ResourceTypes/User` the one",
		checkResourceTypes},
	{"RFC7644 §4", "MUST", "Schemas",
		"`/Schemas` answers a ListResponse of the User and enterprise schemas, each with its attributes' characteristics (RFC 7643 §7); `/Schemas/{urn}` the one",
		checkSchemas},
	{"RFC7644 §4", "MUST", "DiscoveryIgnoresQueryParameters",
		"on /Schemas and /ResourceTypes, sorting and pagination parameters are ignored (SHALL)",
		checkDiscoveryIgnoresQueryParameters},
	{"RFC7644 §4", "SHOULD", "DiscoveryFilter403",
		"a `filter` on /Schemas or /ResourceTypes is answered 403, so that no client assumes it matched",
		checkDiscoveryFilter403},
	{"RFC7644 §4", "MUST", "DiscoveryReadOnly405",
		"discovery endpoints are read-only: writes get 405 with an `Allow: GET` header (RFC 9110 §15.5.6 MUST)",
		checkDiscoveryReadOnly405},
	{"RFC7643 §7", "MUST", "SchemaCharacteristics",
		"the published User schema states userName `required`, `caseExact` false, `uniqueness` server; id `readOnly`/`always`; password `writeOnly`/`never`; groups `readOnly`",
		checkSchemaCharacteristics},
}

// checkResponsesAreSCIMJSON checks RFC7644 §3.8 MUST: every answer with a body, errors included, is `application/scim+json` JSON.
func checkResponsesAreSCIMJSON(t *testing.T, s *server) {
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
	for _, r := range []response{
		s.do("GET", "/Users/missing", ""),
		s.do("DELETE", "/Schemas", ""),
		s.with(scim.WithLimits(scim.Limits{MaxBodyBytes: 64})).do("POST", "/Users", `{"userName":"`+strings.Repeat("x", 100)+`"}`),
		s.do("POST", "/Users", `{"userName":"x"}`, "Content-Type", "text/plain"),
	} {
		require.GreaterOrEqual(t, r.Status, 400)
	}
}

// checkAcceptsSCIMJSON checks RFC7644 §3.8 MUST: requests of media type `application/scim+json` (with or without charset) are accepted; the `Accept: application/scim+json` header is supported.
func checkAcceptsSCIMJSON(t *testing.T, s *server) {
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
}

// checkAcceptsApplicationJSON checks RFC7644 §3.8 SHOULD: `application/json` is accepted as request media type and `Accept: application/json` is supported.
func checkAcceptsApplicationJSON(t *testing.T, s *server) {
	r := s.do("POST", "/Users", `{"userName":"json@example.com"}`, "Content-Type", "application/json", "Accept", "application/json")
	require.Equal(t, 201, r.Status, "%s", r.Raw)
	id := r.Body["id"].(string)
	r = s.do("PATCH", "/Users/"+id, confPatchOp(`{"op":"add","path":"title","value":"T"}`), "Content-Type", "application/json; charset=utf-8")
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, "T", s.do("GET", "/Users/"+id, "", "Accept", "application/json").Body["title"])
}

// checkUTF8 checks RFC7644 §3.8 MUST: JSON in UTF-8 is accepted and answered: non-ASCII values round-trip and filter.
func checkUTF8(t *testing.T, s *server) {
	name := "Zoë Ångström 日本語 🙂"
	u := s.create(`{"userName":"zoë@exämple.com","displayName":` + confJSON(name) + `,"name":{"familyName":"Ångström"}}`)
	require.Equal(t, name, u["displayName"])
	require.Equal(t, "zoë@exämple.com", u["userName"])
	require.Equal(t, name, s.get(u["id"].(string))["displayName"])
	require.Equal(t, []string{"zoë@exämple.com"}, s.filter(`displayName eq "`+name+`"`))
	require.Equal(t, []string{"zoë@exämple.com"}, s.filter(`name.familyName sw "Ång"`))
	require.Equal(t, []string{"zoë@exämple.com"}, s.filter(`userName eq "ZOË@EXÄMPLE.COM"`), "caseExact false folds non-ASCII too")
}

// checkErrorResponse checks RFC7644 §3.12 MUST: errors carry the Error schema and `status` as a JSON string equal to the HTTP status, with the §3.12 scimType where one applies.
func checkErrorResponse(t *testing.T, s *server) {
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
		{"not implemented", "POST", "/Me", `{}`, 501, ""},
	} {
		var r response
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
}

// checkWWWAuthenticateOn401 checks RFC6750 §3 MUST: a request without a valid bearer token gets 401 with `WWW-Authenticate: Bearer`, on every route, and changes nothing.
func checkWWWAuthenticateOn401(t *testing.T, s *server) {
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
}

// checkNoErrorCodeWithoutCredentials checks RFC6750 §3 SHOULD: a request with no credentials at all gets a challenge without an `error` code.
func checkNoErrorCodeWithoutCredentials(t *testing.T, s *server) {
	r := s.as("").do("GET", "/Users", "")
	confError(t, r, 401, "")
	require.NotContains(t, r.Header.Get("WWW-Authenticate"), "error=")
}

// checkInvalidTokenErrorCode checks RFC6750 §3 SHOULD: a request whose bearer token is refused gets `error="invalid_token"` in the challenge.
func checkInvalidTokenErrorCode(t *testing.T, s *server) {
	r := s.as("wrong").do("GET", "/Users", "")
	confError(t, r, 401, "")
	require.Contains(t, r.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
}

// checkBulk checks RFC7644 §3.7 MUST: `/Bulk` runs a BulkRequest's operations and answers a BulkResponse of their statuses as strings (200 even when one fails); an operation may refer to another's POST by `bulkId:` before it, and gets the bulkId back; /ServiceProviderConfig advertises `bulk.supported` with `maxOperations` and `maxPayloadSize`.
func checkBulk(t *testing.T, s *server) {
	bulk, ok := s.do("GET", "/ServiceProviderConfig", "").Body["bulk"].(map[string]any)
	require.True(t, ok)
	require.Equal(t, true, bulk["supported"])
	require.Positive(t, bulk["maxOperations"])
	require.Positive(t, bulk["maxPayloadSize"])
	r := s.do("POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
				{"method":"PATCH","path":"/Users/bulkId:q1","data":{"schemas":["`+patchOpURN+`"],"Operations":[{"op":"add","path":"title","value":"T"}]}},
				{"method":"POST","path":"/Users","bulkId":"q1","data":{"userName":"bulk@example.com"}},
				{"method":"POST","path":"/Users","bulkId":"q2","data":{"displayName":"no userName"}}]}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, []any{"urn:ietf:params:scim:api:messages:2.0:BulkResponse"}, r.Body["schemas"])
	ops, _ := r.Body["Operations"].([]any)
	require.Len(t, ops, 3, "%s", r.Raw)
	var statuses []any
	for _, op := range ops {
		statuses = append(statuses, op.(map[string]any)["status"])
	}
	require.Equal(t, []any{"200", "201", "400"}, statuses, "%s", r.Raw)
	created := ops[1].(map[string]any)
	require.Equal(t, "q1", created["bulkId"])
	loc, _ := created["location"].(string)
	id := loc[strings.LastIndexByte(loc, '/')+1:]
	require.Equal(t, "T", s.get(id)["title"], "the PATCH reached the user its bulkId named")
	require.Equal(t, "400", ops[2].(map[string]any)["response"].(map[string]any)["status"], "a failure carries its error")
	require.Equal(t, 1.0, s.list("")["totalResults"])
}

// checkMeNotSupported501 checks RFC7644 §3.11 SHOULD: `/Me`, not supported, answers 501 Not Implemented.
func checkMeNotSupported501(t *testing.T, s *server) {
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		body := ""
		if m != "GET" && m != "DELETE" {
			body = `{}`
		}
		confError(t, s.do(m, "/Me", body), 501, "")
	}
}

// checkServiceProviderConfig checks RFC7644 §4 MUST: `/ServiceProviderConfig` answers the SPC schema with every REQUIRED attribute of RFC 7643 §5.
func checkServiceProviderConfig(t *testing.T, s *server) {
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
}

// checkServiceProviderConfigTruthful checks RFC7643 §5 MUST: what /ServiceProviderConfig advertises is what the server does (patch, sort, etag, changePassword, filter.maxResults, bulk, cursor pagination).
func checkServiceProviderConfigTruthful(t *testing.T, s *server) {
	s = s.with(scim.WithLimits(scim.Limits{MaxResults: 2}))
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
	if feature("bulk") {
		r := s.do("POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[]}`)
		require.Equal(t, 200, r.Status, "%s", r.Raw)
	}
	p := b["pagination"].(map[string]any)
	require.Equal(t, true, p["index"])
	require.Equal(t, 2.0, p["maxPageSize"])
	_, cursors := s.Store.(scim.CursorLister)
	require.Equal(t, cursors, p["cursor"])
	if p["cursor"] == true {
		first := s.list("cursor=&count=1")
		require.NotEmpty(t, first["nextCursor"])
	}
}

// checkResourceTypes checks RFC7644 §4 MUST: `/ResourceTypes` answers a ListResponse of ResourceType resources (User, its endpoint, schema and extension), `/ResourceTypes/User` the one.
func checkResourceTypes(t *testing.T, s *server) {
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
}

// checkSchemas checks RFC7644 §4 MUST: `/Schemas` answers a ListResponse of the User and enterprise schemas, each with its attributes' characteristics (RFC 7643 §7); `/Schemas/{urn}` the one.
func checkSchemas(t *testing.T, s *server) {
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
}

// checkDiscoveryIgnoresQueryParameters checks RFC7644 §4 MUST: on /Schemas and /ResourceTypes, sorting and pagination parameters are ignored (SHALL).
func checkDiscoveryIgnoresQueryParameters(t *testing.T, s *server) {
	for _, p := range []string{"/Schemas", "/ResourceTypes"} {
		full := s.do("GET", p, "")
		for _, q := range []string{"?count=1", "?startIndex=2", "?sortBy=name&sortOrder=descending", "?count=0&startIndex=5&attributes=id"} {
			r := s.do("GET", p+q, "")
			require.Equal(t, 200, r.Status, "%s%s", p, q)
			require.Equal(t, full.Body, r.Body, "%s%s", p, q)
		}
	}
}

// checkDiscoveryFilter403 checks RFC7644 §4 SHOULD: a `filter` on /Schemas or /ResourceTypes is answered 403, so that no client assumes it matched.
func checkDiscoveryFilter403(t *testing.T, s *server) {
	for _, p := range []string{"/Schemas", "/ResourceTypes"} {
		confError(t, s.do("GET", p+"?filter="+url.QueryEscape(`id eq "x"`), ""), 403, "")
	}
}

// checkDiscoveryReadOnly405 checks RFC7644 §4 MUST: discovery endpoints are read-only: writes get 405 with an `Allow: GET` header (RFC 9110 §15.5.6 MUST).
func checkDiscoveryReadOnly405(t *testing.T, s *server) {
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
}

// checkSchemaCharacteristics checks RFC7643 §7 MUST: the published User schema states userName `required`, `caseExact` false, `uniqueness` server; id `readOnly`/`always`; password `writeOnly`/`never`; groups `readOnly`.
func checkSchemaCharacteristics(t *testing.T, s *server) {
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
