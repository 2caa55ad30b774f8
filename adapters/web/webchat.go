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

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(staticFS(), "index.html")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "the web chat is missing from this build")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}
