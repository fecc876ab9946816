package scimtest

import (
	"strings"
	"testing"

	"github.com/scimkit/scim"
	"github.com/stretchr/testify/require"
)

// checkAttributeNamesCaseInsensitive checks RFC7643 §2.1 MUST: attribute names are case-insensitive in bodies, filters, PATCH paths, `attributes` and `sortBy`.
func checkAttributeNamesCaseInsensitive(t *testing.T, s *server) {
	u := s.create(`{"USERNAME":"ci@example.com","DisplayName":"CI","NAME":{"GIVENNAME":"G"},"Emails":[{"VALUE":"ci@x.example","Type":"work"}]}`)
	require.Equal(t, "ci@example.com", u["userName"])
	require.Equal(t, "CI", u["displayName"])
	require.Equal(t, confObj{"givenName": "G"}, u["name"])
	require.Equal(t, confList{confObj{"value": "ci@x.example", "type": "work"}}, u["emails"])
	id := u["id"].(string)
	require.Equal(t, []string{"ci@example.com"}, s.filter(`USERNAME EQ "ci@example.com" AND name.GIVENNAME Sw "g"`))
	require.Equal(t, 200, s.patch(id, `{"op":"replace","path":"DISPLAYNAME","value":"X"}`).Status)
	require.Equal(t, "X", s.get(id)["displayName"])
	require.Equal(t, []string{"displayName", "id", "schemas"}, confKeys(s.do("GET", "/Users/"+id+"?attributes=DISPLAYNAME", "").Body))
	require.Equal(t, []string{"ci@example.com"}, confNames(t, s.list("sortBy=USERNAME")))
}

// checkBooleansAreJSONBooleans checks RFC7643 §2.3.2 MUST: boolean attributes are answered as JSON `true`/`false`, whatever form they were sent in.
func checkBooleansAreJSONBooleans(t *testing.T, s *server) {
	u := s.create(`{"userName":"b@example.com","active":"False","emails":[{"value":"b@x.example","primary":"True"}]}`)
	require.Equal(t, false, u["active"])
	require.Equal(t, true, u["emails"].([]any)[0].(map[string]any)["primary"])
	id := u["id"].(string)
	require.Equal(t, true, s.patch(id, `{"op":"replace","path":"active","value":"TRUE"}`).Body["active"])
	require.Contains(t, string(s.do("GET", "/Users/"+id, "").Raw), `"active":true`)
}

// checkCaseExactPreserved checks RFC7643 §7 MUST: values are stored as sent: case is preserved for caseExact attributes (externalId, id) and for the others.
func checkCaseExactPreserved(t *testing.T, s *server) {
	u := s.create(`{"userName":"MiXeD@Example.COM","externalId":"AbC-dEf","displayName":"McDONALD"}`)
	require.Equal(t, "AbC-dEf", u["externalId"])
	require.Equal(t, "MiXeD@Example.COM", u["userName"])
	g := s.get(u["id"].(string))
	require.Equal(t, "AbC-dEf", g["externalId"])
	require.Equal(t, "McDONALD", g["displayName"])
	require.Equal(t, "AbC-dEf", confResources(t, s.list(""))[0]["externalId"])
}

// checkCaseExactInFilters checks RFC7643 §7 MUST: filters compare with the attribute's caseExact (SHALL): userName without case, externalId, id and photos.value with case.
func checkCaseExactInFilters(t *testing.T, s *server) {
	u := s.create(`{"userName":"Case@Example.com","externalId":"AbC","photos":[{"value":"https://x.example/Photo.JPG"}]}`)
	id := u["id"].(string)
	require.Equal(t, []string{"Case@Example.com"}, s.filter(`userName eq "case@example.COM"`))
	require.Equal(t, []string{"Case@Example.com"}, s.filter(`externalId eq "AbC"`))
	require.Empty(t, s.filter(`externalId eq "abc"`))
	require.Equal(t, []string{"Case@Example.com"}, s.filter(`id eq "`+id+`"`))
	if up := strings.ToUpper(id); up != id { // a Store's integer ids have no case
		require.Empty(t, s.filter(`id eq "`+up+`"`))
	}
	require.Equal(t, []string{"Case@Example.com"}, s.filter(`photos.value ew ".JPG"`))
	require.Empty(t, s.filter(`photos.value ew ".jpg"`))
	require.Equal(t, []string{"Case@Example.com"}, s.filter(`userName sw "CASE@"`))
}

// checkUniquenessServer checks RFC7643 §7 SHOULD: userName (`uniqueness: server`) is unique in the tenant without case: POST, PUT and PATCH onto a taken one answer 409 `uniqueness`.
func checkUniquenessServer(t *testing.T, s *server) {
	a := s.user("Taken@Example.com")
	b := s.user("other@example.com")
	confError(t, s.do("POST", "/Users", `{"userName":"taken@example.com"}`), 409, "uniqueness")
	confError(t, s.do("PUT", "/Users/"+b, `{"userName":"TAKEN@example.com"}`), 409, "uniqueness")
	confError(t, s.patch(b, `{"op":"replace","path":"userName","value":"taken@EXAMPLE.com"}`), 409, "uniqueness")
	confError(t, s.patch(b, `{"op":"replace","value":{"userName":"Taken@Example.com"}}`), 409, "uniqueness")
	require.Equal(t, "other@example.com", s.get(b)["userName"])
	r := s.patch(a, `{"op":"replace","path":"userName","value":"TAKEN@example.com"}`)
	require.Equal(t, 200, r.Status, "a user may change the case of its own userName: %s", r.Raw)
	require.Equal(t, 2.0, s.list("")["totalResults"])
}

// checkUniquenessIdentityKey checks RFC7643 §7 LIB: "userNames a person reads as one identity are one: case folded fully (`straße`/`strasse`, final sigma), " + 			"compatibility forms (fullwidth `Ａdmin`), NFC/NFD and surrounding spaces; the second POST answers 409 " + 			"`uniqueness` and `userName eq` with either finds the first".
func checkUniquenessIdentityKey(t *testing.T, s *server) {
	for _, pair := range [][2]string{
		{"ΣΊΣΥΦΟΣ", "σίσυφος"},
		{"straße", "strasse"},
		{"Ａdmin", "admin"},
		{"caf\u00e9", "cafe\u0301"}, // NFC and NFD, escaped in the JSON body
		{"trailing ", "TRAILING"},
	} {
		first, second := confUnquote(pair[0]), confUnquote(pair[1])
		s.user(first)
		confError(t, s.do("POST", "/Users", `{"userName":"`+pair[1]+`"}`), 409, "uniqueness")
		require.Equal(t, []string{first}, s.filter(`userName eq "`+pair[1]+`"`), "%q finds %q", second, first)
		require.Equal(t, []string{first}, s.filter(`userName eq "`+pair[0]+`"`))
	}
	require.Equal(t, 5.0, s.list("")["totalResults"])
}

// checkUserNameInvisibleCharacters400 checks RFC7643 §7 LIB: a userName holding control or format characters (zero-width space or joiner, bidi controls) is refused with 400 `invalidValue` on POST, PUT and PATCH.
func checkUserNameInvisibleCharacters400(t *testing.T, s *server) {
	id := s.user("visible@example.com")
	for _, name := range []string{`ad\u200bmin`, `ad\u200dmin`, `\u202eadmin`, `admin\u2066`, `ad\u0000min`} {
		confError(t, s.do("POST", "/Users", `{"userName":"`+name+`"}`), 400, "invalidValue")
		confError(t, s.do("PUT", "/Users/"+id, `{"userName":"`+name+`"}`), 400, "invalidValue")
		confError(t, s.patch(id, `{"op":"replace","path":"userName","value":"`+name+`"}`), 400, "invalidValue")
	}
	require.Equal(t, "visible@example.com", s.get(id)["userName"])
	require.Equal(t, 1.0, s.list("")["totalResults"])
}

// checkPasswordNeverReturned checks RFC7643 §4.1.1 MUST: the password (`writeOnly`, `returned: never`) is never returned, not even when asked for with `attributes` (SHALL NOT).
func checkPasswordNeverReturned(t *testing.T, s *server) {
	r := s.do("POST", "/Users?attributes=password,userName", `{"userName":"pw@example.com","password":"s3cret-Pw"}`)
	require.Equal(t, 201, r.Status)
	id := r.Body["id"].(string)
	answers := []response{r}
	for _, p := range []string{"/Users/" + id, "/Users/" + id + "?attributes=password", "/Users/" + id + "?excludedAttributes=userName",
		"/Users", "/Users?attributes=password", "/Users?cursor=&count=5", `/Users?filter=userName+eq+"pw@example.com"`} {
		answers = append(answers, s.do("GET", p, ""))
	}
	answers = append(answers,
		s.do("PUT", "/Users/"+id+"?attributes=password", `{"userName":"pw@example.com","password":"s3cret-Pw"}`),
		s.do("POST", "/Users", `{"userName":"pw2@example.com","password":"s3cret-Pw"}`),
		s.do("PATCH", "/Users/"+id, confPatchOp(`{"op":"replace","value":{"password":"s3cret-Pw1"}}`)),
		s.do("PATCH", "/Users/"+id+"?attributes=password", confPatchOp(`{"op":"replace","path":"password","value":"s3cret-Pw2"}`)),
		s.do("POST", "/Users/.search", `{"attributes":["password"]}`))
	for _, a := range answers {
		require.Contains(t, []int{200, 201}, a.Status, "%s", a.Raw)
		require.NotContains(t, string(a.Raw), "s3cret")
		require.NotContains(t, string(a.Raw), `"password"`)
	}
	stored, err := s.Store.Get(inTenant(t, s.tenant()), id)
	require.NoError(t, err)
	require.True(t, scim.CheckPassword(stored.PasswordHash, "s3cret-Pw2"), "but it is written, as its hash")
	require.NotContains(t, stored.PasswordHash, "s3cret", "as a hash")
}

// checkPrimaryAtMostOnce checks RFC7643 §2.4 MUST: `primary: true` appears at most once per multi-valued attribute: a body with two is refused (400 `invalidValue`), a PATCH setting a new primary demotes the others (RFC 7644 §3.5.2 SHALL).
func checkPrimaryAtMostOnce(t *testing.T, s *server) {
	two := `[{"value":"a@x.example","primary":true},{"value":"b@x.example","primary":true}]`
	confError(t, s.do("POST", "/Users", `{"userName":"p@example.com","emails":`+two+`}`), 400, "invalidValue")
	id := s.create(`{"userName":"p@example.com","emails":[{"value":"a@x.example","type":"work","primary":true}]}`)["id"].(string)
	confError(t, s.do("PUT", "/Users/"+id, `{"userName":"p@example.com","emails":`+two+`}`), 400, "invalidValue")
	r := s.patch(id, `{"op":"add","path":"emails","value":[{"value":"c@x.example","type":"home","primary":true}]}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, confList{confObj{"value": "a@x.example", "type": "work"}, confObj{"value": "c@x.example", "type": "home", "primary": true}}, r.Body["emails"])
	r = s.patch(id, `{"op":"replace","path":"emails[type eq \"work\"].primary","value":true}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, confList{confObj{"value": "a@x.example", "type": "work", "primary": true}, confObj{"value": "c@x.example", "type": "home"}}, r.Body["emails"])
	require.Equal(t, r.Body, s.get(id))
}

// checkMultiValuedRoundTrip checks RFC7643 §2.4 MUST: multi-valued attributes are JSON arrays whose elements keep their sub-attributes (value, type, display, primary) and order.
func checkMultiValuedRoundTrip(t *testing.T, s *server) {
	body := `{"userName":"mv@example.com","phoneNumbers":[{"value":"555-1","type":"work","display":"Work"},{"value":"555-2","type":"mobile","primary":true}],
				"roles":[{"value":"b"},{"value":"a"}]}`
	u := s.create(body)
	want := confSent(t, body)
	require.Equal(t, want["phoneNumbers"], u["phoneNumbers"])
	require.Equal(t, want["roles"], u["roles"])
	u = s.create(`{"userName":"mv2@example.com","emails":{"value":"single@x.example"}}`)
	require.Equal(t, confList{confObj{"value": "single@x.example"}}, u["emails"], "a single value becomes an array of one")
}

// checkNullIsUnassigned checks RFC7643 §2.5 MUST: null, an empty array and an unassigned attribute are the same state (SHALL): such attributes are absent, and `pr` does not match them.
func checkNullIsUnassigned(t *testing.T, s *server) {
	u := s.create(`{"userName":"null@example.com","nickName":null,"emails":[],"name":{"givenName":null},
				"addresses":null,"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":null}}`)
	for _, k := range []string{"nickName", "emails", "name", "addresses", enterpriseNS} {
		require.NotContains(t, u, k)
	}
	require.Equal(t, []any{userURN}, u["schemas"])
	id := u["id"].(string)
	s.patch(id, `{"op":"add","path":"title","value":"T"}`, `{"op":"add","path":"phoneNumbers","value":[{"value":"1"}]}`)
	r := s.patch(id, `{"op":"replace","path":"title","value":null}`, `{"op":"replace","path":"phoneNumbers","value":[]}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.NotContains(t, r.Body, "title")
	require.NotContains(t, r.Body, "phoneNumbers")
	r = s.do("PUT", "/Users/"+id, `{"userName":"null@example.com","displayName":"D","emails":[],"title":null}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, []string{"displayName", "id", "meta", "schemas", "userName"}, confKeys(r.Body))
	for _, f := range []string{"title pr", "nickName pr", "emails pr", "phoneNumbers pr", "name pr"} {
		require.Empty(t, s.filter(f), f)
	}
	require.Equal(t, []string{"null@example.com"}, s.filter("not (title pr) and displayName pr"))
	requireNoNulls(t, "", s.get(id))
	requireNoNulls(t, "", s.list(""))
}

// checkSchemasAttribute checks RFC7643 §3 MUST: every resource carries `schemas` (REQUIRED) with the core URN, and the extension URN exactly when extension attributes are present.
func checkSchemasAttribute(t *testing.T, s *server) {
	plain := s.create(`{"userName":"plain@example.com","schemas":["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]}`)
	require.Equal(t, []string{userURN}, confStrings(plain["schemas"]), "derived from content, not echoed")
	ext := s.create(`{"userName":"ext@example.com","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D"}}`)
	require.Equal(t, []string{userURN, enterpriseNS}, confStrings(ext["schemas"]))
	for _, u := range confResources(t, s.list("")) {
		require.NotEmpty(t, confStrings(u["schemas"]))
		require.Equal(t, userURN, confStrings(u["schemas"])[0])
	}
	for _, q := range []string{"attributes=userName", "excludedAttributes=schemas", "attributes=" + enterpriseNS + ":department"} {
		for _, u := range confResources(t, s.list(q)) {
			require.Contains(t, confStrings(u["schemas"]), userURN, q)
		}
	}
	id := ext["id"].(string)
	r := s.patch(id, `{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, []string{userURN}, confStrings(r.Body["schemas"]), "no extension attribute left: no extension URN")
}

// checkEnterpriseExtension checks RFC7643 §4.3 MUST: the enterprise extension round-trips under its URN and works in filters, sorting, `attributes` and PATCH paths.
func checkEnterpriseExtension(t *testing.T, s *server) {
	u := s.create(`{"userName":"ent@example.com","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{
				"employeeNumber":"42","costCenter":"CC","organization":"Org","division":"Div","department":"Dept","manager":{"value":"boss-id"}}}`)
	s.create(`{"userName":"ent2@example.com","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7"}}`)
	id := u["id"].(string)
	require.Equal(t, confObj{"employeeNumber": "42", "costCenter": "CC", "organization": "Org", "division": "Div",
		"department": "Dept", "manager": confObj{"value": "boss-id"}}, u[enterpriseNS])
	require.Equal(t, []string{"ent@example.com"}, s.filter(enterpriseNS+`:employeeNumber eq "42"`))
	require.Equal(t, []string{"ent@example.com"}, s.filter(enterpriseNS+`:manager.value eq "boss-id"`))
	require.Equal(t, []string{"ent2@example.com", "ent@example.com"}, confNames(t, s.list("sortBy="+enterpriseNS+":employeeNumber&sortOrder=descending")))
	g := s.do("GET", "/Users/"+id+"?attributes="+enterpriseNS+":department", "").Body
	require.Equal(t, confObj{"department": "Dept"}, g[enterpriseNS])
	r := s.patch(id, `{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"new-boss"}`,
		`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, confObj{"employeeNumber": "42", "organization": "Org", "division": "Div",
		"department": "Dept", "manager": confObj{"value": "new-boss"}}, r.Body[enterpriseNS])
	confError(t, s.patch(id, `{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"x"}`), 400, "mutability")
}
