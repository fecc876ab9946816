// Package workspace holds no code: its test runs the tests of the repository's other modules, so that
// `go test ./...` at the root of a checkout tests every module of the go.work, not only the root one
// (a `./...` pattern stops at a nested module's go.mod).
package workspace
