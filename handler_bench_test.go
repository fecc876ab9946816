package scim_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// discardWriter is a ResponseWriter that keeps nothing, reused across requests, so that -benchmem counts
// only the handler's own allocations.
type discardWriter struct {
	h      http.Header
	status int // the last status written, checked after the loop
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }

// BenchmarkHandler measures the handler's hot paths over a memstore of 10k Entra-shaped users:
//
//	go test -run '^$' -bench Handler -benchmem .
func BenchmarkHandler(b *testing.B) {
	store := memstore.New()
	h := scim.MustNew(store, scim.WithTokens("t"))
	var id string
	for i := range 10_000 {
		rec := httptest.NewRecorder()
		body := `{"userName":"user` + itoa(i) + `@contoso.com","active":true,"displayName":"User","externalId":"ext-` + itoa(i) + `",
			"emails":[{"value":"user` + itoa(i) + `@contoso.com","type":"work","primary":true}],"name":{"formatted":"User"}}`
		req := httptest.NewRequest("POST", "/Users", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer t")
		h.ServeHTTP(rec, req)
		if i == 5000 {
			id = rec.Header().Get("Location")[strings.LastIndex(rec.Header().Get("Location"), "/")+1:]
		}
	}
	for _, c := range []struct{ name, method, path, body string }{
		{"get-by-id", "GET", "/Users/" + id, ""},
		{"username-eq", "GET", `/Users?filter=userName+eq+%22user5000@contoso.com%22`, ""},
		{"username-eq-miss", "GET", `/Users?filter=userName+eq+%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22`, ""},
		{"patch-entra", "PATCH", "/Users/" + id, entraUpdateDefault},
	} {
		b.Run(c.name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			req := httptest.NewRequest(c.method, c.path, nil)
			req.Header.Set("Authorization", "Bearer t")
			req.Header.Set("Content-Type", "application/scim+json")
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				if c.body != "" {
					req.Body = nopCloser{strings.NewReader(c.body)}
				}
				h.ServeHTTP(w, req)
			}
			if w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		})
	}

	// Entra's PATCH that changes the user every time (two value sets in turn), so each request also writes
	// a new version, where patch-entra after its first request compares and keeps the user.
	b.Run("patch-entra-changes", func(b *testing.B) {
		bodies := [2][]byte{[]byte(entraUpdateDefault), []byte(strings.NewReplacer("Pvlo", "Pvlo 2", "new@contoso.com",
			"new2@contoso.com", "Jane Q Doe", "Jane Q Doe 2", `"42"`, `"43"`).Replace(entraUpdateDefault))}
		w := &discardWriter{h: http.Header{}}
		req := httptest.NewRequest("PATCH", "/Users/"+id, nil)
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", "application/scim+json")
		body := &bodyReader{}
		k := 0
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			k++
			body.Reset(bodies[k%2])
			req.Body = body
			h.ServeHTTP(w, req)
			if w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		}
	})

	// Entra's POST of a new user (bench's entraPostBody): a new userName and externalId every time, written
	// into one reused buffer so that the benchmark itself allocates nothing per request.
	k := 0 // across the runs of -count: each creates new userNames
	b.Run("post-entra", func(b *testing.B) {
		w := &discardWriter{h: http.Header{}}
		req := httptest.NewRequest("POST", "/Users", nil)
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", "application/scim+json")
		body := &bodyReader{}
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			k++
			buf = append(buf[:0], `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"externalId":"`...)
			buf = strconv.AppendInt(buf, int64(k), 16)
			buf = append(buf, `-8d2a-4f8e-bf98-7363c4aed4ef","userName":"new`...)
			buf = strconv.AppendInt(buf, int64(k), 10)
			buf = append(buf, `@contoso.com","active":true,"displayName":"Jane Doe","emails":[{"primary":true,"type":"work","value":"new`...)
			buf = strconv.AppendInt(buf, int64(k), 10)
			buf = append(buf, `@contoso.com"}],"meta":{"resourceType":"User"},"name":{"formatted":"Jane Doe","familyName":"Doe","givenName":"Jane"},"roles":[]}`...)
			body.Reset(buf)
			req.Body = body
			h.ServeHTTP(w, req)
		}
		if w.status != http.StatusCreated {
			b.Fatalf("status %d", w.status)
		}
	})
}

// bodyReader is a reusable request body: a pointer, so that assigning it to Request.Body allocates nothing.
type bodyReader struct{ bytes.Reader }

func (*bodyReader) Close() error { return nil }

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for ; i > 0; i /= 10 {
		n--
		b[n] = byte('0' + i%10)
	}
	return string(b[n:])
}
