package scim_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// Mount the handler next to the app's own routes; Entra ID's Tenant URL is then https://<host>/scim/v2.
func ExampleNew() {
	store := memstore.New()
	h, err := scim.New(store, scim.WithTokens("s3cret")) // an empty token (an unset variable) is an error
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the app's home page") })
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))

	// Entra ID's Test Connection: a filter on a random userName must answer an empty list.
	req := httptest.NewRequest("GET", `/scim/v2/Users?filter=userName+eq+%22a0b1c2d3%22`, nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(rec.Body.String())
	// Output:
	// 200 application/scim+json
	// {"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"itemsPerPage":0,"startIndex":1,"Resources":[]}
}

// A multi-tenant SaaS maps each customer's token to its account; the Store then sees only that account's
// users (scim.Tenant).
func ExampleWithAuthenticator() {
	// The host's accounts table, keyed by token hash: it never stores the tokens themselves.
	token, hash := scim.MintToken()
	accounts := map[scim.TokenHash]string{hash: "acme"}

	h := scim.MustNew(memstore.New(), scim.WithAuthenticator(func(r *http.Request) (string, error) {
		tok, ok := scim.BearerToken(r)
		if !ok {
			return "", scim.ErrUnauthorized
		}
		account, ok := accounts[scim.HashToken(tok)]
		if !ok {
			return "", scim.ErrUnauthorized
		}
		return account, nil
	}))

	for _, tok := range []string{token, "guessed"} {
		req := httptest.NewRequest("GET", "/Users", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Values("WWW-Authenticate"))
	}
	// Output:
	// 200 []
	// 401 [Bearer realm="scim", error="invalid_token"]
}

// React to provisioning: a deactivated user loses access at once.
func ExampleWithEvents() {
	revoked := make(chan string, 1)
	h := scim.MustNew(memstore.New(), scim.WithTokens("t"),
		scim.WithEvents(func(ctx context.Context, e scim.Event) {
			if e.Type == scim.UserDeactivated || e.Type == scim.UserDeleted {
				revoked <- e.Tenant + "/" + e.Before.UserName // e.g. delete the user's sessions
			}
		}))
	send := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", "application/scim+json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	created := send("POST", "/Users", `{"userName":"jane@contoso.com","active":true}`)
	id := created.Header().Get("Location")[strings.LastIndex(created.Header().Get("Location"), "/")+1:]
	send("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	// Hooks run on the handler's workers. At exit, after the http.Server's Shutdown, deliver what is queued.
	if err := h.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println("revoke sessions of", <-revoked)
	// Output: revoke sessions of /jane@contoso.com
}

// One structured line per request, for the host's logs.
func ExampleWithRequestLog() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { // drop what changes from run to run
			if a.Key == "time" || a.Key == "duration" || a.Key == "request_id" {
				return slog.Attr{}
			}
			return a
		}}))
	h := scim.MustNew(memstore.New(), scim.WithTokens("t"), scim.WithRequestLog(logger))
	req := httptest.NewRequest("GET", "/Users/42", nil)
	req.Header.Set("Authorization", "Bearer t")
	h.ServeHTTP(httptest.NewRecorder(), req)
	// Output: level=INFO msg="scim request" method=GET route=/Users/{id} status=404 scimType="" tenant=""
}

// Every bound is a field of Limits: zero keeps the default, NoLimit turns the bound off, and a mistake is
// New's error, not a surprise in production.
func ExampleWithLimits() {
	_, err := scim.New(memstore.New(), scim.WithTokens("s3cret"), scim.WithLimits(scim.Limits{
		MaxResults: 200,                                 // pages of at most 200 users
		MaxScan:    scim.NoLimit,                        // small tenants: any filter may scan them whole
		Tenant:     scim.TenantLimits{MaxConcurrent: 4}, // the other tenant limits keep their defaults
	}))
	fmt.Println(err)

	_, err = scim.New(memstore.New(), scim.WithTokens("s3cret"), scim.WithLimits(scim.Limits{MaxOperations: -10}))
	fmt.Println(errors.Is(err, scim.ErrInvalidOption))
	// Output:
	// <nil>
	// true
}
