package scimtest_test

import (
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/scimtest"
)

// A Store's own tests run the kit: TestConformance below goes in a _test.go file next to the Store. newStore
// gives each subtest a fresh, empty Store; a Store over a database can empty one test database instead and
// close it with t.Cleanup.
func ExampleTestStore() {
	TestConformance := func(t *testing.T) {
		scimtest.TestStore(t, func(t *testing.T) scim.Store {
			s := memstore.New() // yours: mystore.Open(dsn), with its tables emptied
			t.Cleanup(func() { /* close it */ })
			return s
		})
	}
	_ = TestConformance
}
