package teams_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/examples/teams"
	"github.com/scimkit/scim/scimtest"
)

func newStore(t *testing.T) scim.Store {
	t.Helper()
	db, err := teams.Open(context.Background(), filepath.Join(t.TempDir(), "app.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return teams.New(db)
}

// The kit, in the app's numeric tenants: every attribute round-trips (the scim column), the password hash
// too, and the groups contract holds over teams and team_members with soft deletes.
func TestStore(t *testing.T) {
	scimtest.TestStore(t, newStore, scimtest.Options{Tenants: [2]string{"1", "2"}, Passwords: true})
}

// The protocol suite through HTTP, with the authenticator's tenants the app's tenant ids.
func TestHandler(t *testing.T) {
	scimtest.TestHandler(t, newStore, scimtest.HandlerOptions{Tenants: [2]string{"1", "2"}})
}
