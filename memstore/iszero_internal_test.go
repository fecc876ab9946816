package memstore

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// TestIsZeroNamesEveryField: a field added to scim.User must never be dropped by the compact form, so each
// field set alone, to a non-zero value (an empty slice or map counts: it is not nil), makes a user that is
// not zero.
func TestIsZeroNamesEveryField(t *testing.T) {
	require.True(t, isZero(&scim.User{}))
	typ := reflect.TypeFor[scim.User]()
	for i := range typ.NumField() {
		var u scim.User
		f := reflect.ValueOf(&u).Elem().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 0, 0))
		case reflect.Map:
			f.Set(reflect.MakeMap(f.Type()))
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Struct: // Meta: each of its fields in turn
			for j := range f.NumField() {
				var m scim.User
				g := reflect.ValueOf(&m).Elem().Field(i).Field(j)
				switch g.Kind() {
				case reflect.String:
					g.SetString("x")
				default: // time.Time
					g.Set(reflect.ValueOf(time.Unix(1, 0)))
				}
				require.False(t, isZero(&m), "isZero misses %s.%s", typ.Field(i).Name, f.Type().Field(j).Name)
			}
			continue
		default:
			t.Fatalf("field %s of kind %s: teach this test to set it", typ.Field(i).Name, f.Kind())
		}
		require.False(t, isZero(&u), "isZero misses User.%s", typ.Field(i).Name)
	}
}
