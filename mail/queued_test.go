package mail

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"foyer/store"
)

// kindConstants reads the names and values of the kind constants declared in kinds.go.
func kindConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "kinds.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						out[name.Name], _ = strconv.Unquote(lit.Value)
					}
				}
			}
		}
	}
	return out
}

// TestEveryQueuedKindIsInTheTable reads every Go file of Foyer (tests aside)
// for the store.Message values it builds: each names its kind with a constant
// of this package (or passes one along in a variable), never a string of its
// own, and every constant has its entry in the table. A message of a kind the
// table lacks could not be written, checked nor expired.
func TestEveryQueuedKindIsInTheTable(t *testing.T) {
	consts := kindConstants(t)
	if len(consts) < 10 {
		t.Fatalf("found %d kind constants in kinds.go: the scan is broken", len(consts))
	}
	for name, kind := range consts {
		if _, ok := kinds[kind]; !ok {
			t.Errorf("mail.%s (%q) has no entry in the table", name, kind)
		}
	}
	for kind := range kinds {
		found := false
		for _, v := range consts {
			found = found || v == kind
		}
		if !found {
			t.Errorf("the table's kind %q has no constant", kind)
		}
	}
	literals, named := 0, map[string]bool{}
	fset := token.NewFileSet()
	eachMessageLiteral(t, fset, func(lit *ast.CompositeLit) {
		literals++
		kv := field(lit, "Kind")
		if kv == nil {
			return
		}
		pos := fset.Position(kv.Value.Pos())
		switch v := kv.Value.(type) {
		case *ast.SelectorExpr:
			pkg, _ := v.X.(*ast.Ident)
			if pkg == nil || pkg.Name != "mail" {
				t.Errorf("%s: a message's kind is %s.%s, not a constant of package mail", pos, pkg, v.Sel.Name)
			} else if _, ok := consts[v.Sel.Name]; !ok {
				t.Errorf("%s: mail.%s is not a kind", pos, v.Sel.Name)
			} else {
				named[v.Sel.Name] = true
			}
		case *ast.Ident:
			// A kind passed along (portalMessage's kind): its callers name a constant.
		default:
			t.Errorf("%s: a message's kind is written out (%T): use a constant of package mail", pos, v)
		}
	})
	if literals < 10 {
		t.Fatalf("found %d store.Message literals: the scan is broken", literals)
	}
	// Every constant is used somewhere: a kind nobody queues is a kind to remove.
	used := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.HasPrefix(filepath.ToSlash(path), "../mail/") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "mail" {
					used[sel.Sel.Name] = true
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Package mail queues the messages of shares itself (ComposeShare and the others).
	for _, own := range []string{"ShareLink", "ShareCode", "ShareReminder"} {
		used[own] = true
	}
	for name := range consts {
		if !used[name] {
			t.Errorf("mail.%s is queued nowhere", name)
		}
	}
	if _, ok := kinds[store.KindLegacy]; ok {
		t.Error("legacy messages are never queued: they are written apart (renderLegacy)")
	}
}

// isMessageType reports whether a composite literal's type is store.Message
// (Message inside package store).
func isMessageType(e ast.Expr, inStore bool) bool {
	switch v := e.(type) {
	case *ast.SelectorExpr:
		pkg, ok := v.X.(*ast.Ident)
		return ok && pkg.Name == "store" && v.Sel.Name == "Message"
	case *ast.Ident:
		return inStore && v.Name == "Message"
	}
	return false
}

// eachMessageLiteral calls fn with every store.Message composite literal of
// Foyer's Go files, tests aside.
func eachMessageLiteral(t *testing.T, fset *token.FileSet, fn func(*ast.CompositeLit)) {
	t.Helper()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		inStore := f.Name.Name == "store"
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.CompositeLit); ok && isMessageType(lit.Type, inStore) {
				fn(lit)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// field is the element of a composite literal that sets name, nil when none does.
func field(lit *ast.CompositeLit, name string) *ast.KeyValueExpr {
	for _, el := range lit.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if key, _ := kv.Key.(*ast.Ident); key != nil && key.Name == name {
				return kv
			}
		}
	}
	return nil
}

// TestClientKindsNameTheirClient reads every store.Message Foyer builds (as
// TestEveryQueuedKindIsInTheTable does): one of a kind that goes to a client
// or speaks of one names the client record or the portal account it
// concerns, so that erasing the client finds it whatever address it went
// to. A kind passed along (portalMessage's) is held to it too.
func TestClientKindsNameTheirClient(t *testing.T) {
	consts := kindConstants(t)
	clients := 0
	for _, k := range kinds {
		if k.Client {
			clients++
		}
	}
	if clients < 10 {
		t.Fatalf("%d kinds concern a client: the table is not marked", clients)
	}
	fset := token.NewFileSet()
	checked := 0
	eachMessageLiteral(t, fset, func(lit *ast.CompositeLit) {
		kv := field(lit, "Kind")
		if kv == nil {
			return
		}
		if sel, ok := kv.Value.(*ast.SelectorExpr); ok && !kinds[consts[sel.Sel.Name]].Client {
			return
		}
		checked++
		if field(lit, "ClientID") == nil && field(lit, "AccountID") == nil {
			t.Errorf("%s: a message that concerns a client names neither its ClientID nor its AccountID", fset.Position(kv.Value.Pos()))
		}
	})
	if checked < 10 {
		t.Fatalf("checked %d messages: the scan is broken", checked)
	}
}
