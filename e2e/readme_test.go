package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestDemoPages walks the demo practice as a visitor would: the start page
// and a client record as the owner, My account as the client on a phone.
// Each page is checked like every other; with FOYER_README_SCREENSHOTS=1 the
// walk also rewrites the README's three screenshots in docs/screenshots, so
// they show Foyer as it is.
func TestDemoPages(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	if out, err := run(t, "demo", "-data", data); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	srv := startFoyerIn(t, data)
	browser := newBrowser(t)
	owner := &page{t: t, ctx: browser, base: srv.base}
	owner.do(chromedp.Navigate(srv.base + "/signin"))
	owner.submit(`main form`, "email", "owner@demo.foyer.test", "password", "foyer demo 2026")
	owner.expect("Bienvenue, Claire Martin", "Séances de la semaine")
	owner.axe()
	readmeShot(owner, "start-page.png", 1280, 860)

	owner.do(chromedp.Navigate(srv.base + "/clients/1"))
	owner.expect("Éloïse Durand", "Rendez-vous", "Reçu nº")
	owner.axe()
	readmeShot(owner, "client-record.png", 1280, 900)

	client := newTab(t, browser, srv.base)
	client.do(chromedp.Navigate(srv.base + "/portal"))
	client.submit(`main form`, "email", "eloise@demo.foyer.test", "password", "foyer demo 2026")
	client.expect("Bonjour Éloïse", "Reçus", "Télécharger (PDF)")
	client.axe()
	readmeShot(client, "my-account-phone.png", 390, 844)
}

// readmeShot saves the top of the page, w×h CSS pixels, as a README
// screenshot when FOYER_README_SCREENSHOTS is set; the PNG is reduced to
// 256 colours so the repository stays small.
func readmeShot(p *page, name string, w, h int64) {
	p.t.Helper()
	if os.Getenv("FOYER_README_SCREENSHOTS") == "" {
		return
	}
	p.do(chromedp.EmulateViewport(w, h))
	defer p.restoreViewport()
	p.eventually("the header menu settles", `(m => !m || m.open === window.matchMedia("(min-width: 75rem)").matches)(document.querySelector("details.menu"))`)
	buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		p.t.Fatal(err)
	}
	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&out, paletted(img)); err != nil {
		p.t.Fatal(err)
	}
	dir := filepath.Join("..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), out.Bytes(), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// paletted maps an image onto its 256 most frequent colours, each pixel to
// the nearest: a screenshot is mostly flat colours, so little is lost.
func paletted(img image.Image) *image.Paletted {
	b := img.Bounds()
	count := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colors := make([]color.RGBA, 0, len(count))
	for c := range count {
		colors = append(colors, c)
	}
	slices.SortFunc(colors, func(a, b color.RGBA) int {
		if d := count[b] - count[a]; d != 0 {
			return d
		}
		return int(a.R)<<16 + int(a.G)<<8 + int(a.B) - (int(b.R)<<16 + int(b.G)<<8 + int(b.B))
	})
	pal := make(color.Palette, 0, 256)
	for _, c := range colors[:min(256, len(colors))] {
		pal = append(pal, c)
	}
	out := image.NewPaletted(b, pal)
	index := map[color.RGBA]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	return out
}
