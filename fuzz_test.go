package scim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// Fuzz targets for what a client controls most: the bodies of POST, PUT and PATCH. The invariant: never a
// panic, never a 5xx; every rejection is a 4xx SCIM error; a rejected write changes nothing.

var fuzzUsers = []string{
	entraCreate,
	`{"userName":"wild@contoso.com","active":"True","addresses":null,"department":"x","emails":[{"primary":"True","type":"work","value":"w@x"}]}`,
	`{"userName":"a","name":{"formatted":"A"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m","employeeNumber":42}}`,
	`{"userName":"b","emails":{"value":"single@x"},"phoneNumbers":[{"value":"1","primary":true},{"value":"2","primary":true}]}`,
	`{"USERNAME":"c","name.formatted":"dotted","urn:ietf:params:scim:schemas:core:2.0:User:displayName":"D","meta":{"created":"x"},"id":"forged"}`,
	`{}`, `[]`, `null`, `{"userName":""}`, `{"userName":1}`, `{"active":"maybe","userName":"x"}`,
}

var fuzzPatches = []string{
	entraUpdateDefault, entraUpdateCompliant,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
	`{"Operations":[]}`,
	`{"Operations":[{"op":"Add","path":"nickName","value":"Babs"}]}`,
	`{"Operations":[{"op":"remove","path":"emails[type eq \"work\"]"}]}`,
	`{"Operations":[{"op":"add","path":"emails","value":[{"value":"n@x","primary":true}]}]}`,
	`{"Operations":[{"op":"remove","path":"roles","value":[{"value":"r1"}]}]}`,
	`{"Operations":[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m2"}}}}]}`,
	`{"Operations":[{"op":"replace","path":"userName","value":null}]}`,
	`{"Operations":[{"op":"replace","path":"id","value":"x"}]}`,
	`{"Operations":[{"op":"replace","path":"emails[type eq \"nonexistent\"].value","value":"x"}]}`,
	`{"Operations":[{"op":"add","path":"addresses[type eq \"work\"].streetAddress","value":"1 Main"}]}`,
	`{"Operations":[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]}`,
}

// fuzzServe answers one request on h.
func fuzzServe(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/scim+json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// checkAnswer enforces what every answer must be: no 5xx, SCIM content type, and a SCIM error body for a 4xx.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: %d %s", what, rec.Code, rec.Body)
	}
	if rec.Body.Len() > 0 && rec.Header().Get("Content-Type") != "application/scim+json" {
		t.Fatalf("%s: Content-Type %q", what, rec.Header().Get("Content-Type"))
	}
	if rec.Code >= 400 {
		var e struct {
			Schemas []string `json:"schemas"`
			Status  string   `json:"status"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Status != strconv.Itoa(rec.Code) ||
			len(e.Schemas) != 1 || e.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
			t.Fatalf("%s: %d is not a SCIM error: %s", what, rec.Code, rec.Body)
		}
	}
}

func FuzzCreateAndReplace(f *testing.F) {
	for _, u := range fuzzUsers {
		f.Add(u)
	}
	f.Fuzz(func(t *testing.T, body string) {
		h := scim.MustNew(memstore.New(), scim.WithTokens(testToken))
		rec := fuzzServe(h, "POST", "/Users", body)
		checkAnswer(t, rec, "POST")
		base := fuzzServe(h, "POST", "/Users", `{"userName":"base@example.com","displayName":"Base"}`)
		var created struct{ ID string }
		_ = json.Unmarshal(base.Body.Bytes(), &created)
		before := fuzzServe(h, "GET", "/Users/"+created.ID, "").Body.String()
		rec = fuzzServe(h, "PUT", "/Users/"+created.ID, body)
		checkAnswer(t, rec, "PUT")
		if rec.Code >= 400 {
			if after := fuzzServe(h, "GET", "/Users/"+created.ID, "").Body.String(); after != before {
				t.Fatalf("a rejected PUT changed the user:\n%s\n%s", before, after)
			}
		}
	})
}

func FuzzPatch(f *testing.F) {
	for _, p := range fuzzPatches {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, body string) {
		h := scim.MustNew(memstore.New(), scim.WithTokens(testToken))
		rec := fuzzServe(h, "POST", "/Users", `{"userName":"pat@example.com","displayName":"Pat","active":true,
			"name":{"formatted":"Pat S","givenName":"Pat"},
			"emails":[{"value":"pat@work.example","type":"work","primary":true},{"value":"pat@home.example","type":"home"}],
			"roles":[{"value":"r1"},{"value":"r2"}],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1","manager":{"value":"m1"}}}`)
		var created struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || created.ID == "" {
			t.Fatalf("seed user: %s", rec.Body)
		}
		before := fuzzServe(h, "GET", "/Users/"+created.ID, "").Body.String()
		rec = fuzzServe(h, "PATCH", "/Users/"+created.ID, body)
		checkAnswer(t, rec, "PATCH")
		after := fuzzServe(h, "GET", "/Users/"+created.ID, "")
		checkAnswer(t, after, "GET after PATCH")
		if after.Code != 200 {
			t.Fatalf("the user is unreadable after PATCH: %d %s", after.Code, after.Body)
		}
		if rec.Code >= 400 && after.Body.String() != before {
			t.Fatalf("a rejected PATCH changed the user (not atomic):\n%s\n%s", before, after.Body)
		}
	})
}

// FuzzBounds: whatever a client sends (a PATCH, then a search), no answer passes its budget: a user never
// holds more values in a multi-valued attribute than Limits.MaxValues, a list never answers more than
// Limits.MaxPageBytes (beyond one user) or more items than count, and every refusal is a 4xx SCIM error.
func FuzzBounds(f *testing.F) {
	f.Add(`{"Operations":[{"op":"add","path":"emails","value":[{"value":"a"},{"value":"b"},{"value":"c"}]}]}`,
		`{"filter":"emails co \"a\" or emails co \"b\"","sortBy":"emails","count":3}`)
	f.Add(`{"Operations":[{"op":"add","value":{"roles":[{"value":"1"},{"value":"2"},{"value":"3"},{"value":"4"}]}}]}`,
		`{"excludedAttributes":["a","b","c","d","e","f"],"startIndex":2}`)
	f.Add(`{"Operations":[{"op":"remove","path":"emails","value":[{"value":"x","type":"work"}]}]}`,
		`{"filter":"title pr","sortBy":"userName","sortOrder":"descending","count":2}`)
	f.Fuzz(func(t *testing.T, patch, search string) {
		const maxValues, maxPage = 3, 2048
		h := scim.MustNew(memstore.New(), scim.WithTokens(testToken), scim.WithLimits(scim.Limits{MaxValues: maxValues, MaxPageBytes: maxPage, MaxScan: 4, MaxAttributeNames: 5, MaxOperations: 5}))
		var ids []string
		for i := range 4 {
			rec := fuzzServe(h, "POST", "/Users", `{"userName":"u`+strconv.Itoa(i)+`","title":"t","displayName":"`+strings.Repeat("d", 400*i)+`"}`)
			var created struct{ ID string }
			_ = json.Unmarshal(rec.Body.Bytes(), &created)
			ids = append(ids, created.ID)
		}
		rec := fuzzServe(h, "PATCH", "/Users/"+ids[0], patch)
		checkAnswer(t, rec, "PATCH")
		var u map[string]any
		_ = json.Unmarshal(fuzzServe(h, "GET", "/Users/"+ids[0], "").Body.Bytes(), &u)
		for k, v := range u {
			if list, ok := v.([]any); ok && k != "schemas" && len(list) > maxValues {
				t.Fatalf("%s holds %d values, past %d", k, len(list), maxValues)
			}
		}
		rec = fuzzServe(h, "POST", "/Users/.search", search)
		checkAnswer(t, rec, "search")
		if rec.Code != 200 {
			return
		}
		var page struct {
			ItemsPerPage int
			Resources    []json.RawMessage
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatalf("list: %v", err)
		}
		if page.ItemsPerPage != len(page.Resources) {
			t.Fatalf("itemsPerPage %d for %d resources", page.ItemsPerPage, len(page.Resources))
		}
		if page.ItemsPerPage > 1 && rec.Body.Len() > maxPage+200 { // 200: the envelope
			t.Fatalf("a page of %d bytes, past %d", rec.Body.Len(), maxPage)
		}
	})
}

// FuzzDeclared: against a declared schema (the five attributes Entra ID maps and a host extension), whatever a
// POST and a PATCH carry, answers are SCIM, nothing outside the declaration is ever stored or returned, and
// the host extension's values keep their declared types.
func FuzzDeclared(f *testing.F) {
	for _, u := range fuzzUsers {
		f.Add(u, `{"Operations":[{"op":"add","path":"title","value":"T"}]}`)
	}
	for _, p := range fuzzPatches {
		f.Add(`{"userName":"d@example.com"}`, p)
	}
	f.Add(`{"userName":"d@example.com","`+moqupsURN+`":{"seats":"3","vip":"True","tag":"x"}}`,
		`{"Operations":[{"op":"replace","value":{"`+moqupsURN+`:seats":4,"name.givenName":"G"}}]}`)
	f.Fuzz(func(t *testing.T, body, patch string) {
		store := memstore.New()
		h := scim.MustNew(store, scim.WithTokens(testToken), scim.WithUserSchema(entraOnly))
		rec := fuzzServe(h, "POST", "/Users", body)
		checkAnswer(t, rec, "POST")
		if rec.Code != 201 {
			rec = fuzzServe(h, "POST", "/Users", `{"userName":"seed@example.com"}`)
		}
		var created struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || created.ID == "" {
			t.Fatalf("no user: %s", rec.Body)
		}
		rec = fuzzServe(h, "PATCH", "/Users/"+created.ID, patch)
		checkAnswer(t, rec, "PATCH")
		got := fuzzServe(h, "GET", "/Users/"+created.ID, "")
		checkAnswer(t, got, "GET")
		var doc map[string]any
		if err := json.Unmarshal(got.Body.Bytes(), &doc); err != nil {
			t.Fatalf("GET: %s", got.Body)
		}
		for k := range doc {
			switch k {
			case "schemas", "id", "meta", "userName", "active", "displayName", "emails", "name", moqupsURN:
			default:
				t.Fatalf("undeclared attribute %q returned: %s", k, got.Body)
			}
		}
		if n, ok := doc["name"].(map[string]any); ok && (len(n) != 1 || n["formatted"] == nil) {
			t.Fatalf("undeclared sub-attribute of name returned: %s", got.Body)
		}
		u, err := store.Get(scim.ContextWithTenant(context.Background(), ""), created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Title != "" || u.ExternalID != "" || u.Enterprise != nil || len(u.PhoneNumbers) > 0 || u.PasswordHash != "" {
			t.Fatalf("undeclared attributes stored: %+v", u)
		}
		if _, ok := u.Extensions[moqupsURN]["seats"]; ok {
			if _, isInt := (scim.ExtensionAttr[int64]{URN: moqupsURN, Name: "seats"}).Get(u); !isInt {
				t.Fatalf("seats is not an integer: %#v", u.Extensions[moqupsURN]["seats"])
			}
		}
	})
}

// FuzzGroupPatch: whatever a group PATCH carries, the answer is SCIM and never a 5xx, a rejected PATCH changes
// nothing, and every member is one of the tenant's users.
func FuzzGroupPatch(f *testing.F) {
	for _, p := range []string{
		`{"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"U1"}]}]}`,
		`{"Operations":[{"op":"Remove","path":"members","value":[{"value":"U2"}]}]}`,
		`{"Operations":[{"op":"remove","path":"members[value eq \"U2\"]"},{"op":"add","path":"members","value":[{"value":"U3","display":"x"}]}]}`,
		`{"Operations":[{"op":"replace","value":{"id":"G","displayName":"Team"}}]}`,
		`{"Operations":[{"op":"replace","path":"members","value":[{"value":"U1"},{"value":"nobody"}]}]}`,
		`{"Operations":[{"op":"remove","path":"members"}]}`,
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, patch string) {
		store := memstore.New()
		h := scim.MustNew(store, scim.WithTokens(testToken))
		ids := map[string]string{}
		for _, n := range []string{"U1", "U2", "U3"} {
			var u struct{ ID string }
			_ = json.Unmarshal(fuzzServe(h, "POST", "/Users", `{"userName":"`+n+`@example.com"}`).Body.Bytes(), &u)
			ids[n] = u.ID
			patch = strings.ReplaceAll(patch, `"`+n+`"`, `"`+u.ID+`"`)
		}
		rec := fuzzServe(h, "POST", "/Groups", `{"displayName":"Team","members":[{"value":"`+ids["U2"]+`"}]}`)
		var g struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &g); err != nil || g.ID == "" {
			t.Fatalf("seed group: %s", rec.Body)
		}
		patch = strings.ReplaceAll(patch, `"G"`, `"`+g.ID+`"`)
		before := fuzzServe(h, "GET", "/Groups/"+g.ID, "").Body.String()
		rec = fuzzServe(h, "PATCH", "/Groups/"+g.ID, patch)
		checkAnswer(t, rec, "PATCH")
		after := fuzzServe(h, "GET", "/Groups/"+g.ID, "")
		checkAnswer(t, after, "GET after PATCH")
		if rec.Code >= 400 && after.Body.String() != before {
			t.Fatalf("a rejected PATCH changed the group:\n%s\n%s", before, after.Body)
		}
		var doc struct{ Members []struct{ Value string } }
		_ = json.Unmarshal(after.Body.Bytes(), &doc)
		for _, m := range doc.Members {
			if m.Value != ids["U1"] && m.Value != ids["U2"] && m.Value != ids["U3"] {
				t.Fatalf("a member that is no user: %s", after.Body)
			}
		}
	})
}
