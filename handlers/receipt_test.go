package handlers

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"foyer/receipt/receipttest"
)

func TestReceiptPDF(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	owner.upload("/settings/logo", "logo", "logo.png", pngBytes(t, 64, 32))
	path, client := a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet", "lang", "fr")
	owner.post(path+"/appointments", formOf("date", "2026-11-20", "time", "09:30", "minutes", "50", "kind", "in_person", "fee", "1234,5", "practitioner", "1"))
	if r := owner.get("/appointments/1/receipt.pdf"); r.Code != http.StatusNotFound {
		t.Fatalf("receipt of an unpaid appointment: %d", r.Code)
	}
	owner.post("/appointments/1/status", formOf("action", "paid"))
	for who, r := range map[string]*resp{"staff": owner.get("/appointments/1/receipt.pdf"), "client": client.get("/portal/receipts/1")} {
		if r.Code != 200 || r.Header().Get("Content-Type") != "application/pdf" || !strings.Contains(r.Header().Get("Content-Disposition"), `attachment; filename="recu-1.pdf"`) {
			t.Fatalf("%s: %d %v", who, r.Code, r.Header())
		}
		if !bytes.HasPrefix(r.Body.Bytes(), []byte("%PDF-")) {
			t.Fatalf("%s: not a PDF", who)
		}
		text := receipttest.Text(t, r.Body.Bytes())
		for _, want := range []string{"Cabinet Lumière", "Reçu", "Reçu nº 1", "Éloïse Durand", "20 novembre 2026 à 09:30", "Séance en personne, 50 minutes",
			"Olive Owner", "Payé le", "25 novembre 2026", "Montant payé", "1 234,50 €"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s receipt lacks %q:\n%s", who, want, text)
			}
		}
	}
	// In English, the amount reads the English way.
	owner.post(path, formOf("first_name", "Éloïse", "last_name", "Durand", "email", "eloise@example.org", "lang", "en", "practitioner", "1"))
	text := receipttest.Text(t, owner.get("/appointments/1/receipt.pdf").Body.Bytes())
	for _, want := range []string{"Receipt no. 1", "Amount paid", "€1,234.50", "November 20, 2026 at 9:30 AM"} {
		if !strings.Contains(text, want) {
			t.Errorf("English receipt lacks %q:\n%s", want, text)
		}
	}
}
