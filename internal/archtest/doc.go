// Package archtest checks the architecture's import rules: which package
// may import which. The rules are data (rules.go); the test reads the
// import graph of the module's non-test packages from `go list -deps
// -json ./...` and fails naming every import that breaks one.
package archtest
