// Package workspace holds no code: its tests guard the repository's modules as a whole. One runs the tests of
// the other modules, so that `go test ./...` at the root of a checkout tests every module of the go.work, not
// only the root one (a `./...` pattern stops at a nested module's go.mod); another checks that no module
// imports another module's internal/ packages.
package workspace
