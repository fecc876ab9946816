package filter_test

import (
	"testing"

	"github.com/scimkit/scim/filter"
)

// BenchmarkFold measures the comparison key on the hot path: userName eq lookups and every search-copy build
// fold each string once. The ASCII cases are the common ones and must stay as cheap as strings.ToLower.
func BenchmarkFold(b *testing.B) {
	for _, c := range []struct{ name, s string }{
		{"ascii_lower", "bjensen@example.com"},
		{"ascii_mixed", "BJensen@Example.com"},
		{"latin", "Élodie.Ørsted@example.com"},
		{"greek", "ΣΊΣΥΦΟΣ"},
		{"fullwidth", "Ａdmin"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = filter.Fold(c.s)
			}
		})
	}
}
