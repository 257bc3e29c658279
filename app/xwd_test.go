package app_test

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"math/bits"
)

// decodeXWD decodes an X window dump (xwd -root) of a TrueColor screen with
// 24 or 32 bits per pixel, as Xvfb makes them, into an RGBA image.
func decodeXWD(data []byte) (*image.RGBA, error) {
	const fields = 25
	if len(data) < fields*4 {
		return nil, fmt.Errorf("xwd: %d bytes, too short for a header", len(data))
	}
	h := make([]uint32, fields)
	for i := range h {
		h[i] = binary.BigEndian.Uint32(data[i*4:])
	}
	headerSize, version, format := h[0], h[1], h[2]
	width, height := int(h[4]), int(h[5])
	byteOrder, bpp, bytesPerLine := h[7], int(h[11]), int(h[12])
	masks := [3]uint32{h[14], h[15], h[16]}
	ncolors := int(h[19])
	if version != 7 || format != 2 {
		return nil, fmt.Errorf("xwd: version %d format %d, want 7 and ZPixmap (2)", version, format)
	}
	if bpp != 24 && bpp != 32 {
		return nil, fmt.Errorf("xwd: %d bits per pixel, want 24 or 32", bpp)
	}
	start := int(headerSize) + ncolors*12
	if width <= 0 || height <= 0 || len(data) < start+height*bytesPerLine {
		return nil, fmt.Errorf("xwd: %dx%d image does not fit in %d bytes", width, height, len(data))
	}
	var order binary.ByteOrder = binary.BigEndian
	if byteOrder == 0 {
		order = binary.LittleEndian
	}
	channel := func(px, mask uint32) uint8 {
		if mask == 0 {
			return 0
		}
		v := (px & mask) >> bits.TrailingZeros32(mask)
		width := bits.Len32(mask >> bits.TrailingZeros32(mask))
		if width >= 8 {
			return uint8(v >> (width - 8))
		}
		return uint8(v << (8 - width))
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	bytesPer := bpp / 8
	for y := 0; y < height; y++ {
		row := data[start+y*bytesPerLine:]
		for x := 0; x < width; x++ {
			var px uint32
			b := row[x*bytesPer : x*bytesPer+bytesPer]
			if bytesPer == 4 {
				px = order.Uint32(b)
			} else if byteOrder == 0 {
				px = uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
			} else {
				px = uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
			}
			img.SetRGBA(x, y, color.RGBA{channel(px, masks[0]), channel(px, masks[1]), channel(px, masks[2]), 255})
		}
	}
	return img, nil
}

// paint describes how much of an area is drawn.
type paint struct {
	Colours int     // distinct colours
	Share   float64 // share of pixels unlike the most common colour
}

// measurePaint counts the distinct colours of r in img and the share of its
// pixels that differ from its most common colour (the background).
func measurePaint(img *image.RGBA, r image.Rectangle) paint {
	r = r.Intersect(img.Bounds())
	counts := map[color.RGBA]int{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			counts[img.RGBAAt(x, y)]++
		}
	}
	most, total := 0, r.Dx()*r.Dy()
	for _, n := range counts {
		most = max(most, n)
	}
	if total == 0 {
		return paint{}
	}
	return paint{Colours: len(counts), Share: float64(total-most) / float64(total)}
}
