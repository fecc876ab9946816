// Package shared is the home of code the repository's modules share: the root module
// (github.com/scimkit/scim), sqlstore and its drivers, the examples and the benchmark. Go lets a package import
// internal/ packages only from its own module tree by path, not by module, so a nested module importing the
// root's internal/ would compile today and break the day the two are released apart; what siblings need lives
// here instead, in packages under this directory.
//
// Compatibility: none. These packages exist for the sibling modules of this repository, which are released
// together and pinned to matching versions; they follow no compatibility promise and may change or disappear
// in any release. A host must not import them (as riverqueue/river's rivershared says of itself).
package shared
