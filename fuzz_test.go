package scim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/scimkit/scim"
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
		h := scim.NewHandler(scim.NewMemoryStore(), scim.WithTokens(testToken))
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
		h := scim.NewHandler(scim.NewMemoryStore(), scim.WithTokens(testToken))
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
