package storetest_test

import (
	"testing"

	"github.com/switchboardhq/switchboard/server/store/storetest"
	"github.com/switchboardhq/switchboard/server/testenv"
)

// TestConformance runs the suite on SQLite and, when TEST_DATABASE_URL is
// set, on PostgreSQL.
func TestConformance(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		storetest.Run(t, b.NewURL)
	})
}
