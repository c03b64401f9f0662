package handlers

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nyaruka/phonenumbers"
	xdraw "golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"foyer/backup"
	"foyer/journal"
	"foyer/store"
	"foyer/views"
)

// Logo limits: a logo sits in a header at 2rem; more is waste.
const (
	maxLogoBytes = 1 << 20
	maxLogoSide  = 4096
)

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

type settingsData struct {
	Regions    []option
	Currencies []option
	PortalURL  string
	// Key is where the secret key a downloaded backup needs is kept.
	Key keyPlace
}

var currencyOptions = func() []option {
	var out []option
	for _, c := range []string{"EUR", "CAD", "CHF", "GBP", "USD"} {
		out = append(out, option{Value: c, Label: "currency." + c})
	}
	return out
}()

// regionOptions are the phone regions, named in each language, sorted by
// name as a reader expects (accents and case aside). Built on the first
// visit to Settings, not at every start.
var regionOptions = sync.OnceValue(func() map[string][]option {
	out := map[string][]option{}
	codes := phonenumbers.GetSupportedRegions()
	for _, lang := range []string{"en", "fr"} {
		namer := display.Regions(language.Make(lang))
		var opts []option
		keys := map[string]string{}
		for code := range codes {
			name := code
			if r, err := language.ParseRegion(code); err == nil {
				if n := namer.Name(r); n != "" {
					name = n
				}
			}
			o := option{Value: code, Text: fmt.Sprintf("%s (%s)", name, code)}
			keys[code] = store.Fold(o.Text)
			opts = append(opts, o)
		}
		slices.SortFunc(opts, func(a, b option) int {
			if c := strings.Compare(keys[a.Value], keys[b.Value]); c != 0 {
				return c
			}
			return strings.Compare(a.Text, b.Text)
		})
		out[lang] = opts
	}
	return out
})

func (h *Handler) settingsPage(c echo.Context) *views.Page {
	p, _ := h.currentPractice()
	pg := h.page(c, "settings.title")
	pg.Data = settingsData{Regions: regionOptions()[pg.Lang], Currencies: currencyOptions, PortalURL: h.link("/portal"), Key: h.keyPlace()}
	pg.Form = map[string]string{"name": p.Name, "default_lang": p.DefaultLang, "time_zone": p.TimeZone, "phone_region": p.PhoneRegion,
		"brand_color": p.BrandColor, "currency": p.Currency,
		"video_early": strconv.Itoa(p.VideoEarlyMinutes), "video_late": strconv.Itoa(p.VideoLateMinutes), "address": p.Address, "phone": p.Phone, "contact_email": p.ContactEmail,
		"siret": p.SIRET, "vat_note": p.VATNote}
	if p.Require2FA {
		pg.Form["require_2fa"] = "1"
	}
	if p.AllowSignup {
		pg.Form["allow_signup"] = "1"
	}
	return pg
}

func (h *Handler) settings(c echo.Context) error {
	return h.render(c, http.StatusOK, "settings", h.settingsPage(c))
}

func (h *Handler) saveSettings(c echo.Context) error {
	pg := h.settingsPage(c)
	f, err := newForm(c)
	if err != nil {
		return err
	}
	name := f.text("name", 100, true)
	lang := f.choice("default_lang", "en", "fr")
	tz := f.text("time_zone", 64, true)
	if tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			f.fail("time_zone", "settings.time_zone_invalid")
		}
	}
	region := f.text("phone_region", 2, true)
	if _, ok := phonenumbers.GetSupportedRegions()[region]; region != "" && !ok {
		f.fail("phone_region", "form.choice_invalid")
	}
	color := f.text("brand_color", 7, true)
	if color != "" && !hexColor.MatchString(color) {
		f.fail("brand_color", "settings.brand_color_invalid")
	}
	require2FA := f.checkbox("require_2fa")
	currency := f.choice("currency", optionValues(currencyOptions)...)
	allowSignup := f.checkbox("allow_signup")
	cur, _ := h.currentPractice()
	early := f.minutes("video_early", 60, cur.VideoEarlyMinutes)
	late := f.minutes("video_late", 120, cur.VideoLateMinutes)
	address := f.multiline("address", 300)
	phone := f.text("phone", 40, false)
	if phone != "" {
		if e164, _, ok := parsePhone(phone, region); ok {
			phone = displayPhone(e164, region)
		} else {
			f.fail("phone", "clients.phone_invalid")
		}
	}
	contact := f.email("contact_email", false)
	siret := strings.ReplaceAll(f.text("siret", 20, false), " ", "")
	if siret != "" && !validSIRET(siret) {
		f.fail("siret", "settings.siret_invalid")
	}
	vat := f.text("vat_note", 200, false)
	if !f.ok() {
		return h.invalid(c, "settings", pg, f)
	}
	p, _ := h.currentPractice()
	p.Name, p.DefaultLang, p.TimeZone, p.PhoneRegion, p.BrandColor, p.Require2FA = name, lang, tz, region, color, require2FA
	p.Currency, p.AllowSignup = currency, allowSignup
	p.VideoEarlyMinutes, p.VideoLateMinutes = early, late
	p.Address, p.Phone, p.ContactEmail, p.SIRET, p.VATNote = address, phone, contact, siret, vat
	if err := h.store.SavePractice(p); err != nil {
		return h.keepTyped(c, err, "settings", f, func() (*views.Page, error) { return pg, nil })
	}
	h.record(c, journal.Entry{Action: journal.SettingsChange, Detail: "practice"})
	if err := h.reloadPractice(); err != nil {
		return err
	}
	h.setFlash(c, "flash.saved")
	return h.redirect(c, "/settings")
}

// uploadLogo accepts a PNG, JPEG or WebP that decodes whole; it is served back
// with the type found by decoding, never the one the browser claimed.
func (h *Handler) uploadLogo(c echo.Context) error {
	pg := h.settingsPage(c)
	f := &form{c: c, vals: pg.Form, errs: map[string]string{}}
	data, _, problem := readLogo(c)
	if problem != "" {
		f.fail("logo", problem)
		return h.invalid(c, "settings", pg, f)
	}
	// Kept re-encoded, small and 8-bit: every receipt draws it, and a large
	// 16-bit image made one receipt take seconds and hundreds of MiB.
	data, err := boundedPNG(data, logoSide)
	if err != nil {
		f.fail("logo", "settings.logo_invalid")
		return h.invalid(c, "settings", pg, f)
	}
	typ := "image/png"
	if err := h.store.SaveLogo(data, typ, h.now().UnixNano()); err != nil {
		if errors.Is(err, store.ErrDiskFull) {
			f.fail("logo", "error.disk_full.form")
		}
		return h.keepTyped(c, err, "settings", f, func() (*views.Page, error) { return pg, nil })
	}
	h.record(c, journal.Entry{Action: journal.SettingsChange, Detail: "logo"})
	if err := h.reloadPractice(); err != nil {
		return err
	}
	h.setFlash(c, "flash.logo_saved")
	return h.redirect(c, "/settings")
}

// logoSide is the largest side of the logo as kept: a header and a receipt
// show it at most a few centimetres high.
const logoSide = 512

// boundedPNG decodes an image and re-encodes it as an 8-bit PNG whose sides
// are at most side pixels (scaled down, proportions kept; never up).
func boundedPNG(data []byte, side int) ([]byte, error) {
	out, _, err := reencodeImage(data, side, false)
	return out, err
}

// reencodeImage decodes an image and encodes it again, 8-bit, its sides at
// most side pixels (scaled down, proportions kept; never up). Only the pixels
// survive: bytes appended to the file and metadata (EXIF, GPS, comments) are
// gone. A JPEG stays a JPEG when keepJPEG is set (a photo as PNG is several
// times larger); anything else becomes a PNG. It returns the bytes and type.
func reencodeImage(data []byte, side int, keepJPEG bool) ([]byte, string, error) {
	src, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", err
	}
	b := src.Bounds()
	w, hgt := b.Dx(), b.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, w, hgt))
	if w > side || hgt > side {
		if w >= hgt {
			w, hgt = side, max(1, hgt*side/w)
		} else {
			w, hgt = max(1, w*side/hgt), side
		}
		dst = image.NewNRGBA(image.Rect(0, 0, w, hgt))
		xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, b, xdraw.Src, nil)
	} else {
		xdraw.Draw(dst, dst.Bounds(), src, b.Min, xdraw.Src)
	}
	if format == "jpeg" {
		dst = orient(dst, jpegOrientation(data))
	}
	var out bytes.Buffer
	if keepJPEG && format == "jpeg" {
		if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 90}); err != nil {
			return nil, "", err
		}
		return out.Bytes(), "image/jpeg", nil
	}
	if err := png.Encode(&out, dst); err != nil {
		return nil, "", err
	}
	return out.Bytes(), "image/png", nil
}

// readLogo returns the logo bytes and type, or the message ID of what is wrong.
func readLogo(c echo.Context) ([]byte, string, string) {
	data, typ, problem := readImage(c, "logo", maxLogoBytes, maxLogoSide)
	if problem != "" {
		return nil, "", "settings.logo_" + problem
	}
	return data, typ, ""
}

// readImage reads an uploaded PNG, JPEG or WebP image of at most maxBytes and
// maxSide pixels a side, decoding it fully so that a broken file is refused.
// The problem, if any, is "missing", "too_big" or "invalid".
func readImage(c echo.Context, field string, maxBytes int64, maxSide int) ([]byte, string, string) {
	fh, err := c.FormFile(field)
	if err != nil {
		return nil, "", "missing"
	}
	if fh.Size > maxBytes {
		return nil, "", "too_big"
	}
	file, err := fh.Open()
	if err != nil {
		return nil, "", "invalid"
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxBytes+1))
	if err != nil || int64(len(data)) > maxBytes {
		return nil, "", "too_big"
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, "", "invalid"
	}
	if cfg.Width > maxSide || cfg.Height > maxSide || cfg.Width < 1 || cfg.Height < 1 {
		return nil, "", "too_big"
	}
	if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
		return nil, "", "invalid"
	}
	types := map[string]string{"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
	typ, ok := types[format]
	if !ok {
		return nil, "", "invalid"
	}
	return data, typ, ""
}

// logo serves the practice logo with headers that keep it an image.
func (h *Handler) logo(c echo.Context) error {
	data, typ, err := h.store.Logo()
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("Content-Disposition", `inline; filename="logo"`)
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, typ, data)
}

// backup sends a consistent copy of the whole store, encrypted with the
// secret key as the off-site copies are (backup.Seal): whoever gets the
// file without the key reads nothing of it. It is sealed into a temporary
// file first, so the download holds no transaction open, and has a length.
//
// Every request makes a new copy, so a range of this one and a range of an
// earlier one are pieces of two different files, which joined make no
// backup at all. So it serves no range (Accept-Ranges: none) and refuses
// a resume (see resumesDownload), where a whole 200 would not do: wget -c
// takes a 200 as the whole file, skips the bytes it has and appends the
// rest of the new copy to them.
func (h *Handler) backup(c echo.Context) error {
	if resumesDownload(c.Request().Header.Get("Range")) {
		return errBackupResume
	}
	at := h.now()
	f, n, err := backup.Seal(h.store)
	if err != nil {
		return err
	}
	defer f.Close()
	h.log.Info("backup downloaded", "bytes", n, "by", currentUser(c).ID)
	h.record(c, journal.Entry{Action: journal.BackupDownload})
	attachment(c, backup.CopyName(at), "application/octet-stream")
	hd := c.Response().Header()
	hd.Set("Accept-Ranges", "none")
	hd.Set("Content-Length", strconv.FormatInt(n, 10))
	c.Response().WriteHeader(http.StatusOK)
	if _, err := io.Copy(h.longResponse(c), f); err != nil {
		// The headers are gone: the client sees the answer cut short.
		h.log.Info("backup download cut", "err", err)
	}
	return nil
}

// errBackupResume answers a resumed backup download: 409, which curl -C -
// and wget -c report as an error, leaving the piece they hold as it was
// (a 416 they take for "already complete").
var errBackupResume = httpError(http.StatusConflict, "error.backup_resume")

// resumesDownload reports whether a Range header asks for anything but the
// start of the file: a resume, or a piece beyond the start. A range that
// starts at the first byte ("bytes=0-", which download managers send to
// learn whether ranges are served) is not: the whole file answers it.
func resumesDownload(rangeHeader string) bool {
	spec, ok := strings.CutPrefix(rangeHeader, "bytes=")
	if !ok {
		return false // no Range, or a unit no one serves: ignored
	}
	for _, r := range strings.Split(spec, ",") {
		if !strings.HasPrefix(strings.TrimSpace(r), "0-") {
			return true
		}
	}
	return false
}

// backupHead answers HEAD /backup as GET would begin, without making the
// copy: its length is not known until it is made, and making it costs as
// much as the data file.
func (h *Handler) backupHead(c echo.Context) error {
	attachment(c, backup.CopyName(h.now()), "application/octet-stream")
	c.Response().Header().Set("Accept-Ranges", "none")
	return c.NoContent(http.StatusOK)
}

// validSIRET checks a French establishment number: 14 digits whose Luhn sum is
// a multiple of 10 (La Poste's establishments, SIREN 356000000, use the plain
// digit sum, a multiple of 5).
func validSIRET(s string) bool {
	if len(s) != 14 {
		return false
	}
	sum, plain := 0, 0
	for i, r := range s {
		if r < '0' || r > '9' {
			return false
		}
		d := int(r - '0')
		plain += d
		if i%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	if strings.HasPrefix(s, "356000000") {
		return plain%5 == 0
	}
	return sum%10 == 0
}
