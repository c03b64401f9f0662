package handlers

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"foyer/receipt/receipttest"
)

// TestLogoKeptBounded: a large 16-bit logo is kept as an 8-bit PNG of at
// most 512 pixels a side, proportions kept.
func TestLogoKeptBounded(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	src := image.NewNRGBA64(image.Rect(0, 0, 800, 400))
	src.Set(5, 5, color.NRGBA64{R: 0xffff, A: 0xffff})
	var buf bytes.Buffer
	png.Encode(&buf, src)
	if r := owner.upload("/settings/logo", "logo", "logo.png", buf.Bytes()); r.Code != http.StatusSeeOther {
		t.Fatalf("upload: %d", r.Code)
	}
	data, typ, err := a.st.Logo()
	if err != nil || typ != "image/png" {
		t.Fatalf("logo: %s %v", typ, err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 256 {
		t.Fatalf("kept at %dx%d, want 512x256", b.Dx(), b.Dy())
	}
	if _, ok := img.(*image.NRGBA); !ok {
		t.Fatalf("kept as %T, want 8-bit NRGBA", img)
	}
	// A small one is not enlarged.
	owner.upload("/settings/logo", "logo", "logo.png", pngBytes(t, 64, 32))
	data, _, _ = a.st.Logo()
	if cfg, _ := png.DecodeConfig(bytes.NewReader(data)); cfg.Width != 64 || cfg.Height != 32 {
		t.Fatalf("small logo kept at %dx%d", cfg.Width, cfg.Height)
	}
}

// TestReceiptAnyName: a receipt never fails on what a name holds: Hebrew
// reads in order, characters outside the font show as a replacement.
func TestReceiptAnyName(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	path := owner.newClient("first_name", "נועה 🙂", "last_name", "王 Wang", "lang", "fr")
	owner.post(path+"/appointments", formOf("date", "2026-11-20", "time", "09:30", "minutes", "50", "kind", "in_person", "fee", "80", "practitioner", "1"))
	owner.post("/appointments/1/status", formOf("action", "paid"))
	r := owner.get("/appointments/1/receipt.pdf")
	if r.Code != http.StatusOK || !bytes.HasPrefix(r.Body.Bytes(), []byte("%PDF-")) {
		t.Fatalf("receipt: %d", r.Code)
	}
	text := receipttest.Text(t, r.Body.Bytes())
	if !strings.Contains(text, "\uFFFD") || !strings.Contains(text, "Wang") {
		t.Errorf("the receipt does not show the name with replacements:\n%s", text)
	}
}

// TestPDFWorkCapped: with every PDF turn taken, a receipt waits; a client
// that gives up while waiting costs no PDF work.
func TestPDFWorkCapped(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	path := owner.newClient()
	owner.post(path+"/appointments", formOf("date", "2026-11-20", "time", "09:30", "minutes", "50", "kind", "in_person", "fee", "80", "practitioner", "1"))
	owner.post("/appointments/1/status", formOf("action", "paid"))
	for range cap(a.h.pdfSlots) {
		a.h.pdfSlots <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req := httptest.NewRequest(http.MethodGet, "/appointments/1/receipt.pdf", nil).WithContext(ctx)
	for _, c := range owner.cookies {
		req.AddCookie(c)
	}
	req.RemoteAddr = owner.ip
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	if rec.Code == http.StatusOK {
		t.Fatal("a PDF was drawn while every turn was taken")
	}
	for range cap(a.h.pdfSlots) {
		<-a.h.pdfSlots
	}
	if r := owner.get("/appointments/1/receipt.pdf"); r.Code != http.StatusOK {
		t.Fatalf("once a turn is free: %d", r.Code)
	}
}
