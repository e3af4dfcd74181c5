//go:build protodeps

package switchboard

// The google/api .proto files the contract imports (annotations.proto,
// http.proto) are copied from this module at generate time (Makefile
// proto-deps). Importing one of its packages under a build tag that is
// never set keeps the module pinned in go.mod through go mod tidy.
import _ "github.com/grpc-ecosystem/grpc-gateway/utilities"
