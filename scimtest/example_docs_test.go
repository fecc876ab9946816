package scimtest_test

// The Go of docs/stores.md, compiled (the root package's docs_test.go checks that the block there equals the
// region here).

import (
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/scimtest"
)

// rt is what the host declared.
var rt = schema.MustDeclareUser(schema.UserDeclaration{
	Attributes: []string{"userName", "active", "displayName", "emails", "name.formatted"},
})

// newEmptyStore stands for the host's constructor of a fresh, empty Store of its own. This file only keeps
// docs/stores.md's snippet compiling and its Options valid (TestStore checks them before any subtest); the
// kit's run with these Options over a Store of that kind is TestHostIDsAndTenants.
func newEmptyStore(t *testing.T) scim.Store {
	t.Skip("newEmptyStore stands for the host's Store (docs/stores.md)")
	return nil
}

// snippet:teststore
func TestMyStore(t *testing.T) {
	scimtest.TestStore(t, func(t *testing.T) scim.Store { return newEmptyStore(t) }, scimtest.Options{
		Schema:   rt,                             // what you declared (schema.DeclareUser); nil: every attribute
		Tenants:  [2]string{"1", "2"},            // two tenants as your authenticator names them
		Defaults: map[string]any{"active": true}, // a NOT NULL column's value for an unassigned attribute
		// Passwords: true,                       // if you serve WithPasswords(PasswordsHashed) and keep the hash
	})
}

// end
