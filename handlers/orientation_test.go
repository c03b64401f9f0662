package handlers

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// withOrientation puts an EXIF segment with orientation o (big-endian TIFF) into a JPEG.
func withOrientation(jp []byte, o byte) []byte {
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, o, 0, 0, 0, 0, 0, 0, 0, 0}
	exif := append([]byte("Exif\x00\x00"), tiff...)
	seg := append([]byte{0xFF, 0xE1, 0, byte(len(exif) + 2)}, exif...)
	return append(append(append([]byte{}, jp[:2]...), seg...), jp[2:]...)
}

// A phone photo saved sideways with EXIF orientation 6 comes out of the
// re-encoding turned upright, with no EXIF left.
func TestReencodeImageTurnsByOrientation(t *testing.T) {
	t.Parallel()
	src := image.NewRGBA(image.Rect(0, 0, 32, 16))
	for y := range 16 {
		for x := range 16 { // left half white, right half black
			src.Set(x, y, color.White)
		}
	}
	var jp bytes.Buffer
	if err := jpeg.Encode(&jp, src, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	for o, wantTopWhite := range map[byte]bool{1: true, 6: true, 8: false} {
		out, typ, err := reencodeImage(withOrientation(jp.Bytes(), o), 2560, true)
		if err != nil || typ != "image/jpeg" || bytes.Contains(out, []byte("Exif")) {
			t.Fatalf("orientation %d: %s %v", o, typ, err)
		}
		img, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		if o == 1 {
			if b.Dx() != 32 || b.Dy() != 16 {
				t.Fatalf("orientation 1: %v", b)
			}
			continue
		}
		if b.Dx() != 16 || b.Dy() != 32 {
			t.Fatalf("orientation %d not turned: %v", o, b)
		}
		r, _, _, _ := img.At(8, 4).RGBA()
		if (r > 0x8000) != wantTopWhite {
			t.Errorf("orientation %d: top is %x", o, r)
		}
	}
	if jpegOrientation([]byte{0xFF, 0xD8, 0xFF}) != 1 || jpegOrientation(withOrientation(jp.Bytes(), 9)) != 1 {
		t.Fatal("bad orientations are not 1")
	}
}

// FuzzJPEGOrientation: any bytes give an orientation from 1 to 8, never a panic.
func FuzzJPEGOrientation(f *testing.F) {
	var jp bytes.Buffer
	_ = jpeg.Encode(&jp, image.NewGray(image.Rect(0, 0, 2, 2)), nil)
	f.Add(withOrientation(jp.Bytes(), 6))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0, 20, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := jpegOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
