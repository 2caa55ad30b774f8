package web

import (
	"embed"
	"io/fs"
	"net/http"
)

// The web chat: plain HTML, CSS and JavaScript, embedded; no CDN, no build step.
//
//go:embed static
var staticFiles embed.FS

func staticFS() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

func (s *Server) static() http.Handler {
	files := http.FileServerFS(staticFS())
	return http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}))
}

// page serves one embedded HTML page, read once; what names it should the
// build lack it.
func page(name, what string) http.HandlerFunc {
	b, err := fs.ReadFile(staticFS(), name)
	return func(w http.ResponseWriter, _ *http.Request) {
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", what+" is missing from this build")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	}
}
