package app

import (
	"io/fs"
	"net/http"
	"path"

	"github.com/switchboardhq/switchboard/clients/web"
)

// webHandler serves the settings page built into the binary. Paths that are
// not a file get index.html, so the page's own routes survive a reload.
func webHandler() http.Handler {
	dist, err := fs.Sub(web.Dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	files := http.FileServerFS(dist)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		p := path.Clean(r.URL.Path)
		if p != "/" {
			if _, err := fs.Stat(dist, p[1:]); err != nil {
				r = r.Clone(r.Context())
				r.URL.Path = "/"
			}
		}
		if path.Ext(r.URL.Path) == "" {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
