package sqlstore

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/scimtest"
)

// TestOutbox: with WithOutbox every committed write leaves one entry, in order, and a failed write none.
func TestOutbox(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		s.outbox = true // as WithOutbox sets it
		h := scim.MustNew(s, scim.WithAuthenticator(func(*http.Request) (string, error) { return "acme", nil }),
			scim.WithPasswords(scim.PasswordsIgnored)) // the password sent is dropped: no hash in any entry
		do := func(method, path, body string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/scim+json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		rec := do("POST", "/Users", `{"userName":"out@example.com","active":true,"password":"pw"}`)
		require.Equal(t, 201, rec.Code)
		id := rec.Header().Get("Location")[strings.LastIndex(rec.Header().Get("Location"), "/")+1:]
		require.Equal(t, 409, do("POST", "/Users", `{"userName":"OUT@example.com"}`).Code)
		patch := func(ops string) {
			require.Equal(t, 200, do("PATCH", "/Users/"+id, `{"Operations":[`+ops+`]}`).Code)
		}
		patch(`{"op":"replace","path":"displayName","value":"Out"}`)
		patch(`{"op":"Replace","path":"active","value":"False"}`)
		patch(`{"op":"Replace","path":"active","value":"True"}`)
		require.Equal(t, 204, do("DELETE", "/Users/"+id, "").Code)

		entries, err := s.ReadOutbox(context.Background(), 100)
		require.NoError(t, err)
		var types []scim.EventType
		for _, e := range entries {
			types = append(types, e.Type)
			require.Equal(t, "acme", e.Tenant)
			require.Equal(t, id, e.UserID)
			require.Equal(t, "out@example.com", e.User.UserName)
			require.Empty(t, e.User.PasswordHash)
		}
		require.Equal(t, []scim.EventType{scim.UserCreated, scim.UserUpdated, scim.UserDeactivated,
			scim.UserReactivated, scim.UserDeleted}, types)
		require.Equal(t, "Out", entries[1].User.DisplayName)

		require.NoError(t, s.AckOutbox(context.Background(), entries[0].ID, entries[1].ID))
		rest, err := s.ReadOutbox(context.Background(), 100)
		require.NoError(t, err)
		require.Len(t, rest, 3)
		require.Equal(t, entries[2].ID, rest[0].ID)
	})
}

// TestConformanceOutbox: the transactional write path passes the whole kit too.
func TestConformanceOutbox(t *testing.T) {
	scimtest.TestStore(t, func(t *testing.T) scim.Store {
		s, err := openSQLite(context.Background(), filepath.Join(t.TempDir(), "scim.db"), WithOutbox())
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	})
}
