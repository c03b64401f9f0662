package privacy

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"foyer/journal"
	"foyer/locales"
	"foyer/store"
)

// A client's export: one zip holding data.json (the shape below, version 1),
// the PDFs of their receipts and signing certificates, and a README.txt in
// their language saying what each file is. It holds what Foyer keeps about
// the client and nothing about anyone else: shares and presos appear only as
// far as they were sent to the client, and the journal only as it concerns them.

// ExportFormat and ExportVersion identify data.json.
const (
	ExportFormat  = "foyer-client-export"
	ExportVersion = 1
)

// Export is data.json.
type Export struct {
	Format     string    `json:"format"`
	Version    int       `json:"version"`
	ExportedAt time.Time `json:"exported_at"`
	// zone is the practice's time zone, for the zip's dates.
	zone         *time.Location
	Practice     ExportPractice      `json:"practice"`
	Client       ExportClient        `json:"client"`
	Account      *ExportAccount      `json:"portal_account"`
	Appointments []ExportAppointment `json:"appointments"`
	Shares       []ExportShare       `json:"shares"`
	Presos       []ExportPreso       `json:"presos"`
	Journal      []ExportAccess      `json:"access_journal"`
}

// ExportPractice is who holds the data.
type ExportPractice struct {
	Name    string   `json:"name"`
	Contact []string `json:"contact"`
}

// ExportClient is the client record.
type ExportClient struct {
	ID           uint64        `json:"id"`
	FirstName    string        `json:"first_name"`
	LastName     string        `json:"last_name"`
	Email        string        `json:"email,omitempty"`
	Phones       []ExportPhone `json:"phones"`
	Lang         string        `json:"lang"`
	BirthDate    string        `json:"birth_date,omitempty"`
	Address      string        `json:"address,omitempty"`
	Notes        string        `json:"notes,omitempty"`
	Practitioner string        `json:"practitioner"`
	Archived     bool          `json:"archived"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
}

// ExportPhone is one phone number, in E.164.
type ExportPhone struct {
	Type   string `json:"type"`
	Number string `json:"number"`
}

// ExportAccount is the portal account.
type ExportAccount struct {
	Email      string    `json:"email"`
	Verified   bool      `json:"verified"`
	VerifiedBy string    `json:"verified_by,omitempty"`
	Lang       string    `json:"lang,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	// SignUp is what the person typed when signing up themselves.
	SignUp *ExportSignUp `json:"signup,omitempty"`
}

// ExportSignUp is a self sign-up, with the information notice shown then.
type ExportSignUp struct {
	FirstName     string    `json:"first_name"`
	LastName      string    `json:"last_name"`
	Phone         string    `json:"phone,omitempty"`
	BirthDate     string    `json:"birth_date,omitempty"`
	NoticeVersion int       `json:"notice_version,omitempty"`
	NoticeShown   time.Time `json:"notice_shown,omitzero"`
}

// ExportAppointment is one session, with its receipt's file when paid.
type ExportAppointment struct {
	ID           uint64        `json:"id"`
	Start        time.Time     `json:"start"`
	Minutes      int           `json:"minutes"`
	Kind         string        `json:"kind"`
	Status       string        `json:"status"`
	Practitioner string        `json:"practitioner"`
	FeeCents     int64         `json:"fee_cents"`
	Currency     string        `json:"currency"`
	Paid         bool          `json:"paid"`
	PaidAt       time.Time     `json:"paid_at,omitzero"`
	ReceiptNo    uint64        `json:"receipt_no,omitempty"`
	ReceiptFile  string        `json:"receipt_file,omitempty"`
	Video        []ExportVideo `json:"video_room,omitempty"`
}

// ExportVideo is one party joining or leaving the session's video room.
type ExportVideo struct {
	At     time.Time `json:"at"`
	Party  string    `json:"party"`
	Joined bool      `json:"joined"`
}

// ExportShare is a share link sent to the client, with its history.
type ExportShare struct {
	ID         uint64        `json:"id"`
	Kind       string        `json:"kind"`
	PresoID    uint64        `json:"preso_id,omitempty"`
	State      string        `json:"state"`
	CreatedAt  time.Time     `json:"created_at"`
	ExpiresAt  time.Time     `json:"expires_at"`
	EndedAt    time.Time     `json:"ended_at,omitzero"`
	Message    string        `json:"message,omitempty"`
	SentTo     ExportContact `json:"sent_to"`
	Files      []ExportFile  `json:"files,omitempty"`
	History    []ExportEvent `json:"history"`
	FilesGone  bool          `json:"files_removed,omitempty"`
	Visibility string        `json:"visibility"`
}

// ExportContact is where a share was sent: the client's own addresses.
type ExportContact struct {
	Name    string   `json:"name"`
	Email   string   `json:"email,omitempty"`
	Mobiles []string `json:"mobiles,omitempty"`
}

// ExportFile is a shared document's name and size (its content is not in the export).
type ExportFile struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

// ExportEvent is one line of a share's history that concerns the client.
type ExportEvent struct {
	At      time.Time `json:"at"`
	Type    string    `json:"type"`
	Detail  string    `json:"detail,omitempty"`
	Browser string    `json:"browser,omitempty"`
}

// ExportPreso is a preso the client was a contact of.
type ExportPreso struct {
	ID         uint64            `json:"id"`
	Title      string            `json:"title"`
	Viewings   []ExportViewing   `json:"viewings"`
	Signatures []ExportSignature `json:"signatures"`
}

// ExportViewing is the client's viewing of a shared preso.
type ExportViewing struct {
	ShareID      uint64             `json:"share_id"`
	StartedAt    time.Time          `json:"started_at"`
	Verification string             `json:"verification"`
	Browser      string             `json:"browser,omitempty"`
	IP           string             `json:"ip,omitempty"`
	Slides       []ExportSlideTime  `json:"slides"`
	Shown        []ExportShownSlide `json:"shown"`
}

// ExportSlideTime is time spent on one slide.
type ExportSlideTime struct {
	Slide  uint64    `json:"slide"`
	Millis int64     `json:"ms"`
	At     time.Time `json:"at"`
}

// ExportShownSlide is a slide as the link showed it (title and Markdown text).
type ExportShownSlide struct {
	ID    uint64 `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body,omitempty"`
}

// ExportSignature is a signature the client made, with its certificate's file.
type ExportSignature struct {
	ID             uint64    `json:"id"`
	At             time.Time `json:"at"`
	Name           string    `json:"typed_name"`
	Verification   string    `json:"verification"`
	SnapshotSHA256 string    `json:"snapshot_sha256"`
	// CertificateFile and SealFile are the certificate's PDF and its detached
	// signature (.p7s) in the zip; empty before the certificate is issued.
	CertificateFile string `json:"certificate_file,omitempty"`
	SealFile        string `json:"certificate_seal_file,omitempty"`
}

// ExportAccess is one journal entry about the client: who opened or changed
// their data, when, from where.
type ExportAccess struct {
	At     time.Time `json:"at"`
	Who    string    `json:"who"`
	Action string    `json:"action"`
	Addr   string    `json:"address,omitempty"`
}

// Documents gives the PDFs an export holds: a receipt drawn for it, a
// signing certificate as issued (its PDF and its seal, nil before it is).
type Documents interface {
	Receipt(ap store.Appointment, cl store.Client) ([]byte, error)
	Certificate(p store.Preso, sig store.Signature) (pdf, p7s []byte, err error)
}

// Export writes client clientID's export zip to w in l's language and
// journals who made it: staff (Export) or the client (ExportSelf). It reads
// the store in short transactions and builds the zip in memory before
// writing it, so no transaction waits on w.
func (s *Service) Export(w io.Writer, clientID uint64, l *locales.Localizer, docs Documents, by Actor) error {
	x, files, err := s.collect(clientID, docs)
	if err != nil {
		return err
	}
	raw, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return err
	}
	all := append([]zipFile{{name: "README.txt", data: []byte(readme(l, x))}, {name: "data.json", data: raw}}, files...)
	action := journal.Export
	if by.StaffID == 0 {
		action = journal.ExportSelf
	}
	s.jr.Record(journal.Entry{StaffID: by.StaffID, AccountID: by.AccountID, ClientID: clientID, Action: action, Addr: by.Addr})
	return writeZip(w, all, x.localTime())
}

// collect gathers data.json and the PDFs of a client.
func (s *Service) collect(clientID uint64, docs Documents) (Export, []zipFile, error) {
	var files []zipFile
	cl, err := s.st.Client(clientID)
	if err != nil {
		return Export{}, nil, err
	}
	p, err := s.st.Practice()
	if err != nil {
		return Export{}, nil, err
	}
	staff, err := s.st.ListStaff()
	if err != nil {
		return Export{}, nil, err
	}
	names := map[uint64]string{}
	for _, st := range staff {
		names[st.ID] = st.Name
	}
	// The zip's entries and its README are dated in the practice's time, as
	// the documents zip is: unzip tools and Windows show the DOS time field
	// as it is. data.json keeps UTC, with its zone.
	zone, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		zone = time.UTC
	}
	x := Export{Format: ExportFormat, Version: ExportVersion, ExportedAt: s.now().UTC(), zone: zone,
		Practice: ExportPractice{Name: p.Name, Contact: p.ContactLines()},
		Client: ExportClient{ID: cl.ID, FirstName: cl.FirstName, LastName: cl.LastName, Email: cl.Email, Phones: []ExportPhone{},
			Lang: cl.Lang, BirthDate: cl.BirthDate, Address: cl.Address, Notes: cl.Notes, Practitioner: names[cl.PractitionerID],
			Archived: cl.Archived, CreatedAt: cl.CreatedAt, UpdatedAt: cl.UpdatedAt},
		Appointments: []ExportAppointment{}, Shares: []ExportShare{}, Presos: []ExportPreso{}, Journal: []ExportAccess{}}
	for _, ph := range cl.Phones {
		x.Client.Phones = append(x.Client.Phones, ExportPhone{Type: string(ph.Type), Number: ph.Number})
	}
	if cl.AccountID != 0 {
		a, err := s.st.Account(cl.AccountID)
		if err != nil {
			return x, nil, err
		}
		x.Account = &ExportAccount{Email: a.Email, Verified: a.Verified, VerifiedBy: a.VerifiedBy, Lang: a.Lang, CreatedAt: a.CreatedAt}
		if a.VerifiedBy != "record" {
			su := a.SignUp
			x.Account.SignUp = &ExportSignUp{FirstName: su.FirstName, LastName: su.LastName, Phone: su.Phone, BirthDate: su.BirthDate,
				NoticeVersion: su.NoticeVersion, NoticeShown: su.NoticeShown}
		}
	}
	appts, err := s.st.ClientAppointments(cl.ID)
	if err != nil {
		return x, nil, err
	}
	for _, ap := range appts {
		e := ExportAppointment{ID: ap.ID, Start: ap.Start, Minutes: ap.Minutes, Kind: string(ap.Kind), Status: string(ap.Status),
			Practitioner: names[ap.PractitionerID], FeeCents: ap.FeeCents, Currency: ap.Currency, Paid: ap.Paid, PaidAt: ap.PaidAt, ReceiptNo: ap.ReceiptNo}
		for _, v := range ap.Video {
			e.Video = append(e.Video, ExportVideo{At: v.At, Party: string(v.Party), Joined: v.Joined})
		}
		if ap.Paid && ap.ReceiptNo != 0 {
			pdf, err := docs.Receipt(ap, cl)
			if err != nil {
				return x, nil, err
			}
			e.ReceiptFile = fmt.Sprintf("receipts/receipt-%d.pdf", ap.ReceiptNo)
			files = append(files, zipFile{name: e.ReceiptFile, data: pdf})
		}
		x.Appointments = append(x.Appointments, e)
	}
	// Document shares made from the record and sent to the client.
	shares, err := s.st.SharesOfClient(cl.ID)
	if err != nil {
		return x, nil, err
	}
	for _, sh := range shares {
		if sh.Kind != store.ShareFiles {
			continue
		}
		if e, ok, err := s.exportShare(sh, cl.ID); err != nil {
			return x, nil, err
		} else if ok {
			x.Shares = append(x.Shares, e)
		}
	}
	// Presos: those the client is a contact of, and those they viewed,
	// signed or were sent a link of before being taken off (store.ClientSigning).
	presos, err := s.st.ClientPresos(cl.ID)
	if err != nil {
		return x, nil, err
	}
	viewings, sigs, err := s.st.ClientSigning(cl.ID)
	if err != nil {
		return x, nil, err
	}
	named, err := s.st.PresoSharesNaming(cl.ID)
	if err != nil {
		return x, nil, err
	}
	ids := map[uint64]bool{}
	for _, pr := range presos {
		ids[pr.ID] = true
	}
	var more []uint64
	add := func(id uint64) {
		if !ids[id] {
			ids[id] = true
			more = append(more, id)
		}
	}
	for _, v := range viewings {
		add(v.PresoID)
	}
	for _, sig := range sigs {
		add(sig.PresoID)
	}
	for _, sh := range named {
		add(sh.SubjectID)
	}
	for _, id := range more {
		pr, err := s.st.Preso(id)
		if errors.Is(err, store.ErrNotFound) {
			pr = store.Preso{ID: id} // deleted since: what the client did there stays theirs
		} else if err != nil {
			return x, nil, err
		}
		presos = append(presos, pr)
	}
	for _, pr := range presos {
		ep := ExportPreso{ID: pr.ID, Title: pr.Title, Viewings: []ExportViewing{}, Signatures: []ExportSignature{}}
		shares, err := s.st.SharesOfSubject(store.SharePreso, pr.ID)
		if err != nil {
			return x, nil, err
		}
		for _, sh := range shares {
			e, ok, err := s.exportShare(sh, cl.ID)
			if err != nil {
				return x, nil, err
			}
			if ok {
				e.PresoID = pr.ID
				x.Shares = append(x.Shares, e)
			}
		}
		for _, v := range viewings {
			if v.PresoID != pr.ID {
				continue
			}
			ev, err := s.exportViewing(v)
			if err != nil {
				return x, nil, err
			}
			ep.Viewings = append(ep.Viewings, ev)
		}
		for _, sig := range sigs {
			if sig.PresoID != pr.ID {
				continue
			}
			pdf, p7s, err := docs.Certificate(pr, sig)
			if err != nil {
				return x, nil, err
			}
			es := ExportSignature{ID: sig.ID, At: sig.At, Name: sig.Name, Verification: sig.Verification, SnapshotSHA256: sig.SnapshotSHA256}
			if pdf != nil {
				es.CertificateFile = fmt.Sprintf("certificates/certificate-%d.pdf", sig.ID)
				files = append(files, zipFile{name: es.CertificateFile, data: pdf})
			}
			if p7s != nil {
				es.SealFile = fmt.Sprintf("certificates/certificate-%d.p7s", sig.ID)
				files = append(files, zipFile{name: es.SealFile, data: p7s})
			}
			ep.Signatures = append(ep.Signatures, es)
		}
		x.Presos = append(x.Presos, ep)
	}
	slices.SortFunc(x.Shares, func(a, b ExportShare) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if err := s.exportJournal(&x, names); err != nil {
		return x, nil, err
	}
	return x, files, nil
}

// exportShare is a share as the client's export shows it, if it was sent to
// them: their own entry as recipient, and the events that concern them or
// the whole share.
func (s *Service) exportShare(sh store.Share, clientID uint64) (ExportShare, bool, error) {
	idx := slices.IndexFunc(sh.Recipients, func(r store.ShareRecipient) bool { return r.ClientID == clientID })
	if idx < 0 {
		return ExportShare{}, false, nil
	}
	r := sh.Recipients[idx]
	e := ExportShare{ID: sh.ID, Kind: string(sh.Kind), State: string(sh.State), CreatedAt: sh.CreatedAt, ExpiresAt: sh.ExpiresAt, EndedAt: sh.EndedAt,
		Message: sh.Message, SentTo: ExportContact{Name: r.Name, Email: r.Email, Mobiles: r.Mobiles}, History: []ExportEvent{},
		FilesGone: sh.Purged, Visibility: string(sh.Visibility)}
	if sh.Kind == store.ShareFiles {
		for _, id := range sh.Snapshot {
			b, err := s.st.Blob(id)
			if err != nil {
				continue // purged with the share's end
			}
			e.Files = append(e.Files, ExportFile{Name: b.Name, Type: b.Type, Size: b.Size})
		}
	}
	events, err := s.st.ShareEvents(sh.ID)
	if err != nil {
		return e, false, err
	}
	for _, ev := range events {
		if ev.Recipient >= 0 && ev.Recipient != idx {
			continue
		}
		e.History = append(e.History, ExportEvent{At: ev.At, Type: ev.Type, Detail: ev.Detail, Browser: ev.UserAgent})
	}
	return e, true, nil
}

// exportViewing is a viewing with its slide times and the slides it showed.
func (s *Service) exportViewing(v store.Viewing) (ExportViewing, error) {
	ev := ExportViewing{ShareID: v.ShareID, StartedAt: v.StartedAt, Verification: v.Verification, Browser: v.Browser, IP: v.IP,
		Slides: []ExportSlideTime{}, Shown: []ExportShownSlide{}}
	times, err := s.st.SlideTimes(v.ID)
	if err != nil {
		return ev, err
	}
	for _, t := range times {
		ev.Slides = append(ev.Slides, ExportSlideTime{Slide: t.SlideID, Millis: t.Millis, At: t.At})
	}
	if snap, err := s.st.Snapshot(v.SnapshotID); err == nil {
		for _, sl := range snap.Slides {
			ev.Shown = append(ev.Shown, ExportShownSlide{ID: sl.ID, Title: sl.Title, Body: sl.Body})
		}
	}
	return ev, nil
}

// exportJournal adds the journal's entries about the client, oldest first.
func (s *Service) exportJournal(x *Export, names map[uint64]string) error {
	f := store.JournalFilter{ClientID: x.Client.ID, Limit: 500}
	var all []store.JournalEntry
	for {
		list, more, err := s.jr.List(f)
		if err != nil {
			return err
		}
		all = append(all, list...)
		if !more || len(list) == 0 {
			break
		}
		f.Before = list[len(list)-1].Seq
	}
	for i := len(all) - 1; i >= 0; i-- {
		e := all[i]
		who := names[e.StaffID]
		if e.StaffID == 0 && e.AccountID != 0 {
			who = x.Client.FirstName + " " + x.Client.LastName
		}
		x.Journal = append(x.Journal, ExportAccess{At: e.At, Who: strings.TrimSpace(who), Action: e.Action, Addr: e.Addr})
	}
	return nil
}

// readme is README.txt in the client's language: what each file is.
func readme(l *locales.Localizer, x Export) string {
	var b strings.Builder
	b.WriteString(l.T("export.readme_title", "Practice", x.Practice.Name, "Name", x.Client.FirstName+" "+x.Client.LastName) + "\n\n")
	b.WriteString(l.T("export.readme_made", "When", l.DateTime(x.localTime())) + "\n\n")
	for _, key := range []string{"export.readme_data", "export.readme_receipts", "export.readme_certificates", "export.readme_shape", "export.readme_contact"} {
		b.WriteString(l.T(key, "Practice", x.Practice.Name) + "\n\n")
	}
	for _, line := range x.Practice.Contact {
		b.WriteString(line + "\n")
	}
	return b.String()
}

// localTime is when the export was made, in the practice's time zone.
func (x Export) localTime() time.Time {
	if x.zone == nil {
		return x.ExportedAt
	}
	return x.ExportedAt.In(x.zone)
}

// zipFile is one file of the export.
type zipFile struct {
	name string
	data []byte
}

// writeZip writes files into a zip, dated at.
func writeZip(w io.Writer, files []zipFile, at time.Time) error {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: at})
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.data); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
