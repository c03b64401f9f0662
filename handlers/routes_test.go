package handlers

import (
	"net/http"
	"strings"
	"testing"

	"foyer/store"
)

func TestURLForFillsANamedRoute(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		route  string
		params []any
		want   string
	}{
		{routeClient, []any{uint64(42)}, "/clients/42"},
		{routeProspectAssociate, []any{7}, "/prospects/7/associate"},
		{"/s/:token/files/:n", []any{"a b/c", 3}, "/s/a%20b%2Fc/files/3"},
		{"/clients", nil, "/clients"},
	} {
		if got := urlFor(tc.route, tc.params...); got != tc.want {
			t.Errorf("urlFor(%q, %v) = %q, want %q", tc.route, tc.params, got, tc.want)
		}
	}
	for _, bad := range [][]any{nil, {1, 2}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("urlFor(%q, %v) did not panic", routeClient, bad)
				}
			}()
			urlFor(routeClient, bad...)
		}()
	}
}

// Every named route is one the table serves by the method its links and
// forms use: a link built from it leads somewhere.
func TestNamedRoutesAreServed(t *testing.T) {
	t.Parallel()
	served := map[string]bool{}
	for _, r := range routes {
		served[r.method+" "+r.path] = true
	}
	get := []string{routeClient, routeProspectCreate, routeProspectAssociate, routeProspectDelete, routeStaffRoom, routeClientRoom,
		routePreso, routePresoPreview, routeSlideImage, routePresoShares, routePresoShareStats,
		routeLink, routeLinkCode, routeLinkFiles, routeLinkSlide, routeLinkImage}
	post := []string{routeLinkBeacon, routeLinkSign}
	for method, names := range map[string][]string{http.MethodGet: get, http.MethodPost: post} {
		for _, name := range names {
			if !served[method+" "+name] {
				t.Errorf("named route %s is not served by %s", name, method)
			}
		}
	}
}

// Archive and restore are two handlers, and the prospects' action bar opens
// each dialog without rewriting the request: the list's search stays out
// of the "Link to a client" dialog.
func TestSeparateHandlersForArchiveRestoreAndProspectActions(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	path := owner.newClient("first_name", "Rose", "last_name", "Zeller")
	id := strings.TrimPrefix(path, "/clients/")
	for _, step := range []struct {
		action   string
		archived bool
	}{{"archive", true}, {"restore", false}, {"restore", false}, {"archive", true}} {
		if r := owner.post(path+"/"+step.action, nil); r.Code != http.StatusSeeOther {
			t.Fatalf("%s: %d", step.action, r.Code)
		}
		cl, _ := a.st.Client(parseID(id))
		if cl.Archived != step.archived {
			t.Fatalf("after %s the client is archived: %v", step.action, cl.Archived)
		}
	}
	acct := &store.Account{Email: "zed@example.org", Verified: true, Lang: "en", SignUp: store.SignUp{FirstName: "Zed", LastName: "Zeller"}}
	if err := a.st.CreateAccount(acct); err != nil {
		t.Fatal(err)
	}
	pid := itoa(acct.ID)
	r := owner.get("/prospects/action?id="+pid+"&do=associate&q=zzz", "HX-Request", "true", "HX-Target", "dialog")
	if r.Code != http.StatusOK {
		t.Fatalf("associate dialog: %d", r.Code)
	}
	mustContain(t, r, `name="q" value=""`, "Zeller")
	mustNotContain(t, r, `value="zzz"`)
	for _, do := range []string{"create", "associate", "delete"} {
		if r := owner.get("/prospects/action?id=" + pid + "&do=" + do); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/prospects/"+pid+"/"+do {
			t.Errorf("%s without HTMX: %d to %q", do, r.Code, r.Header().Get("Location"))
		}
	}
	if r := owner.get("/prospects/action?id=" + pid + "&do=nothing"); r.Code != http.StatusBadRequest {
		t.Errorf("an unknown action: %d, want 400", r.Code)
	}
}
