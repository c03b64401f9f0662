package handlers

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/journal"
	"foyer/spreadsheet"
	"foyer/store"
	"foyer/views"
)

// record journals an action of the signed-in person (staff member or portal
// account), from the request's address.
func (h *Handler) record(c echo.Context, e journal.Entry) {
	if u := currentUser(c); u != nil {
		e.StaffID = u.ID
	} else if a := currentAccount(c); a != nil {
		e.AccountID = a.ID
	}
	e.Addr = c.RealIP()
	h.journal.Record(e)
}

// recordAccess journals a staff member's use of a client's data: read for a
// GET or HEAD, change for any other method.
func (h *Handler) recordAccess(c echo.Context, clientID uint64, read, change journal.Action, itemID uint64) {
	action := change
	if m := c.Request().Method; m == http.MethodGet || m == http.MethodHead {
		action = read
	}
	h.record(c, journal.Entry{ClientID: clientID, Action: action, ItemID: itemID})
}

const journalPageSize = 50

type journalData struct {
	Rows  []journalRow
	Staff []option
	// Query is the filter as a query string, for the CSV link and the next
	// page; Filter the same as fields, for the chain check's form.
	Query  string
	Filter map[string]string
	Older  string
	// Client is the client the list is narrowed to, if any.
	Client string
	// Size says how many entries the journal holds and what they take.
	Size string
	// Report or Broken: the result of "Check the chain".
	Report *journal.Report
	Broken *journal.BrokenError
}

// journalRow is one entry as the Journal page shows it.
type journalRow struct {
	Seq      uint64
	At       time.Time
	Who      string
	ClientID uint64
	// Client is the client's name; empty for one erased since.
	Client string
	What   string
	Detail string
	Addr   string
}

// journalFilter reads the page's filter (client, staff member, dates in the
// practice's time zone, "to" included); a bad field is shown beside itself.
func (h *Handler) journalFilter(c echo.Context, f *form) store.JournalFilter {
	jf := store.JournalFilter{ClientID: f.id("client", false), StaffID: f.id("staff", false), Limit: journalPageSize}
	zone := h.zone()
	if d, v := f.date("from", false); v != "" {
		jf.From = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, zone)
	}
	if d, v := f.date("to", false); v != "" {
		jf.To = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, zone)
	}
	if !jf.From.IsZero() && !jf.To.IsZero() && !jf.To.After(jf.From) {
		f.fail("to", "journal.to_before_from")
	}
	jf.Before, _ = strconv.ParseUint(c.QueryParam("before"), 10, 64)
	return jf
}

// journalQuery is the filter as a query string.
func journalQuery(f *form) string {
	q := url.Values{}
	for _, k := range []string{"client", "staff", "from", "to"} {
		if v := f.vals[k]; v != "" && f.errs[k] == "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

// journalPage is the Journal: every entry, newest first, narrowed by client,
// staff member and dates.
func (h *Handler) journalPage(c echo.Context) (*views.Page, error) {
	pg := h.page(c, "journal.title")
	f, err := newForm(c)
	if err != nil {
		return nil, err
	}
	jf := h.journalFilter(c, f)
	d := &journalData{Query: journalQuery(f), Filter: map[string]string{}}
	if q, err := url.ParseQuery(d.Query); err == nil {
		for k := range q {
			d.Filter[k] = q.Get(k)
		}
	}
	pg.Data = d
	pg.Form, pg.Errors = f.vals, f.errs
	if _, d.Staff, err = h.staffDirectory(); err != nil {
		return nil, err
	}
	d.Staff = append([]option{{Value: "", Label: "journal.anyone"}}, d.Staff...)
	if !f.ok() {
		return pg, nil
	}
	list, more, err := h.journal.List(jf)
	if err != nil {
		return nil, err
	}
	if d.Rows, err = h.journalRows(pg, list); err != nil {
		return nil, err
	}
	if more && len(list) > 0 {
		d.Older = "/journal?" + d.Query
		if d.Query != "" {
			d.Older += "&"
		}
		d.Older += "before=" + strconv.FormatUint(list[len(list)-1].Seq, 10)
	}
	if jf.ClientID != 0 {
		d.Client = h.clientLabel(pg, jf.ClientID)
	}
	size, err := h.store.JournalSize()
	if err != nil {
		return nil, err
	}
	d.Size = pg.N("journal.size", size.Entries, "Size", humanSize(pg, size.Bytes))
	return pg, nil
}

func (h *Handler) showJournal(c echo.Context) error {
	pg, err := h.journalPage(c)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if len(pg.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return h.render(c, status, "journal", pg)
}

// clientLabel names a client by ID: "Name (no. 12)", or "no. 12 (erased)".
func (h *Handler) clientLabel(pg *views.Page, id uint64) string {
	cl, err := h.store.Client(id)
	if err != nil {
		return pg.T("journal.client_gone", "ID", id)
	}
	return pg.T("journal.client_named", "Name", cl.Name(), "ID", id)
}

// journalRows names who and which client of each entry, in the page's language.
func (h *Handler) journalRows(pg *views.Page, list []store.JournalEntry) ([]journalRow, error) {
	names, _, err := h.staffDirectory()
	if err != nil {
		return nil, err
	}
	clients := map[uint64]string{}
	var rows []journalRow
	for _, e := range list {
		r := journalRow{Seq: e.Seq, At: e.At, ClientID: e.ClientID, Addr: e.Addr, What: pg.T(actionMessage(e.Action)), Detail: journalDetail(pg, e, names)}
		switch {
		case e.StaffID != 0:
			r.Who = names[e.StaffID]
			if r.Who == "" {
				r.Who = pg.T("journal.staff_gone", "ID", e.StaffID)
			}
		case e.AccountID != 0:
			r.Who = pg.T("journal.by_client")
		default:
			r.Who = pg.T("journal.by_foyer")
		}
		if e.ClientID != 0 {
			name, seen := clients[e.ClientID]
			if !seen {
				if cl, err := h.store.Client(e.ClientID); err == nil {
					name = cl.Name()
				} else if !errors.Is(err, store.ErrNotFound) {
					return nil, err
				}
				clients[e.ClientID] = name
			}
			r.Client = name
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// journalDetail says in words what an entry's detail and item mean: whose
// role changed to what, which settings, how many entries were exported.
func journalDetail(pg *views.Page, e store.JournalEntry, names map[uint64]string) string {
	if len(e.Also) > 0 {
		parts := make([]string, len(e.Also))
		for i, p := range e.Also {
			parts[i] = pg.T("journal.part_" + p)
		}
		return strings.Join(parts, ", ")
	}
	switch journal.Action(e.Action) {
	case journal.RoleChange:
		return pg.T("journal.detail_role", "Name", names[e.ItemID], "Role", pg.T("role."+e.Detail))
	case journal.StaffActivate, journal.StaffDeactivate:
		return names[e.ItemID]
	case journal.SettingsChange:
		return pg.T("journal.settings_" + e.Detail)
	case journal.JournalExport:
		return pg.N("journal.detail_exported", int(e.ItemID))
	case journal.RetentionConfirm:
		return pg.N("journal.detail_erased", int(e.ItemID))
	case journal.OutboxReveal:
		return pg.T("journal.detail_message", "ID", e.ItemID)
	case journal.SecretKeyShown:
		return pg.T("journal.detail_key", "ID", e.Detail)
	case journal.CertificateDownload:
		if e.Detail == "p7s" {
			return pg.T("journal.detail_certificate_p7s", "ID", e.ItemID)
		}
		return pg.T("journal.detail_certificate_pdf", "ID", e.ItemID)
	}
	switch e.Detail {
	case "2fa", "portal", "retention", "limited":
		return pg.T("journal.detail_" + e.Detail)
	}
	if e.ItemID != 0 {
		return pg.T("journal.detail_item", "ID", e.ItemID)
	}
	return ""
}

// actionMessage is the message ID naming an action.
func actionMessage(action string) string {
	return "journal.do." + action
}

// journalCSV exports the entries the filter selects (all pages), and
// journals the export itself.
func (h *Handler) journalCSV(c echo.Context) error {
	pg := h.page(c, "journal.title")
	f, err := newForm(c)
	if err != nil {
		return err
	}
	jf := h.journalFilter(c, f)
	if !f.ok() {
		return errBadRequest
	}
	jf.Limit, jf.Before = 1000, 0
	var all []store.JournalEntry
	for len(all) < maxJournalExport {
		list, more, err := h.journal.List(jf)
		if err != nil {
			return err
		}
		all = append(all, list...)
		if !more || len(list) == 0 {
			break
		}
		jf.Before = list[len(list)-1].Seq
	}
	rows, err := h.journalRows(pg, all)
	if err != nil {
		return err
	}
	h.record(c, journal.Entry{Action: journal.JournalExport, ItemID: uint64(len(rows))})
	var sb strings.Builder
	w := csv.NewWriter(&sb)
	_ = w.Write([]string{pg.T("journal.col_seq"), pg.T("journal.col_when"), pg.T("journal.col_who"), pg.T("journal.col_client_id"),
		pg.T("journal.col_client"), pg.T("journal.col_what"), pg.T("journal.col_detail"), pg.T("journal.col_addr")})
	for _, r := range rows {
		client := ""
		if r.ClientID != 0 {
			client = strconv.FormatUint(r.ClientID, 10)
		}
		// Names are typed by people: a spreadsheet must not read one as a formula.
		_ = w.Write([]string{strconv.FormatUint(r.Seq, 10), r.At.In(h.zone()).Format(time.RFC3339), spreadsheet.Cell(r.Who), client, spreadsheet.Cell(r.Client),
			r.What, spreadsheet.Cell(r.Detail), r.Addr})
	}
	w.Flush()
	hd := c.Response().Header()
	hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, pg.T("journal.file_name"), h.now().In(h.zone()).Format("2006-01-02")))
	hd.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", []byte(sb.String()))
}

// maxJournalExport bounds one CSV export.
const maxJournalExport = 200_000

// verifyJournal checks the whole chain and shows the Journal with the
// result. It reads and changes nothing, so it is a GET: switching the
// language shows the same result again.
func (h *Handler) verifyJournal(c echo.Context) error {
	report, err := h.journal.Verify()
	var broken *journal.BrokenError
	if err != nil && !errors.As(err, &broken) {
		return err
	}
	pg, err := h.journalPage(c)
	if err != nil {
		return err
	}
	d := pg.Data.(*journalData)
	if broken != nil {
		d.Broken = broken
	} else {
		d.Report = &report
	}
	return h.render(c, http.StatusOK, "journal", pg)
}

// clientJournal is "Who opened this record": the last entries about a
// client, for owners and admins, loaded into the record's page.
func (h *Handler) clientJournal(c echo.Context) error {
	cl, err := h.loadClientQuietly(c)
	if err != nil {
		return err
	}
	pg := h.page(c, "journal.who_opened")
	list, more, err := h.journal.List(store.JournalFilter{ClientID: cl.ID, Limit: journalPageSize})
	if err != nil {
		return err
	}
	rows, err := h.journalRows(pg, list)
	if err != nil {
		return err
	}
	pg.Data = map[string]any{"Client": cl, "Rows": rows, "More": more}
	if isHTMX(c) {
		return h.renderBlock(c, http.StatusOK, "client_journal", "client_journal_rows", pg)
	}
	return h.render(c, http.StatusOK, "client_journal", pg)
}

// loadClientQuietly loads the route's client, by the access policy's rule
// (access.MaySeeClient), without journaling a read: the journal of a record
// is not the record.
func (h *Handler) loadClientQuietly(c echo.Context) (store.Client, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return store.Client{}, errNotFound
	}
	cl, err := h.store.Client(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !access.MaySeeClient(staffViewer(c), cl)) {
		return store.Client{}, errNotFound
	}
	return cl, err
}
