package certificate

import (
	"strings"

	"foyer/locales"
	"foyer/store"
)

// Identity says who a signature's viewing was for and how it was checked,
// apart from the typed name: "Claire Martin, verified by a code sent to the
// mobile ending in 678", or plainly that nobody was verified. The
// certificate, the Share box and /verify say it in these same words.
func Identity(l *locales.Localizer, sig store.Signature) string {
	if sig.Verified() {
		how := l.T("preso.verified_" + sig.Verification)
		if to := sig.VerifiedTo; to != "" {
			if sig.Verification == string(store.ChannelSMS) {
				how = l.T("sign.verified_to_mobile", "Digits", lastMasked(to))
			} else {
				how = l.T("sign.verified_to_email", "Address", to)
			}
		}
		if sig.ContactName == "" {
			return l.T("sign.identity_unrecorded", "How", how)
		}
		return l.T("sign.identity_verified", "Name", sig.ContactName, "How", how)
	}
	switch {
	case sig.ContactName != "":
		return l.T("sign.identity_picked", "Name", sig.ContactName)
	case sig.DeclaredName != "":
		return l.T("sign.identity_declared", "Name", sig.DeclaredName)
	case sig.Anonymous:
		return l.T("sign.identity_anonymous")
	}
	return l.T("preso.verified_none")
}

// lastMasked is what a masked number shows of it ("678" of "••• ••• 678").
func lastMasked(masked string) string {
	if i := strings.LastIndexByte(masked, ' '); i >= 0 {
		return masked[i+1:]
	}
	return masked
}
