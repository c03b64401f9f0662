package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Named routes: the paths with parameters that handlers link to. The table
// below serves them and urlFor fills their parameters in, so a link cannot
// drift from its route. Any handler may add the routes it links to.
const (
	routeClient            = "/clients/:id"
	routeProspectCreate    = "/prospects/:id/create"
	routeProspectAssociate = "/prospects/:id/associate"
	routeProspectDelete    = "/prospects/:id/delete"
	routeStaffRoom         = "/appointments/:id/video"
	routeClientRoom        = "/portal/video/:id"
	routeStaffRoomSocket   = "/appointments/:id/video/ws"
	routeStaffRoomAttended = "/appointments/:id/video/attended"
	routeClientRoomSocket  = "/portal/video/:id/ws"
	routePreso             = "/presos/:id"
	routePresoPreview      = "/presos/:id/preview"
	routeSlideImage        = "/presos/:id/slides/:sid/image"
	routePresoShares       = "/presos/:id/share"
	routePresoShareStats   = "/presos/:id/share/:share"

	// A share link's pages.
	routeLink       = "/s/:token"
	routeLinkCode   = "/s/:token/code"
	routeLinkFiles  = "/s/:token/files"
	routeLinkSlide  = "/s/:token/slides/:n"
	routeLinkImage  = "/s/:token/images/:sid"
	routeLinkBeacon = "/s/:token/beacon"
	routeLinkSign   = "/s/:token/sign"
	routeLinkLeave  = "/s/:token/leave"
)

// urlFor is the path of route with its parameters (":id") replaced, in
// order, by params. A route and its parameters that do not match are a
// programming error: it panics.
func urlFor(route string, params ...any) string {
	var b strings.Builder
	b.Grow(len(route) + 40)
	n := 0
	for seg := range strings.SplitSeq(strings.TrimPrefix(route, "/"), "/") {
		b.WriteByte('/')
		if !strings.HasPrefix(seg, ":") {
			b.WriteString(seg)
			continue
		}
		if n == len(params) {
			panic(fmt.Sprintf("handlers: route %s needs more than %d parameters", route, len(params)))
		}
		// Link tokens and record IDs are most of the parameters, and every
		// share page builds its links: they skip fmt's reflection.
		switch v := params[n].(type) {
		case string:
			b.WriteString(url.PathEscape(v))
		case uint64:
			b.WriteString(strconv.FormatUint(v, 10))
		case int:
			b.WriteString(strconv.Itoa(v))
		default:
			b.WriteString(url.PathEscape(fmt.Sprint(v)))
		}
		n++
	}
	if n != len(params) {
		panic(fmt.Sprintf("handlers: route %s takes %d parameters, not %d", route, n, len(params)))
	}
	return b.String()
}

// route is one line of the route table.
type route struct {
	method, path string
	level        audience
	handle       func(*Handler) echo.HandlerFunc
}

// routes lists every route Foyer serves and who may use it.
var routes = []route{
	{http.MethodGet, "/healthz", public, func(h *Handler) echo.HandlerFunc { return h.healthz }},
	{http.MethodGet, "/static/:name", public, func(h *Handler) echo.HandlerFunc { return h.staticFile }},
	{http.MethodGet, "/favicon.ico", public, func(h *Handler) echo.HandlerFunc { return h.favicon }},
	{http.MethodGet, "/robots.txt", public, func(h *Handler) echo.HandlerFunc { return h.robotsTxt }},
	{http.MethodGet, "/brand.css", public, func(h *Handler) echo.HandlerFunc { return h.brandCSS }},
	{http.MethodGet, "/logo", public, func(h *Handler) echo.HandlerFunc { return h.logo }},
	{http.MethodPost, "/lang", public, func(h *Handler) echo.HandlerFunc { return h.setLang }},

	{http.MethodGet, "/setup", public, func(h *Handler) echo.HandlerFunc { return h.setupForm }},
	{http.MethodPost, "/setup", public, func(h *Handler) echo.HandlerFunc { return h.setup }},
	{http.MethodGet, "/signin", public, func(h *Handler) echo.HandlerFunc { return h.signInForm }},
	{http.MethodPost, "/signin", public, func(h *Handler) echo.HandlerFunc { return h.signIn }},
	{http.MethodGet, "/signin/forgot", public, func(h *Handler) echo.HandlerFunc { return h.staffForgotForm }},
	{http.MethodPost, "/signin/forgot", public, func(h *Handler) echo.HandlerFunc { return h.staffForgot }},
	{http.MethodGet, "/signin/reset/:token", public, func(h *Handler) echo.HandlerFunc { return h.show("portal_reset", h.staffResetPage) }},
	{http.MethodPost, "/signin/reset/:token", public, func(h *Handler) echo.HandlerFunc { return h.staffReset }},
	{http.MethodGet, "/signin/2fa", public, func(h *Handler) echo.HandlerFunc { return h.signIn2FAForm }},
	{http.MethodPost, "/signin/2fa", public, func(h *Handler) echo.HandlerFunc { return h.signIn2FA }},
	{http.MethodPost, "/signout", public, func(h *Handler) echo.HandlerFunc { return h.signOut }},
	{http.MethodGet, "/invite/:token", public, func(h *Handler) echo.HandlerFunc { return h.show("invite", h.invitePage) }},
	{http.MethodPost, "/invite/:token", public, func(h *Handler) echo.HandlerFunc { return h.acceptInvite }},

	{http.MethodGet, "/verify", public, func(h *Handler) echo.HandlerFunc { return h.certCheckForm }},
	{http.MethodPost, "/verify", public, func(h *Handler) echo.HandlerFunc { return h.certCheck }},
	{http.MethodGet, "/verify/practice.pem", public, func(h *Handler) echo.HandlerFunc { return h.practicePEM }},

	{http.MethodGet, "/portal", public, func(h *Handler) echo.HandlerFunc { return h.portalSignInForm }},
	{http.MethodPost, "/portal", public, func(h *Handler) echo.HandlerFunc { return h.portalSignIn }},
	{http.MethodPost, "/portal/signout", public, func(h *Handler) echo.HandlerFunc { return h.portalSignOut }},
	{http.MethodGet, "/portal/signup", public, func(h *Handler) echo.HandlerFunc { return h.signupForm }},
	{http.MethodPost, "/portal/signup", public, func(h *Handler) echo.HandlerFunc { return h.signup }},
	{http.MethodGet, "/portal/verify/:token", public, func(h *Handler) echo.HandlerFunc { return h.verifyPage }},
	{http.MethodPost, "/portal/verify/:token", public, func(h *Handler) echo.HandlerFunc { return h.verify }},
	{http.MethodGet, "/portal/resend", public, func(h *Handler) echo.HandlerFunc { return h.resendForm }},
	{http.MethodPost, "/portal/resend", public, func(h *Handler) echo.HandlerFunc { return h.resend }},
	{http.MethodGet, "/portal/forgot", public, func(h *Handler) echo.HandlerFunc { return h.forgotForm }},
	{http.MethodPost, "/portal/forgot", public, func(h *Handler) echo.HandlerFunc { return h.forgot }},
	{http.MethodGet, "/portal/reset/:token", public, func(h *Handler) echo.HandlerFunc { return h.show("portal_reset", h.resetPage) }},
	{http.MethodPost, "/portal/reset/:token", public, func(h *Handler) echo.HandlerFunc { return h.reset }},
	{http.MethodGet, "/portal/account", portalAccount, func(h *Handler) echo.HandlerFunc { return h.portalAccount }},
	{http.MethodPost, "/portal/account", portalClient, func(h *Handler) echo.HandlerFunc { return h.updateMyDetails }},
	{http.MethodPost, "/portal/password", portalClient, func(h *Handler) echo.HandlerFunc { return h.changeMyPassword }},
	{http.MethodGet, "/portal/receipts/:id", portalClient, func(h *Handler) echo.HandlerFunc { return h.myReceipt }},
	{http.MethodGet, routeClientRoom, portalClient, func(h *Handler) echo.HandlerFunc { return h.clientRoomPage }},
	{http.MethodGet, routeClientRoomSocket, portalClient, func(h *Handler) echo.HandlerFunc { return h.clientRoomSocket }},
	{http.MethodGet, "/portal/shares/:id/files/:n", portalClient, func(h *Handler) echo.HandlerFunc { return h.myShareFile }},
	{http.MethodHead, "/portal/shares/:id/files/:n", portalClient, func(h *Handler) echo.HandlerFunc { return h.myShareFile }},
	{http.MethodGet, "/portal/shares/:id/all", portalClient, func(h *Handler) echo.HandlerFunc { return h.myShareZip }},
	{http.MethodHead, "/portal/shares/:id/all", portalClient, func(h *Handler) echo.HandlerFunc { return h.myShareZip }},
	{http.MethodGet, "/portal/shares/:id/not-me", portalClient, func(h *Handler) echo.HandlerFunc { return h.notMeForm }},
	{http.MethodPost, "/portal/shares/:id/not-me", portalClient, func(h *Handler) echo.HandlerFunc { return h.notMe }},
	{http.MethodGet, "/portal/mydata", portalClient, func(h *Handler) echo.HandlerFunc { return h.myData }},
	{http.MethodGet, "/privacy", public, func(h *Handler) echo.HandlerFunc { return h.privacyNotice }},

	// Every route of a share link goes through the share engine's admission
	// (onLink), then the page of the share's kind: documents, preso, or both
	// for the first steps, which are the same URLs for every kind.
	{http.MethodGet, routeLink, public, onLink((*Handler).shareLanding, (*Handler).presoLanding)},
	{http.MethodPost, "/s/:token/open", public, onLink((*Handler).shareOpen, (*Handler).presoEnter)},
	{http.MethodPost, routeLinkCode, public, onLink((*Handler).shareSendCode, (*Handler).presoSendCode)},
	{http.MethodGet, routeLinkCode, public, onLink((*Handler).shareCodeForm, (*Handler).presoCodeForm)},
	{http.MethodPost, "/s/:token/verify", public, onLink((*Handler).shareVerify, (*Handler).presoVerify)},
	{http.MethodGet, routeLinkFiles, public, onLink(verified((*Handler).shareFiles), nil)},
	{http.MethodGet, "/s/:token/files/:n", public, onLink(verified((*Handler).shareDownload), nil)},
	{http.MethodGet, "/s/:token/all", public, onLink(verified((*Handler).shareZip), nil)},
	// HEAD answers like GET without the body (download managers ask first).
	{http.MethodHead, "/s/:token/files/:n", public, onLink(verified((*Handler).shareDownload), nil)},
	{http.MethodHead, "/s/:token/all", public, onLink(verified((*Handler).shareZip), nil)},
	{http.MethodGet, "/s/:token/history", public, onLink(verified((*Handler).shareHistory), nil)},
	{http.MethodGet, "/s/:token/delete", public, onLink(verified((*Handler).shareDeleteForm), nil)},
	{http.MethodPost, "/s/:token/delete", public, onLink(verified((*Handler).shareDelete), nil)},
	{http.MethodGet, routeLinkSlide, public, onLink(nil, presoViewer(toLanding, (*Handler).shareSlide))},
	{http.MethodGet, routeLinkImage, public, onLink(nil, presoViewer(imageNotFound, (*Handler).shareSlideImage))},
	{http.MethodPost, routeLinkBeacon, public, beaconGate(onLinkOrEnded(nil, presoViewer(beaconRefused, (*Handler).beacon), (*Handler).lateBeacon))},
	{http.MethodPost, routeLinkSign, public, onLink(nil, presoViewer(toLanding, (*Handler).presoSign))},
	{http.MethodPost, routeLinkLeave, public, onLink(nil, presoLeave)},

	{http.MethodGet, "/", anyStaff, func(h *Handler) echo.HandlerFunc { return h.home }},
	{http.MethodGet, "/account", anyStaff, func(h *Handler) echo.HandlerFunc { return h.show("account", h.accountPage) }},
	{http.MethodPost, "/account", anyStaff, func(h *Handler) echo.HandlerFunc { return h.updateProfile }},
	{http.MethodPost, "/account/password", anyStaff, func(h *Handler) echo.HandlerFunc { return h.changePassword }},
	{http.MethodGet, "/account/2fa", enrolling, func(h *Handler) echo.HandlerFunc { return h.enrol2FAForm }},
	{http.MethodPost, "/account/2fa", enrolling, func(h *Handler) echo.HandlerFunc { return h.enrol2FA }},
	{http.MethodGet, "/account/2fa/qr.png", enrolling, func(h *Handler) echo.HandlerFunc { return h.qrCode }},
	{http.MethodPost, "/account/2fa/disable", enrolling, func(h *Handler) echo.HandlerFunc { return h.disable2FA }},
	{http.MethodPost, "/signout/everywhere", anyStaff, func(h *Handler) echo.HandlerFunc { return h.signOutEverywhere }},

	{http.MethodGet, "/clients", anyStaff, func(h *Handler) echo.HandlerFunc { return h.clientList }},
	{http.MethodGet, "/clients/new", anyStaff, func(h *Handler) echo.HandlerFunc { return h.newClientForm }},
	{http.MethodPost, "/clients", anyStaff, func(h *Handler) echo.HandlerFunc { return h.createClient }},
	{http.MethodGet, routeClient, anyStaff, func(h *Handler) echo.HandlerFunc { return h.showClient }},
	{http.MethodGet, "/clients/:id/edit", anyStaff, func(h *Handler) echo.HandlerFunc { return h.editClientForm }},
	{http.MethodPost, "/clients/:id", anyStaff, func(h *Handler) echo.HandlerFunc { return h.updateClient }},
	{http.MethodPost, "/clients/:id/archive", anyStaff, func(h *Handler) echo.HandlerFunc { return h.archiveClient }},
	{http.MethodPost, "/clients/:id/phones/confirm", anyStaff, func(h *Handler) echo.HandlerFunc { return h.confirmPhone }},
	{http.MethodPost, "/clients/:id/restore", anyStaff, func(h *Handler) echo.HandlerFunc { return h.restoreClient }},
	{http.MethodPost, "/clients/:id/portal", anyStaff, func(h *Handler) echo.HandlerFunc { return h.setPortalAccess }},
	{http.MethodPost, "/clients/:id/portal/remove", anyStaff, func(h *Handler) echo.HandlerFunc { return h.removePortalAccess }},
	{http.MethodPost, "/clients/:id/appointments", anyStaff, func(h *Handler) echo.HandlerFunc { return h.bookAppointment }},
	{http.MethodGet, "/clients/:id/presos/new", anyStaff, func(h *Handler) echo.HandlerFunc { return h.newClientPresoForm }},
	{http.MethodPost, "/clients/:id/presos", anyStaff, func(h *Handler) echo.HandlerFunc { return h.createClientPreso }},
	{http.MethodGet, "/clients/:id/shares/new", anyStaff, func(h *Handler) echo.HandlerFunc { return h.newShareForm }},
	{http.MethodPost, shareUploadRoute, anyStaff, func(h *Handler) echo.HandlerFunc { return h.createShare }},
	{http.MethodPost, "/clients/:id/shares/preview", anyStaff, func(h *Handler) echo.HandlerFunc { return h.previewShare }},
	{http.MethodGet, "/clients/:id/export", anyStaff, func(h *Handler) echo.HandlerFunc { return h.exportClient }},
	{http.MethodGet, "/clients/:id/journal", adminOnly, func(h *Handler) echo.HandlerFunc { return h.clientJournal }},
	{http.MethodGet, "/clients/:id/erase", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.eraseForm }},
	{http.MethodPost, "/clients/:id/erase", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.eraseClient }},
	{http.MethodGet, "/shares/:id/link", anyStaff, func(h *Handler) echo.HandlerFunc { return h.shareLink }},
	{http.MethodGet, "/shares/:id/expire", anyStaff, func(h *Handler) echo.HandlerFunc { return h.expireShareForm }},
	{http.MethodPost, "/shares/:id/expire", anyStaff, func(h *Handler) echo.HandlerFunc { return h.expireShare }},
	{http.MethodPost, "/shares/:id/extend", anyStaff, func(h *Handler) echo.HandlerFunc { return h.extendShare }},
	{http.MethodPost, "/shares/:id/unlock", anyStaff, func(h *Handler) echo.HandlerFunc { return h.unlockShare }},
	{http.MethodGet, "/shares/:id/again", anyStaff, func(h *Handler) echo.HandlerFunc { return h.sendAgainForm }},
	{http.MethodPost, "/shares/:id/again", anyStaff, func(h *Handler) echo.HandlerFunc { return h.sendAgain }},
	{http.MethodGet, "/appointments/:id/edit", anyStaff, func(h *Handler) echo.HandlerFunc { return h.editAppointmentForm }},
	{http.MethodPost, "/appointments/:id", anyStaff, func(h *Handler) echo.HandlerFunc { return h.updateAppointment }},
	{http.MethodPost, "/appointments/:id/status", anyStaff, func(h *Handler) echo.HandlerFunc { return h.setAppointmentStatus }},
	{http.MethodGet, "/appointments/:id/cancel", anyStaff, func(h *Handler) echo.HandlerFunc { return h.confirmAppointment("cancel") }},
	{http.MethodGet, "/appointments/:id/delete", anyStaff, func(h *Handler) echo.HandlerFunc { return h.confirmAppointment("delete") }},
	{http.MethodPost, "/appointments/:id/delete", anyStaff, func(h *Handler) echo.HandlerFunc { return h.deleteAppointment }},

	{http.MethodGet, "/appointments/:id/receipt.pdf", anyStaff, func(h *Handler) echo.HandlerFunc { return h.staffReceipt }},
	{http.MethodGet, routeStaffRoom, anyStaff, func(h *Handler) echo.HandlerFunc { return h.staffRoomPage }},
	{http.MethodGet, routeStaffRoomSocket, anyStaff, func(h *Handler) echo.HandlerFunc { return h.staffRoomSocket }},
	{http.MethodPost, routeStaffRoomAttended, anyStaff, func(h *Handler) echo.HandlerFunc { return h.markAttendedFromRoom }},

	{http.MethodGet, "/presos", anyStaff, func(h *Handler) echo.HandlerFunc { return h.presoList }},
	{http.MethodPost, "/presos", anyStaff, func(h *Handler) echo.HandlerFunc { return h.createPreso }},
	{http.MethodGet, routePreso, anyStaff, func(h *Handler) echo.HandlerFunc { return h.presoScreen }},
	{http.MethodGet, routePresoPreview, anyStaff, func(h *Handler) echo.HandlerFunc { return h.previewPreso }},
	{http.MethodPost, "/presos/:id/title", anyStaff, func(h *Handler) echo.HandlerFunc { return h.renamePreso }},
	{http.MethodPost, "/presos/:id/contacts", anyStaff, func(h *Handler) echo.HandlerFunc { return h.addPresoContact }},
	{http.MethodPost, "/presos/:id/contacts/:cid/remove", anyStaff, func(h *Handler) echo.HandlerFunc { return h.removePresoContact }},
	{http.MethodGet, "/presos/:id/delete", anyStaff, func(h *Handler) echo.HandlerFunc { return h.confirmDeletePreso }},
	{http.MethodPost, "/presos/:id/delete", anyStaff, func(h *Handler) echo.HandlerFunc { return h.deletePreso }},
	{http.MethodPost, "/presos/:id/handover", anyStaff, func(h *Handler) echo.HandlerFunc { return h.handOver }},
	{http.MethodPost, "/presos/:id/visibility", anyStaff, func(h *Handler) echo.HandlerFunc { return h.setVisibility }},
	{http.MethodPost, "/presos/:id/order", anyStaff, func(h *Handler) echo.HandlerFunc { return h.reorderSlides }},
	{http.MethodPost, "/presos/:id/slides", anyStaff, func(h *Handler) echo.HandlerFunc { return h.addSlide }},
	{http.MethodPost, "/presos/:id/slides/:sid", anyStaff, func(h *Handler) echo.HandlerFunc { return h.saveSlide }},
	{http.MethodPost, "/presos/:id/slides/:sid/move", anyStaff, func(h *Handler) echo.HandlerFunc { return h.moveSlide }},
	{http.MethodPost, "/presos/:id/slides/:sid/include", anyStaff, func(h *Handler) echo.HandlerFunc { return h.toggleSlide }},
	{http.MethodPost, "/presos/:id/slides/:sid/delete", anyStaff, func(h *Handler) echo.HandlerFunc { return h.deleteSlide }},
	{http.MethodPost, "/presos/:id/slides/:sid/image", anyStaff, func(h *Handler) echo.HandlerFunc { return h.uploadSlideImage }},
	{http.MethodGet, routeSlideImage, anyStaff, func(h *Handler) echo.HandlerFunc { return h.slideImage }},
	{http.MethodGet, routePresoShares, anyStaff, func(h *Handler) echo.HandlerFunc { return h.shareBox }},
	{http.MethodPost, "/presos/:id/share", anyStaff, func(h *Handler) echo.HandlerFunc { return h.createPresoShare }},
	{http.MethodPost, "/presos/:id/share/:share/refresh", anyStaff, func(h *Handler) echo.HandlerFunc { return h.refreshPresoShare }},
	{http.MethodGet, "/presos/:id/share/:share/expire", anyStaff, func(h *Handler) echo.HandlerFunc { return h.confirmExpirePresoShare }},
	{http.MethodPost, "/presos/:id/share/:share/expire", anyStaff, func(h *Handler) echo.HandlerFunc { return h.expirePresoShare }},
	{http.MethodGet, routePresoShareStats, anyStaff, func(h *Handler) echo.HandlerFunc { return h.shareStats }},
	{http.MethodGet, "/presos/:id/share/:share/events.csv", anyStaff, func(h *Handler) echo.HandlerFunc { return h.shareEventsCSV }},
	{http.MethodGet, "/presos/:id/signatures/:sig/certificate.pdf", anyStaff, func(h *Handler) echo.HandlerFunc { return h.signingCertificate }},
	{http.MethodGet, "/presos/:id/signatures/:sig/certificate.p7s", anyStaff, func(h *Handler) echo.HandlerFunc { return h.signingSeal }},

	{http.MethodGet, "/prospects", adminOnly, func(h *Handler) echo.HandlerFunc { return h.prospectList }},
	{http.MethodGet, "/prospects/action", adminOnly, func(h *Handler) echo.HandlerFunc { return h.prospectAction }},
	{http.MethodPost, "/prospects/:id/verify", adminOnly, func(h *Handler) echo.HandlerFunc { return h.verifyProspect }},
	{http.MethodGet, routeProspectCreate, adminOnly, func(h *Handler) echo.HandlerFunc { return h.prospectClientForm }},
	{http.MethodPost, "/prospects/:id/create", adminOnly, func(h *Handler) echo.HandlerFunc { return h.createClientFromProspect }},
	{http.MethodGet, routeProspectAssociate, adminOnly, func(h *Handler) echo.HandlerFunc { return h.associatePage }},
	{http.MethodPost, "/prospects/:id/associate", adminOnly, func(h *Handler) echo.HandlerFunc { return h.associateProspect }},
	{http.MethodGet, routeProspectDelete, adminOnly, func(h *Handler) echo.HandlerFunc { return h.deleteProspectPage }},
	{http.MethodPost, "/prospects/:id/delete", adminOnly, func(h *Handler) echo.HandlerFunc { return h.deleteProspect }},

	{http.MethodGet, "/staff", adminOnly, func(h *Handler) echo.HandlerFunc { return h.show("staff", h.staffPage) }},
	{http.MethodPost, "/staff/invite", adminOnly, func(h *Handler) echo.HandlerFunc { return h.inviteStaff }},
	{http.MethodPost, "/staff/:id/role", adminOnly, func(h *Handler) echo.HandlerFunc { return h.changeRole }},
	{http.MethodPost, "/staff/:id/deactivate", adminOnly, func(h *Handler) echo.HandlerFunc { return h.deactivateStaff }},
	{http.MethodPost, "/staff/:id/activate", adminOnly, func(h *Handler) echo.HandlerFunc { return h.activateStaff }},
	{http.MethodPost, "/staff/:id/reinvite", adminOnly, func(h *Handler) echo.HandlerFunc { return h.reinviteStaff }},
	{http.MethodPost, "/staff/:id/cancel", adminOnly, func(h *Handler) echo.HandlerFunc { return h.cancelInvitation }},
	{http.MethodPost, "/banner/dismiss", anyStaff, func(h *Handler) echo.HandlerFunc { return h.dismissBanner }},
	{http.MethodGet, "/outbox", adminOnly, func(h *Handler) echo.HandlerFunc { return h.outboxList }},
	{http.MethodGet, "/journal", adminOnly, func(h *Handler) echo.HandlerFunc { return h.showJournal }},
	{http.MethodGet, "/journal.csv", adminOnly, func(h *Handler) echo.HandlerFunc { return h.journalCSV }},
	{http.MethodGet, "/journal/verify", adminOnly, func(h *Handler) echo.HandlerFunc { return h.verifyJournal }},

	{http.MethodGet, "/settings", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.settings }},
	{http.MethodPost, "/settings", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.saveSettings }},
	{http.MethodPost, "/settings/logo", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.uploadLogo }},
	{http.MethodPost, "/outbox/:id/reveal", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.revealMessage }},
	{http.MethodGet, "/settings/shares", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.shareSettingsForm }},
	{http.MethodPost, "/settings/shares", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.saveShareSettings }},
	{http.MethodPost, "/settings/shares/preview", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.previewShareTemplate }},
	{http.MethodGet, "/backup", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.backup }},
	{http.MethodHead, "/backup", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.backupHead }},
	{http.MethodGet, "/settings/backups", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.show("backups", h.backupsPage) }},
	{http.MethodPost, "/settings/backups", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.saveBackupKeep }},
	{http.MethodPost, "/settings/backups/now", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.backupNow }},
	{http.MethodGet, "/settings/key", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.show("secret_key", h.secretKeyPage) }},
	{http.MethodPost, "/settings/key", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.showSecretKey }},
	{http.MethodGet, "/settings/privacy", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.privacySettings }},
	{http.MethodPost, "/settings/privacy", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.savePrivacySettings }},
	{http.MethodPost, "/settings/privacy/erase", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.eraseDue }},
	{http.MethodGet, "/settings/privacy/register", ownerOnly, func(h *Handler) echo.HandlerFunc { return h.processingRegister }},
}

// Echo builds the HTTP server: middleware, then the route table.
func (h *Handler) Echo() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if len(h.cfg.TrustedProxies) > 0 {
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range h.cfg.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	e.Use(
		middleware.RequestID(),
		h.logRequests,
		middleware.Recover(),
		h.securityHeaders,
		// Forms are small; uploads set their own limit (bodyLimits).
		h.bodyLimit,
		h.csrf,
		h.loadSession,
		h.setupGate,
	)
	for _, r := range routes {
		e.Add(r.method, r.path, h.guard(r.level, r.handle(h)))
	}
	h.headRoutes(e)
	return e
}
