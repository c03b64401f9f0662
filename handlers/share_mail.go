package handlers

import (
	"foyer/access"
	"foyer/mail"
	"foyer/store"
)

// Notices of document shares to staff (first download, "This wasn't me"):
// who hears of a share, and the message each gets (mail.ShareStaff). The
// messages to recipients are composed by package mail.

// staffMail emails a notice of a share (first download, "This wasn't me") to
// whoever shareNoticeTo names.
func (h *Handler) staffMail(sh store.Share, event, file string, line ...store.ShareEvent) {
	h.staffMailBy(sh, 0, event, file, line...)
}

// staffMailBy is staffMail for what recipient who did. A visitor who went on
// without giving their name (who < 0) is not named after the recipient: the
// notice says someone did, through the link sent to the recipient — exactly
// the case staff should look at twice.
func (h *Handler) staffMailBy(sh store.Share, who int, event, file string, line ...store.ShareEvent) {
	name := ""
	if who < 0 {
		event += "_anonymous"
		who = 0
	}
	if who < len(sh.Recipients) {
		name = sh.Recipients[who].Name
	}
	to, err := h.shareNoticeTo(sh)
	if err != nil {
		h.log.Error("unable to find who hears of a share", "err", err)
	}
	for _, st := range to {
		args := map[string]string{"Event": event, "Name": name, "File": file, "Staff": st.Name,
			"Path": shareAnchor(sh.ClientID, sh.ID)}
		if len(line) > 0 {
			args["LineAt"], args["LineType"], args["LineDetail"] = mail.TimeArg(line[0].At), line[0].Type, line[0].Detail
		}
		if err := h.queue(&store.Message{Channel: store.ChannelEmail, To: st.Email, Lang: st.Lang, Kind: mail.ShareStaff, Args: args,
			ClientID: sh.ClientOf(who)}); err != nil {
			h.log.Error("unable to queue a share notice", "err", err)
		}
	}
}

// shareNoticeTo is who hears of a share's first download or of "This wasn't
// me": the staff member who made it; once they are deactivated, whoever
// hears about the client (staffFor). Somebody always hears: the portal tells
// the client the practice was told.
func (h *Handler) shareNoticeTo(sh store.Share) ([]store.Staff, error) {
	all, err := h.store.ListStaff()
	if err != nil {
		return nil, err
	}
	if to := activeStaff(all, sh.StaffID); to != nil {
		return to, nil
	}
	var practitioner uint64
	if sh.ClientID != 0 {
		if cl, err := h.store.Client(sh.ClientID); err == nil {
			practitioner = cl.PractitionerID
		}
	}
	return staffFor(all, practitioner), nil
}

// activeStaff is the member id of all, if active, as a list of one; else nil.
func activeStaff(all []store.Staff, id uint64) []store.Staff {
	for _, st := range all {
		if st.ID == id && st.Active && !st.Invited {
			return []store.Staff{st}
		}
	}
	return nil
}

// staffFor is who hears about a client: their practitioner while active,
// else the practice's active owners and admins.
func staffFor(all []store.Staff, practitioner uint64) []store.Staff {
	if to := activeStaff(all, practitioner); to != nil {
		return to
	}
	var to []store.Staff
	for _, st := range all {
		if st.Active && !st.Invited && access.IsAdmin(st.Role) {
			to = append(to, st)
		}
	}
	return to
}
