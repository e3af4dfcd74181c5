// Command rpcprotos writes a FileDescriptorSet of google/rpc/status.proto and
// google/rpc/error_details.proto (with their imports), taken from the
// genproto packages the server itself uses, so the clients' generators get
// the exact error details the server sends without a copy of googleapis.
//
//	go run ./clients/python/scripts/rpcprotos -o rpc.binpb
package main

import (
	"flag"
	"log"
	"os"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

func main() {
	out := flag.String("o", "", "where to write the descriptor set (binary)")
	flag.Parse()
	if *out == "" {
		log.Fatal("rpcprotos: -o is required")
	}
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	// Imports first, as protoc's --include_imports orders them.
	var add func(f protoreflect.FileDescriptor)
	add = func(f protoreflect.FileDescriptor) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		imports := f.Imports()
		for i := 0; i < imports.Len(); i++ {
			add(imports.Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
	}
	add(status.File_google_rpc_status_proto)
	add(errdetails.File_google_rpc_error_details_proto)
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(set)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
