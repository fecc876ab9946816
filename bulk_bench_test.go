package scim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// The cost of Bulk over the requests it stands for: 1000 user creates in one POST /Bulk against 1000
// POST /Users, through the same handler over a fresh memstore each time (a store keeps its users, and a
// second run's creates would conflict):
//
//	go test -run '^$' -bench 'BulkCreate1000|POSTCreate1000' -benchmem -count 3 .

const benchCreates = 1000

func benchUser(i int) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"user` + itoa(i) + `@contoso.com","active":true,` +
		`"displayName":"User ` + itoa(i) + `","externalId":"ext-` + itoa(i) + `",` +
		`"emails":[{"value":"user` + itoa(i) + `@contoso.com","type":"work","primary":true}],"name":{"givenName":"U","familyName":"Ser"}}`
}

func BenchmarkBulkCreate1000(b *testing.B) {
	ops := make([]string, benchCreates)
	for i := range ops {
		ops[i] = `{"method":"POST","path":"/Users","bulkId":"b` + itoa(i) + `","data":` + benchUser(i) + `}`
	}
	body := bulkBody("", ops...)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		h := scim.MustNew(memstore.New(), scim.WithTokens("t"))
		req := benchRequest("POST", "/Bulk", body)
		clear(w.h)
		b.StartTimer()
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

func BenchmarkPOSTCreate1000(b *testing.B) {
	bodies := make([]string, benchCreates)
	for i := range bodies {
		bodies[i] = benchUser(i)
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		h := scim.MustNew(memstore.New(), scim.WithTokens("t"))
		reqs := make([]*http.Request, len(bodies))
		for i, body := range bodies {
			reqs[i] = benchRequest("POST", "/Users", body)
		}
		b.StartTimer()
		for _, req := range reqs {
			clear(w.h)
			h.ServeHTTP(w, req)
			if w.status != http.StatusCreated {
				b.Fatalf("status %d", w.status)
			}
		}
	}
}

func benchRequest(method, path, body string) *http.Request {
	req, _ := http.NewRequest(method, "http://scim.example"+path, strings.NewReader(body))
	req.RequestURI = path
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/scim+json")
	return req
}
