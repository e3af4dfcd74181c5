package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	. "github.com/switchboardhq/switchboard/server/testenv"
)

// chaos fills a message with arbitrary values: ids that exist, ids that do
// not, garbage, huge strings, unknown enum numbers, deep nesting.
type chaos struct{ r *rand.Rand }

var chaosStrings = []string{"", "1", "2", "3", "5", "999999", "-1", "0", "abc", "1e3", "9223372036854775807",
	"99999999999999999999", "+79161234567", "8 (916) 123-45-67", "@neo", "https://example.com/a.jpg", "file:///etc/passwd",
	"Europe/Moscow", "Mars/Olympus", "0.1", "1.2", "x\u0000y", "ünïcødé ☎", strings.Repeat("z", 70000)}

func (c chaos) fill(m protoreflect.Message, depth int) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		if c.r.IntN(4) == 0 {
			continue // leave some fields unset
		}
		if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() && m.WhichOneof(o) != nil {
			continue
		}
		switch {
		case f.IsList():
			l := m.Mutable(f).List()
			for n := c.r.IntN(4); n > 0; n-- {
				if f.Kind() == protoreflect.MessageKind {
					if depth < 4 {
						e := l.NewElement()
						c.fill(e.Message(), depth+1)
						l.Append(e)
					}
				} else {
					l.Append(c.scalar(f))
				}
			}
		case f.IsMap():
		case f.Kind() == protoreflect.MessageKind:
			if depth < 4 {
				c.fill(m.Mutable(f).Message(), depth+1)
			}
		default:
			m.Set(f, c.scalar(f))
		}
	}
}

func (c chaos) scalar(f protoreflect.FieldDescriptor) protoreflect.Value {
	switch f.Kind() {
	case protoreflect.StringKind:
		name := string(f.Name())
		if (strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "_ids")) && c.r.IntN(5) != 0 {
			return protoreflect.ValueOfString([]string{"1", "2", "3", "4", "5", "6"}[c.r.IntN(6)]) // ids that exist
		}
		return protoreflect.ValueOfString(strings.ToValidUTF8(chaosStrings[c.r.IntN(len(chaosStrings))], "?"))
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(c.r.IntN(2) == 0)
	case protoreflect.EnumKind:
		if vs := f.Enum().Values(); c.r.IntN(5) != 0 {
			return protoreflect.ValueOfEnum(vs.Get(c.r.IntN(vs.Len())).Number())
		}
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber([]int32{-1, 99, 1 << 20}[c.r.IntN(3)]))
	case protoreflect.Int32Kind:
		return protoreflect.ValueOfInt32([]int32{0, 1, -1, 50, 101, 500, 1 << 30}[c.r.IntN(7)])
	case protoreflect.Int64Kind:
		return protoreflect.ValueOfInt64([]int64{0, 1, 2, 3, -1, 1 << 40}[c.r.IntN(6)])
	}
	return f.Default()
}

// TestNoInputIsInternal sends every unary RPC hundreds of arbitrary requests
// with an account key and an employee token: whatever they hold, the answer
// is never INTERNAL or UNKNOWN.
func TestNoInputIsInternal(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		Route(t, env.Admin(), co.Channels["WhatsApp Sales"], Phone(1), "hi")
		Route(t, env.Admin(), co.Channels["Telegram Support"], Phone(2), "hi")
		c := chaos{rand.New(rand.NewPCG(1, uint64(len(b.Name))))}
		calls := 0
		protoregistry.GlobalFiles.RangeFilesByPackage("switchboard.v1", func(fd protoreflect.FileDescriptor) bool {
			for i := 0; i < fd.Services().Len(); i++ {
				svc := fd.Services().Get(i)
				for j := 0; j < svc.Methods().Len(); j++ {
					m := svc.Methods().Get(j)
					if m.IsStreamingServer() || m.IsStreamingClient() {
						continue
					}
					// Keep the account usable: revoking its keys would end the test early.
					if strings.HasPrefix(string(m.Name()), "Revoke") || m.Name() == "DeleteIntegration" {
						continue
					}
					path := "/" + string(svc.FullName()) + "/" + string(m.Name())
					for n := 0; n < 200; n++ {
						msg := dynamicpb.NewMessage(m.Input())
						c.fill(msg, 0)
						body, err := proto.Marshal(msg)
						if err != nil {
							t.Fatal(err)
						}
						key := env.AdminKey
						if n%3 == 0 {
							key = co.Token
						}
						req, _ := http.NewRequest(http.MethodPost, env.Server.URL+path, bytes.NewReader(body))
						req.Header.Set("Content-Type", "application/proto")
						req.Header.Set("Authorization", "Bearer "+key)
						res, err := http.DefaultClient.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						out, _ := io.ReadAll(res.Body)
						res.Body.Close()
						calls++
						if res.StatusCode == http.StatusOK {
							continue
						}
						var e struct{ Code, Message string }
						_ = json.Unmarshal(out, &e)
						if e.Code == "internal" || e.Code == "unknown" || e.Code == "" {
							t.Fatalf("%s answered %d %q %q to %v", path, res.StatusCode, e.Code, e.Message, msg)
						}
					}
				}
			}
			return true
		})
		if calls < 5000 {
			t.Fatalf("only %d calls", calls)
		}
	})
}
