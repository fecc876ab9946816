package scimtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// Conformance of the User resource: creating (§3.3), retrieving (§3.4.1), replacing (§3.5.1), deleting (§3.6),
// versions (§3.14), and the resource model of RFC 7643 (common attributes, attribute characteristics,
// multi-valued attributes, unassigned values, schemas, the enterprise extension).

// confFullUser is fullUser with an externalId and a userName in mixed case, for the
// caseExact checks.
var confFullUser = strings.NewReplacer(`"externalId": "ext-1"`, `"externalId": "Ext-AbC-1"`,
	`"userName": "bjensen@example.com"`, `"userName": "BJensen@Example.com"`).Replace(fullUser)

// confSent returns what a client sent as JSON, without the password (never returned).
func confSent(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	delete(m, "password")
	return m
}

// confWithout returns a copy of m without the keys.
func confWithout(m map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

var resourceReqs = []requirement{
	// --- §3.3 creating resources ---
	{"RFC7644 §3.3", "MUST", "Create201Location",
		"a successful POST answers 201 with the resource's URI in `Location`, equal to `meta.location`",
		checkCreate201Location},
	{"RFC7644 §3.3", "SHOULD", "CreateReturnsResource",
		"the 201 body is the created resource: everything sent (every attribute of the core and enterprise schemas) as GET answers it",
		checkCreateReturnsResource},
	{"RFC7644 §3.3", "MUST", "CreateConflict409",
		"creating a userName already taken, in any case, answers 409 with scimType `uniqueness` and creates nothing",
		checkCreateConflict409},
	{"RFC7644 §3.3", "MUST", "CreateIgnoresReadOnly",
		"readOnly attributes in a POST body (`id`, `meta`, `groups`, `manager.displayName`) are ignored (SHALL)",
		checkCreateIgnoresReadOnly},
	{"RFC7643 §3.1", "MUST", "IdAssignedByServer",
		"`id` is issued by the service provider: unique, stable across requests, never the client's, never containing `bulkId`",
		checkIdAssignedByServer},
	{"RFC7643 §4.1.1", "MUST", "UserNameRequired",
		"every User has a non-empty userName: POST and PUT without one answer 400 `invalidValue`",
		checkUserNameRequired},
	{"RFC7643 §3.1", "MUST", "MetaOnCreate",
		"`meta` is the server's: resourceType User, created and lastModified equal on creation, `location`, and `version` equal to the ETag",
		checkMetaOnCreate},
	{"RFC7643 §3.1", "MUST", "MetaLocationIsContentLocation",
		"`meta.location` is the `Content-Location` of every answer holding one resource (POST, GET, PUT, PATCH)",
		checkMetaLocationIsContentLocation},
	{"RFC7643 §3.1", "MUST", "LastModifiedMoves",
		"a write moves `meta.lastModified` forward and keeps `meta.created`",
		checkLastModifiedMoves},

	// --- §3.4.1 retrieving a known resource ---
	{"RFC7644 §3.4.1", "MUST", "Get200",
		"GET on a resource's URI answers 200 with the resource",
		checkGet200},
	{"RFC7644 §3.4.1", "MUST", "Get404",
		"an unknown id (or one differing in case: `id` is caseExact) answers 404 on GET, PUT, PATCH and DELETE",
		checkGet404},

	// --- §3.5.1 replacing with PUT ---
	{"RFC7644 §3.5.1", "MUST", "Put200Replaces",
		"a successful PUT answers 200 with the entire resource; what was not sent is cleared (readWrite) and the rest replaced",
		checkPut200Replaces},
	{"RFC7644 §3.5.1", "MUST", "PutIgnoresReadOnly",
		"readOnly values in a PUT body (`id`, `meta`, `groups`) are ignored (SHALL)",
		checkPutIgnoresReadOnly},
	{"RFC7644 §3.5.1", "LIB", "PutOfGetChangesNothing",
		"a PUT of what GET answered changes nothing (writeOnly password kept, version and lastModified unchanged)",
		checkPutOfGetChangesNothing},

	// --- §3.6 deleting ---
	{"RFC7644 §3.6", "MUST", "Delete204",
		"a successful DELETE answers 204 No Content without a body",
		checkDelete204},
	{"RFC7644 §3.6", "MUST", "DeletedIs404",
		"every operation on a deleted resource answers 404",
		checkDeletedIs404},
	{"RFC7644 §3.6", "MUST", "DeletedOmittedFromQueries",
		"a deleted resource is omitted from every later query (list, filter, .search, cursor), and its userName is free again",
		checkDeletedOmittedFromQueries},

	// --- §3.14 versioning ---
	{"RFC7644 §3.14", "MUST", "ETagIsVersion",
		"answers of one resource carry an `ETag` equal to `meta.version`; every write changes it",
		checkETagIsVersion},
	{"RFC7644 §3.14", "MUST", "IfMatch412",
		"PUT, PATCH and DELETE with an `If-Match` naming another version answer 412 and change nothing",
		checkIfMatch412},
	{"RFC7644 §3.14", "MUST", "IfMatchCurrent",
		"an `If-Match` naming the current version (or `*`, or a list holding it, weak or strong) lets the write through",
		checkIfMatchCurrent},
	{"RFC7644 §3.14", "MUST", "IfNoneMatch304",
		"GET with an `If-None-Match` naming the current version answers 304 Not Modified without a body; after a change, 200",
		checkIfNoneMatch304},

	// --- RFC 7643: the resource model ---
	{"RFC7643 §2.1", "MUST", "AttributeNamesCaseInsensitive",
		"attribute names are case-insensitive in bodies, filters, PATCH paths, `attributes` and `sortBy`",
		checkAttributeNamesCaseInsensitive},
	{"RFC7643 §2.3.2", "MUST", "BooleansAreJSONBooleans",
		"boolean attributes are answered as JSON `true`/`false`, whatever form they were sent in",
		checkBooleansAreJSONBooleans},
	{"RFC7643 §7", "MUST", "CaseExactPreserved",
		"values are stored as sent: case is preserved for caseExact attributes (externalId, id) and for the others",
		checkCaseExactPreserved},
	{"RFC7643 §7", "MUST", "CaseExactInFilters",
		"filters compare with the attribute's caseExact (SHALL): userName without case, externalId, id and photos.value with case",
		checkCaseExactInFilters},
	{"RFC7643 §7", "SHOULD", "UniquenessServer",
		"userName (`uniqueness: server`) is unique in the tenant without case: POST, PUT and PATCH onto a taken one answer 409 `uniqueness`",
		checkUniquenessServer},
	{"RFC7643 §7", "LIB", "UniquenessIdentityKey",
		"userNames a person reads as one identity are one: case folded fully (`straße`/`strasse`, final sigma), " +
			"compatibility forms (fullwidth `Ａdmin`), NFC/NFD and surrounding spaces; the second POST answers 409 " +
			"`uniqueness` and `userName eq` with either finds the first",
		checkUniquenessIdentityKey},
	{"RFC7643 §7", "LIB", "UserNameInvisibleCharacters400",
		"a userName holding control or format characters (zero-width space or joiner, bidi controls) is refused with 400 `invalidValue` on POST, PUT and PATCH",
		checkUserNameInvisibleCharacters400},
	{"RFC7643 §4.1.1", "MUST", "PasswordNeverReturned",
		"the password (`writeOnly`, `returned: never`) is never returned, not even when asked for with `attributes` (SHALL NOT)",
		checkPasswordNeverReturned},
	{"RFC7643 §2.4", "MUST", "PrimaryAtMostOnce",
		"`primary: true` appears at most once per multi-valued attribute: a body with two is refused (400 `invalidValue`), a PATCH setting a new primary demotes the others (RFC 7644 §3.5.2 SHALL)",
		checkPrimaryAtMostOnce},
	{"RFC7643 §2.4", "MUST", "MultiValuedRoundTrip",
		"multi-valued attributes are JSON arrays whose elements keep their sub-attributes (value, type, display, primary) and order",
		checkMultiValuedRoundTrip},
	{"RFC7643 §2.5", "MUST", "NullIsUnassigned",
		"null, an empty array and an unassigned attribute are the same state (SHALL): such attributes are absent, and `pr` does not match them",
		checkNullIsUnassigned},
	{"RFC7643 §3", "MUST", "SchemasAttribute",
		"every resource carries `schemas` (REQUIRED) with the core URN, and the extension URN exactly when extension attributes are present",
		checkSchemasAttribute},
	{"RFC7643 §4.3", "MUST", "EnterpriseExtension",
		"the enterprise extension round-trips under its URN and works in filters, sorting, `attributes` and PATCH paths",
		checkEnterpriseExtension},
}

// checkCreate201Location checks RFC7644 §3.3 MUST: a successful POST answers 201 with the resource's URI in `Location`, equal to `meta.location`.
func checkCreate201Location(t *testing.T, s *server) {
	r := s.do("POST", "/Users", `{"userName":"create@example.com"}`)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Raw)
	id := r.Body["id"].(string)
	require.Equal(t, s.URL+"/Users/"+id, r.Header.Get("Location"))
	require.Equal(t, r.Header.Get("Location"), confMeta(t, r.Body)["location"])
	require.Equal(t, 200, s.do("GET", strings.TrimPrefix(r.Header.Get("Location"), s.URL), "").Status, "Location resolves")
}

// checkCreateReturnsResource checks RFC7644 §3.3 SHOULD: the 201 body is the created resource: everything sent (every attribute of the core and enterprise schemas) as GET answers it.
func checkCreateReturnsResource(t *testing.T, s *server) {
	u := s.create(confFullUser)
	require.Equal(t, confSent(t, confFullUser), confWithout(u, "id", "meta"))
	require.Equal(t, s.get(u["id"].(string)), u)
}

// checkCreateConflict409 checks RFC7644 §3.3 MUST: creating a userName already taken, in any case, answers 409 with scimType `uniqueness` and creates nothing.
func checkCreateConflict409(t *testing.T, s *server) {
	s.user("Dup@Example.com")
	for _, n := range []string{"Dup@Example.com", "dup@example.com", "DUP@EXAMPLE.COM"} {
		confError(t, s.do("POST", "/Users", `{"userName":"`+n+`","displayName":"second"}`), 409, "uniqueness")
	}
	require.Equal(t, 1.0, s.list("")["totalResults"])
	require.Equal(t, []string{"Dup@Example.com"}, s.filter(`displayName pr or userName pr`))
}

// checkCreateIgnoresReadOnly checks RFC7644 §3.3 MUST: readOnly attributes in a POST body (`id`, `meta`, `groups`, `manager.displayName`) are ignored (SHALL).
func checkCreateIgnoresReadOnly(t *testing.T, s *server) {
	u := s.create(`{"userName":"ro@example.com","id":"client-chosen",
				"meta":{"created":"2001-01-01T00:00:00Z","lastModified":"2001-01-01T00:00:00Z","version":"W/\"9\"","location":"https://evil.example/x","resourceType":"Group"},
				"groups":[{"value":"g1","display":"Admins"}],
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1","displayName":"Set by client"}}}`)
	require.NotEqual(t, "client-chosen", u["id"])
	meta := confMeta(t, u)
	require.NotEqual(t, "2001-01-01T00:00:00Z", meta["created"])
	require.Equal(t, "User", meta["resourceType"])
	require.Equal(t, s.URL+"/Users/"+u["id"].(string), meta["location"])
	require.NotContains(t, u, "groups")
	require.Equal(t, confObj{"manager": confObj{"value": "m1"}}, u[enterpriseNS])
	confError(t, s.do("GET", "/Users/client-chosen", ""), 404, "")
	require.Equal(t, u, s.get(u["id"].(string)))
}

// checkIdAssignedByServer checks RFC7643 §3.1 MUST: `id` is issued by the service provider: unique, stable across requests, never the client's, never containing `bulkId`.
func checkIdAssignedByServer(t *testing.T, s *server) {
	ids := map[string]bool{}
	for i := range 5 {
		u := s.create(`{"userName":"id` + string(rune('a'+i)) + `@example.com","id":"same"}`)
		id := u["id"].(string)
		require.NotEmpty(t, id)
		require.NotEqual(t, "same", id)
		require.NotContains(t, id, "bulkId")
		require.False(t, ids[id], "ids are unique")
		ids[id] = true
		require.Equal(t, id, s.get(id)["id"], "stable")
		require.Equal(t, id, s.patch(id, `{"op":"add","path":"title","value":"T"}`).Body["id"], "stable across writes")
	}
}

// checkUserNameRequired checks RFC7643 §4.1.1 MUST: every User has a non-empty userName: POST and PUT without one answer 400 `invalidValue`.
func checkUserNameRequired(t *testing.T, s *server) {
	for _, body := range []string{`{"displayName":"x"}`, `{"userName":""}`, `{"userName":null}`, `{"USERNAME":[]}`} {
		confError(t, s.do("POST", "/Users", body), 400, "invalidValue")
	}
	require.Equal(t, 0.0, s.list("")["totalResults"])
	id := s.user("req@example.com")
	confError(t, s.do("PUT", "/Users/"+id, `{"displayName":"no userName"}`), 400, "invalidValue")
	require.Equal(t, "req@example.com", s.get(id)["userName"])
}

// checkMetaOnCreate checks RFC7643 §3.1 MUST: `meta` is the server's: resourceType User, created and lastModified equal on creation, `location`, and `version` equal to the ETag.
func checkMetaOnCreate(t *testing.T, s *server) {
	before := time.Now().Add(-time.Second)
	r := s.do("POST", "/Users", `{"userName":"meta@example.com"}`)
	meta := confMeta(t, r.Body)
	require.Equal(t, "User", meta["resourceType"])
	created, err := time.Parse(time.RFC3339Nano, meta["created"].(string))
	require.NoError(t, err, "xsd:dateTime with a time zone (RFC 7643 §2.3.5)")
	require.True(t, created.After(before) && created.Before(time.Now().Add(time.Second)), "%v", created)
	require.Equal(t, meta["created"], meta["lastModified"], "never modified: lastModified MUST be created")
	require.Equal(t, r.Header.Get("ETag"), meta["version"])
	require.NotEmpty(t, meta["version"])
}

// checkMetaLocationIsContentLocation checks RFC7643 §3.1 MUST: `meta.location` is the `Content-Location` of every answer holding one resource (POST, GET, PUT, PATCH).
func checkMetaLocationIsContentLocation(t *testing.T, s *server) {
	c := s.do("POST", "/Users", `{"userName":"cl@example.com"}`)
	id := c.Body["id"].(string)
	loc := s.URL + "/Users/" + id
	for _, r := range []response{
		c,
		s.do("GET", "/Users/"+id, ""),
		s.do("PUT", "/Users/"+id, `{"userName":"cl@example.com","title":"T"}`),
		s.patch(id, `{"op":"add","path":"nickName","value":"N"}`),
		s.do("GET", "/Users/"+id+"?attributes=userName", ""),
	} {
		require.Contains(t, []int{200, 201}, r.Status, "%s", r.Raw)
		require.Equal(t, loc, r.Header.Get("Content-Location"))
		if m, ok := r.Body["meta"].(map[string]any); ok {
			require.Equal(t, loc, m["location"])
		}
	}
	for _, u := range confResources(t, s.list("")) {
		require.Equal(t, loc, confMeta(t, u)["location"])
	}
}

// checkLastModifiedMoves checks RFC7643 §3.1 MUST: a write moves `meta.lastModified` forward and keeps `meta.created`.
func checkLastModifiedMoves(t *testing.T, s *server) {
	u := s.create(`{"userName":"lm@example.com"}`)
	id, meta := u["id"].(string), confMeta(t, u)
	for _, w := range []response{
		func() response { confSleep(); return s.patch(id, `{"op":"add","path":"title","value":"T"}`) }(),
		func() response {
			confSleep()
			return s.do("PUT", "/Users/"+id, `{"userName":"lm@example.com","title":"U"}`)
		}(),
	} {
		require.Equal(t, 200, w.Status, "%s", w.Raw)
		after := confMeta(t, w.Body)
		require.Equal(t, meta["created"], after["created"])
		t0, _ := time.Parse(time.RFC3339Nano, meta["lastModified"].(string))
		t1, err := time.Parse(time.RFC3339Nano, after["lastModified"].(string))
		require.NoError(t, err)
		require.True(t, t1.After(t0), "%v then %v", t0, t1)
		meta = after
	}
}

// checkGet200 checks RFC7644 §3.4.1 MUST: GET on a resource's URI answers 200 with the resource.
func checkGet200(t *testing.T, s *server) {
	u := s.create(confFullUser)
	r := s.do("GET", "/Users/"+u["id"].(string), "")
	require.Equal(t, 200, r.Status)
	require.Equal(t, u, r.Body)
}

// checkGet404 checks RFC7644 §3.4.1 MUST: an unknown id (or one differing in case: `id` is caseExact) answers 404 on GET, PUT, PATCH and DELETE.
func checkGet404(t *testing.T, s *server) {
	id := s.user("nf@example.com")
	missings := []string{"nope", "00000000-0000-4000-8000-000000000000", id + "x"}
	if up := strings.ToUpper(id); up != id { // a Store's integer ids have no case
		missings = append(missings, up)
	}
	for _, missing := range missings {
		confError(t, s.do("GET", "/Users/"+missing, ""), 404, "")
		confError(t, s.do("PUT", "/Users/"+missing, `{"userName":"x"}`), 404, "")
		confError(t, s.patch(missing, `{"op":"add","path":"title","value":"x"}`), 404, "")
		confError(t, s.do("DELETE", "/Users/"+missing, ""), 404, "")
	}
	require.Equal(t, 1.0, s.list("")["totalResults"], "PUT never creates (§3.5.1)")
}

// checkPut200Replaces checks RFC7644 §3.5.1 MUST: a successful PUT answers 200 with the entire resource; what was not sent is cleared (readWrite) and the rest replaced.
func checkPut200Replaces(t *testing.T, s *server) {
	orig := s.create(confFullUser)
	id := orig["id"].(string)
	body := `{"userName":"BJensen@Example.com","displayName":"New","active":"False",
				"emails":[{"value":"new@example.com","type":"work"}],
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"New Dept"}}`
	r := s.do("PUT", "/Users/"+id, body)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, confObj{
		"id": id, "schemas": confList{userURN, enterpriseNS}, "userName": "BJensen@Example.com",
		"displayName": "New", "active": false,
		"emails":     confList{confObj{"value": "new@example.com", "type": "work"}},
		enterpriseNS: confObj{"department": "New Dept"},
	}, confWithout(r.Body, "meta"))
	require.Equal(t, r.Body, s.get(id))
}

// checkPutIgnoresReadOnly checks RFC7644 §3.5.1 MUST: readOnly values in a PUT body (`id`, `meta`, `groups`) are ignored (SHALL).
func checkPutIgnoresReadOnly(t *testing.T, s *server) {
	orig := s.create(`{"userName":"putro@example.com"}`)
	id := orig["id"].(string)
	r := s.do("PUT", "/Users/"+id, `{"id":"hijack","userName":"putro@example.com","groups":[{"value":"g"}],
				"meta":{"created":"2001-01-01T00:00:00Z","resourceType":"Group","location":"https://evil.example/"}}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, id, r.Body["id"])
	require.NotContains(t, r.Body, "groups")
	meta := confMeta(t, r.Body)
	require.Equal(t, confMeta(t, orig)["created"], meta["created"])
	require.Equal(t, "User", meta["resourceType"])
	require.Equal(t, s.URL+"/Users/"+id, meta["location"])
	confError(t, s.do("GET", "/Users/hijack", ""), 404, "")
}

// checkPutOfGetChangesNothing checks RFC7644 §3.5.1 LIB: a PUT of what GET answered changes nothing (writeOnly password kept, version and lastModified unchanged).
func checkPutOfGetChangesNothing(t *testing.T, s *server) {
	id := s.create(confFullUser)["id"].(string)
	cur := s.do("GET", "/Users/"+id, "")
	b, _ := json.Marshal(cur.Body)
	confSleep()
	r := s.do("PUT", "/Users/"+id, string(b))
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, cur.Body, r.Body)
	require.Equal(t, cur.Header.Get("ETag"), r.Header.Get("ETag"))
	stored, err := s.Store.Get(inTenant(t, s.tenant()), id)
	require.NoError(t, err)
	require.True(t, scim.CheckPassword(stored.PasswordHash, "t1meMa$heen"), "the password, never returned, is kept (as its hash)")
}

// checkDelete204 checks RFC7644 §3.6 MUST: a successful DELETE answers 204 No Content without a body.
func checkDelete204(t *testing.T, s *server) {
	id := s.user("del@example.com")
	keep := s.user("keep@example.com")
	r := s.do("DELETE", "/Users/"+id, "")
	require.Equal(t, http.StatusNoContent, r.Status)
	require.Empty(t, r.Raw)
	require.Equal(t, "keep@example.com", s.get(keep)["userName"])
}

// checkDeletedIs404 checks RFC7644 §3.6 MUST: every operation on a deleted resource answers 404.
func checkDeletedIs404(t *testing.T, s *server) {
	r := s.do("POST", "/Users", `{"userName":"gone@example.com"}`)
	id, etag := r.Body["id"].(string), r.Header.Get("ETag")
	require.Equal(t, 204, s.do("DELETE", "/Users/"+id, "").Status)
	confError(t, s.do("GET", "/Users/"+id, ""), 404, "")
	confError(t, s.do("GET", "/Users/"+id, "", "If-None-Match", etag), 404, "")
	confError(t, s.do("PUT", "/Users/"+id, `{"userName":"gone@example.com"}`), 404, "")
	confError(t, s.patch(id, `{"op":"add","path":"title","value":"x"}`), 404, "")
	confError(t, s.do("DELETE", "/Users/"+id, ""), 404, "")
	confError(t, s.do("DELETE", "/Users/"+id, "", "If-Match", etag), 404, "")
}

// checkDeletedOmittedFromQueries checks RFC7644 §3.6 MUST: a deleted resource is omitted from every later query (list, filter, .search, cursor), and its userName is free again.
func checkDeletedOmittedFromQueries(t *testing.T, s *server) {
	id := s.user("gone@example.com")
	s.user("stay@example.com")
	require.Equal(t, 204, s.do("DELETE", "/Users/"+id, "").Status)
	require.Equal(t, []string{"stay@example.com"}, confNames(t, s.list("")))
	require.Empty(t, s.filter(`userName eq "gone@example.com"`))
	require.Empty(t, s.filter(`id eq "`+id+`"`))
	sr := s.do("POST", "/Users/.search", `{"filter":"userName sw \"gone\""}`)
	require.Equal(t, 0.0, sr.Body["totalResults"])
	require.Equal(t, []string{"stay@example.com"}, confNames(t, s.list("cursor=&count=10")))
	s.user("GONE@example.com")
}

// checkETagIsVersion checks RFC7644 §3.14 MUST: answers of one resource carry an `ETag` equal to `meta.version`; every write changes it.
func checkETagIsVersion(t *testing.T, s *server) {
	r := s.do("POST", "/Users", `{"userName":"etag@example.com"}`)
	id := r.Body["id"].(string)
	seen := map[string]bool{}
	for _, write := range []func() response{
		func() response { return r },
		func() response { return s.do("PUT", "/Users/"+id, `{"userName":"etag@example.com","title":"1"}`) },
		func() response { return s.patch(id, `{"op":"replace","path":"title","value":"2"}`) },
	} {
		w := write()
		etag := w.Header.Get("ETag")
		require.Regexp(t, `^(W/)?"[^"]+"$`, etag)
		require.Equal(t, etag, confMeta(t, w.Body)["version"])
		require.False(t, seen[etag], "every write changes the version")
		seen[etag] = true
		g := s.do("GET", "/Users/"+id, "")
		require.Equal(t, etag, g.Header.Get("ETag"))
		require.Equal(t, etag, confMeta(t, g.Body)["version"])
	}
	for _, u := range confResources(t, s.list("")) {
		require.Contains(t, seen, confMeta(t, u)["version"])
	}
}

// checkIfMatch412 checks RFC7644 §3.14 MUST: PUT, PATCH and DELETE with an `If-Match` naming another version answer 412 and change nothing.
func checkIfMatch412(t *testing.T, s *server) {
	r := s.do("POST", "/Users", `{"userName":"ifm@example.com"}`)
	id, v1 := r.Body["id"].(string), r.Header.Get("ETag")
	v2 := s.patch(id, `{"op":"add","path":"title","value":"T"}`).Header.Get("ETag")
	before := s.get(id)
	for _, stale := range []string{v1, `W/"stale"`, `"stale"`, `W/"x", ` + v1} {
		confError(t, s.do("PUT", "/Users/"+id, `{"userName":"ifm@example.com"}`, "If-Match", stale), 412, "")
		confError(t, s.do("PATCH", "/Users/"+id, confPatchOp(`{"op":"remove","path":"title"}`), "If-Match", stale), 412, "")
		confError(t, s.do("DELETE", "/Users/"+id, "", "If-Match", stale), 412, "")
	}
	require.Equal(t, before, s.get(id))
	require.Equal(t, v2, s.do("GET", "/Users/"+id, "").Header.Get("ETag"))
}

// checkIfMatchCurrent checks RFC7644 §3.14 MUST: an `If-Match` naming the current version (or `*`, or a list holding it, weak or strong) lets the write through.
func checkIfMatchCurrent(t *testing.T, s *server) {
	r := s.do("POST", "/Users", `{"userName":"ifmok@example.com"}`)
	id, v := r.Body["id"].(string), r.Header.Get("ETag")
	w := s.do("PUT", "/Users/"+id, `{"userName":"ifmok@example.com","title":"1"}`, "If-Match", v)
	require.Equal(t, 200, w.Status, "%s", w.Raw)
	v = w.Header.Get("ETag")
	w = s.do("PATCH", "/Users/"+id, confPatchOp(`{"op":"replace","path":"title","value":"2"}`), "If-Match", `"other", `+v)
	require.Equal(t, 200, w.Status, "%s", w.Raw)
	v = w.Header.Get("ETag")
	w = s.do("PATCH", "/Users/"+id, confPatchOp(`{"op":"replace","path":"title","value":"3"}`), "If-Match", strings.TrimPrefix(v, "W/"))
	require.Equal(t, 200, w.Status, "%s", w.Raw)
	w = s.do("PATCH", "/Users/"+id, confPatchOp(`{"op":"replace","path":"title","value":"4"}`), "If-Match", "*")
	require.Equal(t, 200, w.Status, "%s", w.Raw)
	require.Equal(t, 204, s.do("DELETE", "/Users/"+id, "", "If-Match", w.Header.Get("ETag")).Status)
}

// checkIfNoneMatch304 checks RFC7644 §3.14 MUST: GET with an `If-None-Match` naming the current version answers 304 Not Modified without a body; after a change, 200.
func checkIfNoneMatch304(t *testing.T, s *server) {
	r := s.do("POST", "/Users", `{"userName":"inm@example.com"}`)
	id, v := r.Body["id"].(string), r.Header.Get("ETag")
	for _, inm := range []string{v, "*", `"x", ` + v} {
		nm := s.do("GET", "/Users/"+id, "", "If-None-Match", inm)
		require.Equal(t, http.StatusNotModified, nm.Status, inm)
		require.Empty(t, nm.Raw)
		require.Equal(t, v, nm.Header.Get("ETag"))
	}
	s.patch(id, `{"op":"add","path":"title","value":"T"}`)
	g := s.do("GET", "/Users/"+id, "", "If-None-Match", v)
	require.Equal(t, 200, g.Status)
	require.Equal(t, "T", g.Body["title"])
}

// confUnquote decodes the JSON escapes of a string written for a JSON body.
func confUnquote(s string) string {
	var out string
	if err := json.Unmarshal([]byte(`"`+s+`"`), &out); err != nil {
		panic(err)
	}
	return out
}
