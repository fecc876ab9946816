package scim_test

// The handler over a Store, black-box: users it reads are shared and never modified, and concurrent writes
// through it keep the Store's uniqueness and versions.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// TestStoreUsersShared: users the Store hands out are shared, so the handler must never modify them;
// a PATCH or PUT replaces a user, it does not change the value an earlier reader holds.
func TestStoreUsersShared(t *testing.T) {
	s := newTestServer(t)
	id := s.create(patchBase)["id"].(string)
	held, err := s.Store.Get(single(), id)
	require.NoError(t, err)
	snapshot, err := json.Marshal(held)
	require.NoError(t, err)

	require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(
		`{"op":"replace","path":"emails[type eq \"work\"].value","value":"changed@example.com"}`,
		`{"op":"add","path":"emails","value":{"value":"p@example.com","primary":true}}`,
		`{"op":"replace","path":"name.givenName","value":"Changed"}`,
		`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m9"}`)).Status)
	require.Equal(t, 200, s.do("PUT", "/Users/"+id, `{"userName":"pat@example.com"}`).Status)
	_ = s.do("GET", "/Users?attributes=emails&sortBy=emails", "")

	after, err := json.Marshal(held)
	require.NoError(t, err)
	require.JSONEq(t, string(snapshot), string(after))
}

// --- concurrency (run with -race) ---

// rawDo is s.send by its parts, for parallel.
func rawDo(s *testServer, method, path, body string, headers ...string) (int, []byte, error) {
	r, err := s.send(method, path, body, headers...)
	return r.Status, r.Raw, err
}

// parallel runs f(i) for i in [0, n) concurrently and returns their statuses.
func parallel(t *testing.T, n int, f func(i int) (int, []byte, error)) []int {
	t.Helper()
	statuses := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var raw []byte
			statuses[i], raw, errs[i] = f(i)
			if errs[i] == nil && statuses[i] >= 500 {
				errs[i] = fmt.Errorf("%d: %s", statuses[i], raw)
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	return statuses
}

func count(statuses []int, status int) int {
	n := 0
	for _, s := range statuses {
		if s == status {
			n++
		}
	}
	return n
}

// TestConcurrentCreateSameUserName: of many concurrent creates of one userName (in different cases)
// exactly one succeeds.
func TestConcurrentCreateSameUserName(t *testing.T) {
	s := newTestServer(t)
	names := []string{"race@example.com", "RACE@example.com", "Race@Example.com", "race@EXAMPLE.com"}
	statuses := parallel(t, 32, func(i int) (int, []byte, error) {
		return rawDo(s, "POST", "/Users", `{"userName":"`+names[i%len(names)]+`"}`)
	})
	require.Equal(t, 1, count(statuses, 201), "%v", statuses)
	require.Equal(t, 31, count(statuses, 409), "%v", statuses)
	require.Equal(t, 1.0, s.do("GET", `/Users?filter=userName+eq+"race@example.com"`, "").Body["totalResults"])
}

// TestConcurrentPatchNoLostUpdate: PATCHes without If-Match are read-modify-replace with retries, so
// concurrent ones never lose each other's changes.
func TestConcurrentPatchNoLostUpdate(t *testing.T) {
	s := newTestServer(t)
	id := s.createUser("busy@example.com")
	const writers, each = 8, 5
	statuses := parallel(t, writers, func(w int) (int, []byte, error) {
		for j := range each {
			op := `{"op":"add","path":"roles","value":[{"value":"r` + strconv.Itoa(w) + `-` + strconv.Itoa(j) + `"}]}`
			status, raw, err := rawDo(s, "PATCH", "/Users/"+id, patchOp(op))
			if err != nil || status != 200 {
				return status, raw, err
			}
		}
		return 200, nil, nil
	})
	require.Equal(t, writers, count(statuses, 200), "%v", statuses)
	u := s.get(id)
	require.Len(t, u["roles"], writers*each)
	version, _ := strconv.Unquote(strings.TrimPrefix(u["meta"].(map[string]any)["version"].(string), "W/"))
	require.Equal(t, strconv.Itoa(1+writers*each), version, "one write per operation")
}

// TestConcurrentIfMatch: of concurrent writes conditioned on the same version, exactly one wins; the others
// get 412 and must read again.
func TestConcurrentIfMatch(t *testing.T) {
	s := newTestServer(t)
	r := s.do("POST", "/Users", `{"userName":"cond@example.com"}`)
	id, etag := r.Body["id"].(string), r.Header.Get("ETag")
	statuses := parallel(t, 16, func(i int) (int, []byte, error) {
		if i%2 == 0 {
			return rawDo(s, "PATCH", "/Users/"+id, patchOp(`{"op":"replace","path":"title","value":"t`+strconv.Itoa(i)+`"}`), "If-Match", etag)
		}
		return rawDo(s, "PUT", "/Users/"+id, `{"userName":"cond@example.com","title":"t`+strconv.Itoa(i)+`"}`, "If-Match", etag)
	})
	require.Equal(t, 1, count(statuses, 200), "%v", statuses)
	require.Equal(t, 15, count(statuses, 412), "%v", statuses)
}

// TestConcurrentTenants: a mixed workload of several tenants at once; each ends with exactly its own users.
func TestConcurrentTenants(t *testing.T) {
	s := newTestServer(t, scim.WithAuthenticator(func(r *http.Request) (string, error) {
		tok, ok := scim.BearerToken(r)
		if !ok || !strings.HasPrefix(tok, "tenant-") {
			return "", scim.ErrUnauthorized
		}
		return tok, nil
	}))
	const tenants, users = 4, 10
	parallel(t, tenants*users, func(i int) (int, []byte, error) {
		tok := "tenant-" + strconv.Itoa(i%tenants)
		name := "user" + strconv.Itoa(i/tenants) + "@example.com" // the same names in every tenant
		status, raw, err := rawDo(s.as(tok), "POST", "/Users", `{"userName":"`+name+`","title":"`+tok+`"}`)
		if err != nil || status != 201 {
			return status, raw, fmt.Errorf("create: %d %s %v", status, raw, err)
		}
		var u map[string]any
		if err := json.Unmarshal(raw, &u); err != nil {
			return 0, raw, err
		}
		id := u["id"].(string)
		steps := []struct{ method, path, body string }{
			{"GET", "/Users/" + id, ""},
			{"GET", `/Users?filter=userName+eq+"` + name + `"`, ""},
			{"PATCH", "/Users/" + id, patchOp(`{"op":"replace","path":"active","value":"False"}`)},
			{"POST", "/Users/.search", `{"filter":"title eq \"` + tok + `\"","count":3}`},
			{"GET", "/Users?sortBy=userName&count=5", ""},
		}
		if i%3 == 0 {
			steps = append(steps, struct{ method, path, body string }{"DELETE", "/Users/" + id, ""})
		}
		for _, st := range steps {
			status, raw, err := rawDo(s.as(tok), st.method, st.path, st.body)
			if err != nil || status >= 300 {
				return status, raw, fmt.Errorf("%s %s: %d %s %v", st.method, st.path, status, raw, err)
			}
			if st.method == "GET" && strings.Contains(st.path, "filter") && !strings.Contains(string(raw), `"totalResults":1,`) {
				return status, raw, fmt.Errorf("%s: want exactly one user: %s", st.path, raw)
			}
		}
		return 200, nil, nil
	})
	for i := range tenants {
		tok := "tenant-" + strconv.Itoa(i)
		deleted := 0
		for j := i; j < tenants*users; j += tenants {
			if j%3 == 0 {
				deleted++
			}
		}
		r := s.do("GET", "/Users?count=100", "", "Authorization", "Bearer "+tok)
		require.Equal(t, float64(users-deleted), r.Body["totalResults"], tok)
		for _, u := range resources(t, r.Body) {
			require.Equal(t, tok, u["title"])
			require.Equal(t, false, u["active"])
		}
	}
}

// encodingStore records, for each Create and Replace, whether the handler gave the user's encoding
// (scim.EncodedUser) and whether it is u's JSON as passed.
type encodingStore struct {
	scim.Store
	mu    sync.Mutex
	calls []string
}

func (s *encodingStore) note(ctx context.Context, call string, u *scim.User) {
	b, ok := scim.EncodedUser(ctx, u)
	want, err := u.MarshalJSON()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf("%s given=%t same=%t", call, ok, err == nil && string(b) == string(want)))
}

func (s *encodingStore) KeepsUserJSON() {}

func (s *encodingStore) Create(ctx context.Context, u *scim.User) (*scim.User, error) {
	s.note(ctx, "create", u)
	return s.Store.Create(ctx, u)
}

func (s *encodingStore) Replace(ctx context.Context, u *scim.User, version string) (*scim.User, error) {
	s.note(ctx, "replace", u)
	_, other := scim.EncodedUser(ctx, &scim.User{UserName: u.UserName}) // another user: not its encoding
	if other {
		s.calls = append(s.calls, "replace given for another user")
	}
	return s.Store.Replace(ctx, u, version)
}

// TestStoreGivenTheEncoding: a Store keeping users' JSON (a JSONKeeper) receives the handler's encoding of
// the user it is asked to create or replace (Entra's POST, PATCH and a PUT), byte for byte what the user's
// MarshalJSON gives, and only for that user; a Store that is not one is not given it.
func TestStoreGivenTheEncoding(t *testing.T) {
	store := &encodingStore{Store: memstore.New()}
	s := serveStoreAt(t, store)
	id := s.create(patchBase)["id"].(string)
	require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(
		`{"op":"replace","path":"emails[type eq \"work\"].value","value":"changed@example.com"}`,
		`{"op":"replace","path":"active","value":"False"}`)).Status)
	require.Equal(t, 200, s.do("PUT", "/Users/"+id, `{"userName":"pat@example.com","displayName":"<Pat & Co>"}`).Status)
	require.Equal(t, []string{"create given=true same=true", "replace given=true same=true", "replace given=true same=true"}, store.calls)
	_, ok := scim.EncodedUser(context.Background(), &scim.User{})
	require.False(t, ok)

	plain := &plainStore{encodingStore{Store: memstore.New()}}
	s = serveStoreAt(t, plain)
	id = s.create(patchBase)["id"].(string)
	require.Equal(t, 200, s.do("PUT", "/Users/"+id, `{"userName":"pat@example.com"}`).Status)
	require.Equal(t, []string{"create given=false same=false", "replace given=false same=false"}, plain.e.calls)
}

// plainStore is an encodingStore that does not say it keeps JSON.
type plainStore struct{ e encodingStore }

func (s *plainStore) Create(ctx context.Context, u *scim.User) (*scim.User, error) {
	return s.e.Create(ctx, u)
}
func (s *plainStore) Replace(ctx context.Context, u *scim.User, v string) (*scim.User, error) {
	return s.e.Replace(ctx, u, v)
}
func (s *plainStore) Get(ctx context.Context, id string) (*scim.User, error) { return s.e.Get(ctx, id) }
func (s *plainStore) Delete(ctx context.Context, id, v string) error         { return s.e.Delete(ctx, id, v) }
func (s *plainStore) List(ctx context.Context, q scim.Query) (*scim.Page, error) {
	return s.e.List(ctx, q)
}
