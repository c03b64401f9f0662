package views

import "testing"

// BenchmarkStart is what a start spends on templates: parsing every file.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		if _, err := New(testFuncs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEveryPageShown is a start followed by every page shown once:
// each then holds its own copy of the layout.
func BenchmarkEveryPageShown(b *testing.B) {
	for b.Loop() {
		e, err := New(testFuncs)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range e.pages {
			if _, err := p.get(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
