package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var cursorRe = regexp.MustCompile(`\[([0-9.]+)\]$`)

func cursors(out string) []string {
	var cs []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if m := cursorRe.FindStringSubmatch(line); m != nil {
			cs = append(cs, m[1])
		}
	}
	return cs
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWatchSurvivesRestarts: the watcher prints every decision once while
// the server it follows goes away, and resumes from its cursor file.
func TestWatchSurvivesRestarts(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		quick := Options{Configure: func(o *app.Options) { o.Notify.Heartbeat = 50 * time.Millisecond }}
		env := New(t, b, quick)
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		other := StartServer(t, env.Store, quick) // a second replica
		cursorFile := filepath.Join(t.TempDir(), "cursor")

		run := func() (*syncBuffer, context.CancelFunc, chan error) {
			out, log := &syncBuffer{}, &syncBuffer{}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- watch(ctx, watchOptions{urls: []string{env.Server.URL, other.URL}, key: co.Token,
					cursorFile: cursorFile, cursor: "0", retry: 100 * time.Millisecond}, out, log)
			}()
			return out, cancel, done
		}
		out, cancel, done := run()
		for i := 0; i < 5; i++ {
			Route(t, admin, wa, Phone(1), fmt.Sprintf("before %d", i))
		}
		waitFor(t, "5 decisions", func() bool { return len(cursors(out.String())) == 5 })
		env.Server.Kill() // the watcher moves to the other replica
		for i := 0; i < 5; i++ {
			Route(t, client.New(other.URL, env.AdminKey, client.Connect, nil), wa, Phone(1), fmt.Sprintf("after %d", i))
		}
		waitFor(t, "10 decisions", func() bool { return len(cursors(out.String())) == 10 })
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("watch: %v", err)
		}
		// A restart resumes from the cursor file: only what is new.
		for i := 0; i < 3; i++ {
			Route(t, client.New(other.URL, env.AdminKey, client.Connect, nil), wa, Phone(1), fmt.Sprintf("while away %d", i))
		}
		out2, cancel2, done2 := run()
		waitFor(t, "3 decisions after the restart", func() bool { return len(cursors(out2.String())) == 3 })
		time.Sleep(100 * time.Millisecond) // nothing else may come
		cancel2()
		<-done2
		all := append(cursors(out.String()), cursors(out2.String())...)
		seen := map[string]bool{}
		for _, c := range all {
			if seen[c] {
				t.Fatalf("cursor %s printed twice:\n%s%s", c, out, out2)
			}
			seen[c] = true
		}
		if len(all) != 13 || !strings.Contains(out2.String(), "while away 2") || !strings.Contains(out.String(), "NEW_CLIENT_ASSIGNED") {
			t.Fatalf("printed %d decisions:\n%s%s", len(all), out, out2)
		}
		if b, _ := os.ReadFile(cursorFile); strings.TrimSpace(string(b)) == "" {
			t.Fatal("no cursor saved")
		}
	})
}
