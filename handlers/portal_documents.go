package handlers

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"foyer/share"
	"foyer/store"
)

// A signed-in client downloads the documents shared with them from My
// Account → Documents, each file or all as a zip, without the link and its
// code: the portal's sign-in is who they are. Only their own shares (myShare),
// only while the link is live; each download goes in the share's history,
// marked as from the portal, like a download through the link.

// myLiveShare is the share of the route if it went to the signed-in client
// and still holds its documents, with the client's place among its
// recipients; 404 for anyone else's, 410 once it ended.
func (h *Handler) myLiveShare(c echo.Context) (store.Share, int, error) {
	sh, err := h.myShare(c)
	if err != nil {
		return sh, 0, err
	}
	if st := h.shares.State(sh); (st != store.ShareActive && st != store.ShareLocked) || sh.Kind != store.ShareFiles {
		return sh, 0, errShareEnded
	}
	who := 0
	for i, r := range sh.Recipients {
		if r.ClientID == sh.ClientID {
			who = i
		}
	}
	return sh, who, nil
}

// errShareEnded answers a download of documents whose share has ended.
var errShareEnded = httpError(http.StatusGone, "error.share_ended")

// myShareFile is one file of a share, downloaded from the portal.
func (h *Handler) myShareFile(c echo.Context) error {
	sh, who, err := h.myLiveShare(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return errNotFound
	}
	return h.serveShareFile(c, sh, n, func(b store.Blob) {
		if h.limits.allow(fmt.Sprintf("portal-download:%d:%d:%d", currentAccount(c).ID, sh.ID, b.ID), limitDownloadEvent) {
			h.recordDownload(c, sh, store.ShareEvent{Type: share.EventDownloadedPortal, Recipient: who, Item: b.ID, Detail: b.Name})
		}
	})
}

// myShareZip is every file of a share as one zip, downloaded from the portal.
func (h *Handler) myShareZip(c echo.Context) error {
	sh, who, err := h.myLiveShare(c)
	if err != nil {
		return err
	}
	return h.serveShareZip(c, sh, func(name string) {
		if h.limits.allow(fmt.Sprintf("portal-download:%d:%d:zip", currentAccount(c).ID, sh.ID), limitDownloadEvent) {
			h.recordDownload(c, sh, store.ShareEvent{Type: share.EventDownloadedPortal, Recipient: who, Detail: name})
		}
	})
}
