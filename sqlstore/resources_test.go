package sqlstore

import (
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/scimtest"
)

// deviceType is the kit's own sample type (scimtest.DeviceType).
var deviceType = scimtest.DeviceType()

func TestResourceStoreKit(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		scimtest.TestResourceStore(t, deviceType, func(t *testing.T) scim.ResourceStore { return open(t).Resources(deviceType) })
	})
}
