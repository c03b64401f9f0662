package handlers

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"foyer/markdown"
	"foyer/store"
)

// viewerData is what the slide viewer shows: one slide at a time, with plain
// links to the previous and next ones (the viewer works without JavaScript;
// its script adds keys, swipes and the time-on-slide beacons).
type viewerData struct {
	Title    string
	N, Count int
	Slide    store.Slide
	HTML     template.HTML
	ImageURL string
	Prev     string
	Next     string
	First    string
	Last     string
	// Beacon is where the script reports time on this slide; "" in a staff preview.
	Beacon  string
	Viewing string
	// Preview is true when staff look at their own preso: nothing is recorded.
	Preview bool
	// Sign is the signing form of a signing slide, nil otherwise.
	Sign *signView
	Back string
	// Leave is where "Change person" posts (a link's viewer only); Who is
	// whose viewing this browser holds ("" when anonymous).
	Leave, Who string
}

type signView struct {
	Action   string
	Signed   bool
	Name     string
	SignedAt string
	// Note is what the signature proves, as the signer came in (signNote).
	Note string
}

// slideLinks are the paths of a deck's slide pages (1-based) and of its slides' images.
type slideLinks struct {
	slide func(n int) string
	image func(s store.Slide) string
}

// viewerPage fills the viewer for slide n (1-based) of slides, linking through links.
func (h *Handler) viewerPage(c echo.Context, title string, slides []store.Slide, n int, links slideLinks) (viewerData, bool) {
	if n < 1 || n > len(slides) {
		return viewerData{}, false
	}
	s := slides[n-1]
	d := viewerData{Title: title, N: n, Count: len(slides), Slide: s, HTML: markdown.HTML(s.Body)}
	if n > 1 {
		d.Prev, d.First = links.slide(n-1), links.slide(1)
	}
	if n < len(slides) {
		d.Next, d.Last = links.slide(n+1), links.slide(len(slides))
	}
	if s.Image != "" {
		d.ImageURL = links.image(s)
	}
	return d, true
}

// previewPreso shows staff their preso as a client will see it (included slides only).
func (h *Handler) previewPreso(c echo.Context) error {
	p, err := h.loadPreso(c)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(c.QueryParam("n"))
	if n == 0 {
		n = 1
	}
	d, ok := h.viewerPage(c, p.Title, p.Included(), n, slideLinks{
		slide: func(n int) string { return urlFor(routePresoPreview, p.ID) + "?n=" + strconv.Itoa(n) },
		image: func(s store.Slide) string { return slideImageURL(p.ID, s.ID, s.Image) },
	})
	if !ok {
		return errNotFound
	}
	d.Preview, d.Back = true, urlFor(routePreso, p.ID)
	pg := h.page(c, "viewer.title")
	pg.Data = d
	return h.render(c, http.StatusOK, "viewer", pg)
}
