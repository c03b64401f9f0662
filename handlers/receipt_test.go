package handlers

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"foyer/receipt/receipttest"
)

func TestReceiptPDF(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	owner.upload("/settings/logo", "logo", "logo.png", pngBytes(t, 64, 32))
	// What a French note d'honoraires carries: the practice's address and SIRET,
	// the practitioner's RPPS number, the client's address, the VAT line.
	if r := owner.post("/settings", formOf("name", "Cabinet Lumière", "default_lang", "fr", "time_zone", "Europe/Paris", "phone_region", "FR",
		"currency", "EUR", "brand_color", "#2f5d62", "address", "12 rue de la Paix\n75002 Paris", "phone", "01 42 00 00 00",
		"contact_email", "contact@lumiere.example", "siret", "732 829 320 00074", "vat_note", "TVA non applicable, article 261-4-1° du CGI")); r.Code != http.StatusSeeOther {
		t.Fatalf("settings: %d %s", r.Code, abbreviate(r.body))
	}
	if r := owner.post("/account", formOf("name", "Olive Owner", "lang", "fr", "professional_no", "10 001 234 567")); r.Code != http.StatusSeeOther {
		t.Fatalf("professional number: %d %s", r.Code, abbreviate(r.body))
	}
	path, client := a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet", "lang", "fr", "address", "3 rue des Lilas\n75011 Paris")
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
			"Olive Owner", "Nº RPPS 10001234567", "Payé le", "25 novembre 2026", "Montant acquitté", "1 234,50 €",
			"Note d’honoraires", "12 rue de la Paix", "75002 Paris", "01 42 00 00 00", "contact@lumiere.example", "SIRET 732 829 320 00074",
			"3 rue des Lilas", "75011 Paris", "TVA non applicable, article 261-4-1° du CGI"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s receipt lacks %q:\n%s", who, want, text)
			}
		}
	}
	// Emails carry the practice's contact details at their foot.
	msgs, _ := a.st.ListMessages(0, 10)
	if len(msgs) == 0 || !strings.Contains(a.sent(msgs[0]).Text, "12 rue de la Paix\n75002 Paris\n01 42 00 00 00\ncontact@lumiere.example") {
		t.Errorf("email footer lacks the practice's details:\n%s", a.sent(msgs[0]).Text)
	}
	// A bad SIRET or professional number is refused beside its field.
	r := owner.post("/settings", formOf("name", "Cabinet Lumière", "default_lang", "fr", "time_zone", "Europe/Paris", "phone_region", "FR",
		"currency", "EUR", "brand_color", "#2f5d62", "siret", "732 829 320 00075"))
	mustContain(t, r, "Saisissez les 14 chiffres d’un SIRET")
	mustContain(t, owner.post("/account", formOf("name", "Olive Owner", "lang", "fr", "professional_no", "12345")), "Saisissez un numéro RPPS")
	// In English, the amount reads the English way.
	owner.post(path, formOf("first_name", "Éloïse", "last_name", "Durand", "email", "eloise@example.org", "lang", "en", "practitioner", "1"))
	text := receipttest.Text(t, owner.get("/appointments/1/receipt.pdf").Body.Bytes())
	for _, want := range []string{"Receipt no. 1", "Amount paid", "€1,234.50", "November 20, 2026 at 9:30 AM"} {
		if !strings.Contains(text, want) {
			t.Errorf("English receipt lacks %q:\n%s", want, text)
		}
	}
}
