package store_test

import (
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/examples/store"
	"github.com/scimkit/scim/scimtest"
)

// TestStore is all a Store needs for its conformance: the kit, given a fresh Store per subtest.
func TestStore(t *testing.T) {
	scimtest.TestStore(t, func(*testing.T) scim.Store { return store.New() })
}
