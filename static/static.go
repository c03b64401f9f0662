// Package static embeds Foyer's stylesheet, scripts and images and gives each
// a content-hashed name, so they can be cached for a year and still change.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
	"sync"
)

//go:embed *.css *.js *.svg
var files embed.FS

// Asset is one embedded file.
type Asset struct {
	Name   string // e.g. app.css
	Hashed string // e.g. app.3f2a1b9c0d4e.css
	Data   []byte

	gzipOnce sync.Once
	gzipped  []byte
}

// Gzipped is the file compressed with gzip (best compression), made at
// the first call and kept; nil for a file that does not compress (images).
// Only these embedded files are compressed: they hold no secret, unlike the
// pages, which carry a CSRF token and stay uncompressed (BREACH).
func (a *Asset) Gzipped() []byte {
	a.gzipOnce.Do(func() {
		switch path.Ext(a.Name) {
		case ".css", ".js", ".svg":
		default:
			return
		}
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		w.Write(a.Data)
		w.Close()
		if b.Len() < len(a.Data) {
			a.gzipped = b.Bytes()
		}
	})
	return a.gzipped
}

// Assets indexes the embedded files by name and by hashed name.
type Assets struct {
	byName   map[string]*Asset
	byHashed map[string]*Asset
}

// Load reads and hashes every embedded file.
func Load() *Assets {
	a := &Assets{byName: map[string]*Asset{}, byHashed: map[string]*Asset{}}
	entries, _ := fs.ReadDir(files, ".")
	for _, e := range entries {
		data, err := files.ReadFile(e.Name())
		if err != nil {
			panic(err) // embedded files are always readable
		}
		sum := sha256.Sum256(data)
		ext := path.Ext(e.Name())
		as := &Asset{Name: e.Name(), Hashed: strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:6]) + ext, Data: data}
		a.byName[as.Name] = as
		a.byHashed[as.Hashed] = as
	}
	return a
}

// Path returns the URL path of a named asset; it panics on an unknown name so
// a template that names a missing file fails at start-up.
func (a *Assets) Path(name string) string {
	as, ok := a.byName[name]
	if !ok {
		panic("static: no asset named " + name)
	}
	return "/static/" + as.Hashed
}

// ByHashed finds an asset by its hashed name.
func (a *Assets) ByHashed(name string) (*Asset, bool) {
	as, ok := a.byHashed[name]
	return as, ok
}
