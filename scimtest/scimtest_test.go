package scimtest_test

import (
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/scimtest"
)

func TestMemoryStore(t *testing.T) {
	scimtest.TestStore(t, func(*testing.T) scim.Store { return scim.NewMemoryStore() })
}
