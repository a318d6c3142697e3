// Package simtest holds the sync tests that need the real Microsoft side:
// the engine (package calsync) driven through graphclient/calendar and
// msgraph-sdk-go against the Graph simulator (graphclient/graphsim). The
// golden scenarios again (golden-graph.txt), the randomized model test with
// faults and lost results, end-to-end runs through the built binaries, and
// the Graph-request and memory benchmarks live here, so that `go test ./sync`
// stays free of the SDK. Outside this file it has test files only.
package simtest
