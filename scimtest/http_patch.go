package scimtest

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// Conformance of PATCH (RFC 7644 §3.5.2): the PatchOp message, add (§3.5.2.1), remove (§3.5.2.2) and replace
// (§3.5.2.3), paths, mutability and atomicity.

// confPatchUser is the user PATCH requirements start from.
const confPatchUser = `{"userName":"pat@example.com","displayName":"Pat","title":"Engineer","active":true,
  "name":{"givenName":"Pat","familyName":"Smith","formatted":"Pat Smith"},
  "emails":[{"value":"pat@work.example","type":"work","primary":true},{"value":"pat@home.example","type":"home"}],
  "phoneNumbers":[{"value":"555-0001","type":"work"},{"value":"555-0002","type":"mobile"}],
  "roles":[{"value":"r1"},{"value":"r2"}],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1","department":"Dept"}}`

// confPatchSeq numbers the users the PATCH requirements create, so that one test may create several.
var confPatchSeq atomic.Int64

// confNewPatchUser creates confPatchUser under a fresh userName and returns its id.
func confNewPatchUser(s *server) string {
	s.t.Helper()
	name := "pat" + strconv.FormatInt(confPatchSeq.Add(1), 10) + "@example.com"
	return s.create(strings.Replace(confPatchUser, "pat@example.com", name, 1))["id"].(string)
}

// confPatched creates confPatchUser, applies the operations, requires a 200 whose body is the user as GET
// answers it, and returns it.
func confPatched(t *testing.T, s *server, ops ...string) map[string]any {
	t.Helper()
	id := confNewPatchUser(s)
	r := s.patch(id, ops...)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, s.get(id), r.Body)
	return r.Body
}

// confPatchFails creates confPatchUser, applies the operations, requires the error, and that the user is
// exactly as before (same body, same version).
func confPatchFails(t *testing.T, s *server, status int, scimType string, ops ...string) {
	t.Helper()
	id := confNewPatchUser(s)
	before := s.do("GET", "/Users/"+id, "")
	confError(t, s.patch(id, ops...), status, scimType)
	after := s.do("GET", "/Users/"+id, "")
	require.Equal(t, before.Body, after.Body, "a failed PATCH changes nothing")
	require.Equal(t, before.Header.Get("ETag"), after.Header.Get("ETag"))
}

var patchReqs = []requirement{
	{"RFC7644 §3.5.2", "MUST", "Patch200Resource",
		"a successful PATCH answers 200 with the entire resource (as GET answers it) and its new ETag",
		checkPatch200Resource},
	{"RFC7644 §3.5.2", "MUST", "PatchOpMessage",
		"the PatchOp message needs `Operations`, each with an `op` of add, remove or replace: anything else is 400 `invalidSyntax`",
		checkPatchOpMessage},
	{"RFC7644 §3.5.2", "MUST", "Atomic",
		"a PATCH is atomic: when one operation fails, none is applied and the resource (and its version) is as before",
		checkAtomic},
	{"RFC7644 §3.5.2", "MUST", "OperationsInOrder",
		"operations apply in the order received, each seeing the result of the ones before",
		checkOperationsInOrder},
	{"RFC7644 §3.5.2", "MUST", "ReadOnlyRefused",
		"an operation on a readOnly attribute (`id`, `meta`, `groups`, `manager.displayName`) is refused with 400 `mutability` (SHALL)",
		checkReadOnlyRefused},
	{"RFC7644 §3.5.2", "MUST", "InvalidPath400",
		"a path that is malformed or names no attribute is refused with 400 `invalidPath`",
		checkInvalidPath400},
	{"RFC7644 §3.5.2", "MUST", "ValueMustFitSchema",
		"a value that does not fit the attribute's type is refused with 400 `invalidValue` (SHALL)",
		checkValueMustFitSchema},

	// --- §3.5.2.1 add ---
	{"RFC7644 §3.5.2.1", "MUST", "AddWithoutPath",
		"an add without `path` adds the attributes of its value to the resource",
		checkAddWithoutPath},
	{"RFC7644 §3.5.2.1", "MUST", "AddSemantics",
		"add sets an unassigned attribute, replaces a single value, merges a complex value's sub-attributes, and appends to a multi-valued attribute",
		checkAddSemantics},
	{"RFC7644 §3.5.2.1", "SHOULD", "AddExistingValueNoChange",
		"adding what is already there succeeds and changes nothing, not even `meta.lastModified` or the version (SHALL NOT)",
		checkAddExistingValueNoChange},

	// --- §3.5.2.2 remove ---
	{"RFC7644 §3.5.2.2", "MUST", "RemoveWithoutPathNoTarget",
		"a remove without `path` fails with 400 `noTarget`",
		checkRemoveWithoutPathNoTarget},
	{"RFC7644 §3.5.2.2", "MUST", "RemoveUnassigns",
		"remove makes a single-valued attribute, a sub-attribute, a complex attribute or a whole multi-valued attribute unassigned (SHALL)",
		checkRemoveUnassigns},
	{"RFC7644 §3.5.2.2", "MUST", "RemoveFiltered",
		"remove with a value filter removes the matching values only; with nothing left the attribute is unassigned (SHALL)",
		checkRemoveFiltered},
	{"RFC7644 §3.5.2.2", "MUST", "RemoveRequiredMutability",
		"removing (or unassigning) a required attribute (userName) is refused with 400 `mutability` (SHALL)",
		checkRemoveRequiredMutability},

	// --- §3.5.2.3 replace ---
	{"RFC7644 §3.5.2.3", "MUST", "ReplaceWithoutPath",
		"a replace without `path` replaces the attributes of its value, leaving the others",
		checkReplaceWithoutPath},
	{"RFC7644 §3.5.2.3", "MUST", "ReplaceSemantics",
		"replace sets a single value, replaces all values of a multi-valued attribute, merges a complex value (unspecified sub-attributes unchanged), and acts as add on an unassigned attribute (SHALL)",
		checkReplaceSemantics},
	{"RFC7644 §3.5.2.3", "MUST", "ReplaceFiltered",
		"replace with a value filter replaces every matching value, or the named sub-attribute of every matching value (SHALL)",
		checkReplaceFiltered},
	{"RFC7644 §3.5.2.3", "MUST", "ReplaceFilterNoMatchNoTarget",
		"replace with a value filter matching nothing fails with 400 `noTarget` (SHALL); the Entra tolerance (docs/entra.md) creates the value only for an `eq` filter on canonical values, such as `emails[type eq \"work\"]`",
		checkReplaceFilterNoMatchNoTarget},
}

// checkPatch200Resource checks RFC7644 §3.5.2 MUST: a successful PATCH answers 200 with the entire resource (as GET answers it) and its new ETag.
func checkPatch200Resource(t *testing.T, s *server) {
	u := s.create(confPatchUser)
	id := u["id"].(string)
	r := s.patch(id, `{"op":"replace","path":"displayName","value":"New"}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	g := s.do("GET", "/Users/"+id, "")
	require.Equal(t, g.Body, r.Body)
	require.Equal(t, g.Header.Get("ETag"), r.Header.Get("ETag"))
	require.NotEqual(t, confMeta(t, u)["version"], r.Header.Get("ETag"))
	require.Equal(t, confWithout(u, "meta", "displayName"), confWithout(r.Body, "meta", "displayName"), "nothing else changed")
}

// checkPatchOpMessage checks RFC7644 §3.5.2 MUST: the PatchOp message needs `Operations`, each with an `op` of add, remove or replace: anything else is 400 `invalidSyntax`.
func checkPatchOpMessage(t *testing.T, s *server) {
	id := s.create(confPatchUser)["id"].(string)
	for _, body := range []string{
		`{"schemas":["` + patchOpURN + `"]}`,
		`{"schemas":["` + patchOpURN + `"],"Operations":null}`,
		`{"schemas":["` + patchOpURN + `"],"Operations":{"op":"add"}}`,
		confPatchOp(`{"op":"move","path":"title","value":"x"}`),
		confPatchOp(`{"op":"copy","path":"title"}`),
		confPatchOp(`{"path":"title","value":"x"}`),
	} {
		confError(t, s.do("PATCH", "/Users/"+id, body), 400, "invalidSyntax")
	}
	require.Equal(t, "Engineer", s.get(id)["title"])
}

// checkAtomic checks RFC7644 §3.5.2 MUST: a PATCH is atomic: when one operation fails, none is applied and the resource (and its version) is as before.
func checkAtomic(t *testing.T, s *server) {
	good := `{"op":"replace","path":"displayName","value":"Changed"}`
	good2 := `{"op":"add","path":"emails","value":[{"value":"new@x.example"}]}`
	s.user("taken@example.com")
	confPatchFails(t, s, 400, "invalidValue", good, `{"op":"replace","path":"active","value":"maybe"}`)
	confPatchFails(t, s, 400, "invalidPath", good, good2, `{"op":"add","path":"noSuchAttribute","value":"x"}`)
	confPatchFails(t, s, 400, "mutability", good, `{"op":"replace","path":"id","value":"x"}`, good2)
	confPatchFails(t, s, 400, "noTarget", good, good2, `{"op":"replace","path":"emails[value co \"nowhere\"].type","value":"other"}`)
	confPatchFails(t, s, 400, "noTarget", `{"op":"remove","path":"title"}`, `{"op":"remove"}`)
	confPatchFails(t, s, 409, "uniqueness", good, `{"op":"replace","path":"userName","value":"TAKEN@example.com"}`)
}

// checkOperationsInOrder checks RFC7644 §3.5.2 MUST: operations apply in the order received, each seeing the result of the ones before.
func checkOperationsInOrder(t *testing.T, s *server) {
	u := confPatched(t, s,
		`{"op":"replace","path":"displayName","value":"A"}`,
		`{"op":"replace","path":"displayName","value":"B"}`,
		`{"op":"remove","path":"title"}`,
		`{"op":"add","path":"title","value":"Re-added"}`,
		`{"op":"add","path":"nickName","value":"N"}`,
		`{"op":"remove","path":"nickName"}`,
		`{"op":"add","path":"roles","value":[{"value":"r3"}]}`,
		`{"op":"remove","path":"roles[value eq \"r1\"]"}`)
	require.Equal(t, "B", u["displayName"])
	require.Equal(t, "Re-added", u["title"])
	require.NotContains(t, u, "nickName")
	require.Equal(t, confList{confObj{"value": "r2"}, confObj{"value": "r3"}}, u["roles"])
}

// checkReadOnlyRefused checks RFC7644 §3.5.2 MUST: an operation on a readOnly attribute (`id`, `meta`, `groups`, `manager.displayName`) is refused with 400 `mutability` (SHALL).
func checkReadOnlyRefused(t *testing.T, s *server) {
	for _, op := range []string{
		`{"op":"replace","path":"id","value":"x"}`,
		`{"op":"remove","path":"id"}`,
		`{"op":"replace","path":"meta.created","value":"2001-01-01T00:00:00Z"}`,
		`{"op":"remove","path":"meta"}`,
		`{"op":"add","path":"groups","value":[{"value":"g1"}]}`,
		`{"op":"replace","path":"groups.display","value":"x"}`,
		`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"x"}`,
	} {
		confPatchFails(t, s, 400, "mutability", op)
	}
}

// checkInvalidPath400 checks RFC7644 §3.5.2 MUST: a path that is malformed or names no attribute is refused with 400 `invalidPath`.
func checkInvalidPath400(t *testing.T, s *server) {
	for _, op := range []string{
		`{"op":"add","path":"noSuchAttribute","value":"x"}`,
		`{"op":"replace","path":"name.noSuchSub","value":"x"}`,
		`{"op":"remove","path":"emails[type eq \"work\""}`,
		`{"op":"replace","path":"emails[noSuchSub eq \"x\"].value","value":"x"}`,
		`{"op":"remove","path":"urn:ietf:params:scim:schemas:core:2.0:Group:displayName"}`,
		`{"op":"add","path":"..","value":"x"}`,
	} {
		confPatchFails(t, s, 400, "invalidPath", op)
	}
}

// checkValueMustFitSchema checks RFC7644 §3.5.2 MUST: a value that does not fit the attribute's type is refused with 400 `invalidValue` (SHALL).
func checkValueMustFitSchema(t *testing.T, s *server) {
	for _, op := range []string{
		`{"op":"replace","path":"active","value":"maybe"}`,
		`{"op":"replace","path":"displayName","value":{"a":1}}`,
		`{"op":"add","path":"emails","value":[1,2]}`,
		`{"op":"replace","path":"name","value":"not an object"}`,
		`{"op":"replace","value":"not an object"}`,
	} {
		confPatchFails(t, s, 400, "invalidValue", op)
	}
}

// checkAddWithoutPath checks RFC7644 §3.5.2.1 MUST: an add without `path` adds the attributes of its value to the resource.
func checkAddWithoutPath(t *testing.T, s *server) {
	u := confPatched(t, s, `{"op":"add","value":{"nickName":"Babs","emails":[{"value":"other@x.example","type":"other"}],
				"name":{"middleName":"Q"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"costCenter":"CC"}}}`)
	require.Equal(t, "Babs", u["nickName"])
	require.Len(t, u["emails"], 3, "multi-valued: appended")
	require.Equal(t, confObj{"givenName": "Pat", "familyName": "Smith", "formatted": "Pat Smith", "middleName": "Q"}, u["name"])
	require.Equal(t, confObj{"employeeNumber": "1", "department": "Dept", "costCenter": "CC"}, u[enterpriseNS])
}

// checkAddSemantics checks RFC7644 §3.5.2.1 MUST: add sets an unassigned attribute, replaces a single value, merges a complex value's sub-attributes, and appends to a multi-valued attribute.
func checkAddSemantics(t *testing.T, s *server) {
	u := confPatched(t, s,
		`{"op":"add","path":"nickName","value":"Babs"}`,
		`{"op":"add","path":"displayName","value":"Replaced"}`,
		`{"op":"add","path":"name","value":{"givenName":"Patricia","honorificPrefix":"Dr."}}`,
		`{"op":"add","path":"phoneNumbers","value":[{"value":"555-0003","type":"home"}]}`)
	require.Equal(t, "Babs", u["nickName"])
	require.Equal(t, "Replaced", u["displayName"])
	require.Equal(t, confObj{"givenName": "Patricia", "familyName": "Smith", "formatted": "Pat Smith", "honorificPrefix": "Dr."}, u["name"])
	require.Equal(t, confList{confObj{"value": "555-0001", "type": "work"}, confObj{"value": "555-0002", "type": "mobile"},
		confObj{"value": "555-0003", "type": "home"}}, u["phoneNumbers"])
}

// checkAddExistingValueNoChange checks RFC7644 §3.5.2.1 SHOULD: adding what is already there succeeds and changes nothing, not even `meta.lastModified` or the version (SHALL NOT).
func checkAddExistingValueNoChange(t *testing.T, s *server) {
	id := s.create(confPatchUser)["id"].(string)
	before := s.do("GET", "/Users/"+id, "")
	confSleep()
	for _, op := range []string{
		`{"op":"add","path":"displayName","value":"Pat"}`,
		`{"op":"add","path":"roles","value":[{"value":"r2"}]}`,
		`{"op":"add","path":"name","value":{"givenName":"Pat"}}`,
		`{"op":"add","value":{"title":"Engineer","active":true}}`,
	} {
		r := s.patch(id, op)
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.Equal(t, before.Body, r.Body, op)
		require.Equal(t, before.Header.Get("ETag"), r.Header.Get("ETag"), op)
	}
	require.Equal(t, before.Body, s.get(id))
}

// checkRemoveWithoutPathNoTarget checks RFC7644 §3.5.2.2 MUST: a remove without `path` fails with 400 `noTarget`.
func checkRemoveWithoutPathNoTarget(t *testing.T, s *server) {
	confPatchFails(t, s, 400, "noTarget", `{"op":"remove"}`)
	confPatchFails(t, s, 400, "noTarget", `{"op":"remove","value":{"title":"Engineer"}}`)
}

// checkRemoveUnassigns checks RFC7644 §3.5.2.2 MUST: remove makes a single-valued attribute, a sub-attribute, a complex attribute or a whole multi-valued attribute unassigned (SHALL).
func checkRemoveUnassigns(t *testing.T, s *server) {
	u := confPatched(t, s,
		`{"op":"remove","path":"title"}`,
		`{"op":"remove","path":"name.formatted"}`,
		`{"op":"remove","path":"phoneNumbers"}`,
		`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"}`)
	require.NotContains(t, u, "title")
	require.Equal(t, confObj{"givenName": "Pat", "familyName": "Smith"}, u["name"])
	require.NotContains(t, u, "phoneNumbers")
	require.Equal(t, confObj{"department": "Dept"}, u[enterpriseNS])
	u = confPatched(t, s, `{"op":"remove","path":"name"}`, `{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}`)
	require.NotContains(t, u, "name")
	require.NotContains(t, u, enterpriseNS)
	require.Equal(t, []string{userURN}, confStrings(u["schemas"]))
}

// checkRemoveFiltered checks RFC7644 §3.5.2.2 MUST: remove with a value filter removes the matching values only; with nothing left the attribute is unassigned (SHALL).
func checkRemoveFiltered(t *testing.T, s *server) {
	u := confPatched(t, s, `{"op":"remove","path":"emails[type eq \"home\"]"}`, `{"op":"remove","path":"phoneNumbers[value sw \"555\"]"}`,
		`{"op":"remove","path":"roles[value eq \"r2\"].value"}`)
	require.Equal(t, confList{confObj{"value": "pat@work.example", "type": "work", "primary": true}}, u["emails"])
	require.NotContains(t, u, "phoneNumbers")
	require.Equal(t, confList{confObj{"value": "r1"}}, u["roles"], "a value left without sub-attributes is gone")
	u = confPatched(t, s, `{"op":"remove","path":"emails[type eq \"work\"].primary"}`)
	require.Equal(t, confList{confObj{"value": "pat@work.example", "type": "work"}, confObj{"value": "pat@home.example", "type": "home"}}, u["emails"])
}

// checkRemoveRequiredMutability checks RFC7644 §3.5.2.2 MUST: removing (or unassigning) a required attribute (userName) is refused with 400 `mutability` (SHALL).
func checkRemoveRequiredMutability(t *testing.T, s *server) {
	for _, op := range []string{
		`{"op":"remove","path":"userName"}`,
		`{"op":"replace","path":"userName","value":null}`,
		`{"op":"replace","path":"userName","value":""}`,
		`{"op":"replace","value":{"userName":null}}`,
	} {
		confPatchFails(t, s, 400, "mutability", op)
	}
}

// checkReplaceWithoutPath checks RFC7644 §3.5.2.3 MUST: a replace without `path` replaces the attributes of its value, leaving the others.
func checkReplaceWithoutPath(t *testing.T, s *server) {
	u := confPatched(t, s, `{"op":"replace","value":{"displayName":"Pvlo","name.formatted":"Kkom Unua","active":false,
				"emails":[{"value":"only@x.example","type":"work"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"42"}}`)
	require.Equal(t, "Pvlo", u["displayName"])
	require.Equal(t, false, u["active"])
	require.Equal(t, "Kkom Unua", u["name"].(map[string]any)["formatted"])
	require.Equal(t, "Smith", u["name"].(map[string]any)["familyName"])
	require.Equal(t, confList{confObj{"value": "only@x.example", "type": "work"}}, u["emails"])
	require.Equal(t, confObj{"employeeNumber": "42", "department": "Dept"}, u[enterpriseNS])
	require.Equal(t, "Engineer", u["title"])
}

// checkReplaceSemantics checks RFC7644 §3.5.2.3 MUST: replace sets a single value, replaces all values of a multi-valued attribute, merges a complex value (unspecified sub-attributes unchanged), and acts as add on an unassigned attribute (SHALL).
func checkReplaceSemantics(t *testing.T, s *server) {
	u := confPatched(t, s,
		`{"op":"replace","path":"title","value":"CTO"}`,
		`{"op":"replace","path":"roles","value":[{"value":"only"}]}`,
		`{"op":"replace","path":"name","value":{"givenName":"Patricia"}}`,
		`{"op":"replace","path":"nickName","value":"New"}`,
		`{"op":"replace","path":"addresses","value":[{"locality":"Paris","type":"work"}]}`)
	require.Equal(t, "CTO", u["title"])
	require.Equal(t, confList{confObj{"value": "only"}}, u["roles"])
	require.Equal(t, confObj{"givenName": "Patricia", "familyName": "Smith", "formatted": "Pat Smith"}, u["name"])
	require.Equal(t, "New", u["nickName"])
	require.Equal(t, confList{confObj{"locality": "Paris", "type": "work"}}, u["addresses"])
}

// checkReplaceFiltered checks RFC7644 §3.5.2.3 MUST: replace with a value filter replaces every matching value, or the named sub-attribute of every matching value (SHALL).
func checkReplaceFiltered(t *testing.T, s *server) {
	u := confPatched(t, s,
		`{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@work.example"}`,
		`{"op":"replace","path":"phoneNumbers[value sw \"555\"].type","value":"other"}`,
		`{"op":"replace","path":"roles[value eq \"r2\"]","value":{"value":"r2","display":"Two"}}`)
	require.Equal(t, confList{confObj{"value": "new@work.example", "type": "work", "primary": true},
		confObj{"value": "pat@home.example", "type": "home"}}, u["emails"])
	require.Equal(t, confList{confObj{"value": "555-0001", "type": "other"}, confObj{"value": "555-0002", "type": "other"}}, u["phoneNumbers"])
	require.Equal(t, confList{confObj{"value": "r1"}, confObj{"value": "r2", "display": "Two"}}, u["roles"])
}

// checkReplaceFilterNoMatchNoTarget checks RFC7644 §3.5.2.3 MUST: replace with a value filter matching nothing fails with 400 `noTarget` (SHALL); the Entra tolerance (docs/entra.md) creates the value only for an `eq` filter on canonical values, such as `emails[type eq "work"]`.
func checkReplaceFilterNoMatchNoTarget(t *testing.T, s *server) {
	confPatchFails(t, s, 400, "noTarget", `{"op":"replace","path":"emails[value co \"nowhere\"].type","value":"home"}`)
	confPatchFails(t, s, 400, "noTarget", `{"op":"replace","path":"emails[type eq \"nonexistent\"].value","value":"x@x.example"}`)
	confPatchFails(t, s, 400, "noTarget", `{"op":"replace","path":"phoneNumbers[type eq \"pager\" or type eq \"fax\"].value","value":"1"}`)
	u := confPatched(t, s, `{"op":"remove","path":"emails[type eq \"work\"]"}`, `{"op":"replace","path":"emails[type eq \"work\"].value","value":"w@x.example"}`)
	require.Equal(t, confList{confObj{"value": "pat@home.example", "type": "home"}, confObj{"value": "w@x.example", "type": "work"}}, u["emails"])
}
