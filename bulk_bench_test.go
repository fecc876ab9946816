package scim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
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

// The same over HTTP, as a client sends them: one connection kept alive (as Entra ID and Okta keep theirs),
// 1000 POST /Users one after the other against one POST /Bulk. The server's work and the client's are both
// in the time (one process).
//
//	go test -run '^$' -bench 'CreateHTTP' -benchmem -count 3 .
func BenchmarkBulkCreateHTTP(b *testing.B) {
	ops := make([]string, benchCreates)
	for i := range ops {
		ops[i] = `{"method":"POST","path":"/Users","bulkId":"b` + itoa(i) + `","data":` + benchUser(i) + `}`
	}
	body := bulkBody("", ops...)
	benchHTTP(b, func(c *http.Client, url string) {
		if status := post(b, c, url+"/Bulk", body); status != http.StatusOK {
			b.Fatalf("status %d", status)
		}
	})
}

func BenchmarkPOSTCreateHTTP(b *testing.B) {
	bodies := make([]string, benchCreates)
	for i := range bodies {
		bodies[i] = benchUser(i)
	}
	benchHTTP(b, func(c *http.Client, url string) {
		for _, body := range bodies {
			if status := post(b, c, url+"/Users", body); status != http.StatusCreated {
				b.Fatalf("status %d", status)
			}
		}
	})
}

// benchHTTP times run against a fresh memstore's handler served over HTTP for each iteration.
func benchHTTP(b *testing.B, run func(c *http.Client, url string)) {
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		srv := httptest.NewServer(scim.MustNew(memstore.New(), scim.WithTokens("t")))
		c := srv.Client()
		b.StartTimer()
		run(c, srv.URL)
		b.StopTimer()
		srv.Close()
		b.StartTimer()
	}
}

func post(b *testing.B, c *http.Client, url, body string) int {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
