package hl7

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range allSamples {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		"", "MSH", "MSH|", "MSH|^~\\&", "MSH|^~\\&#|A||||||ADT^A08|1|P|2.7\rPID|1||X\\P\\Y\r",
		"MSH!@#$%!SND!FAC!RCV!RFAC!20240101!!ORM@O01!C1!P!2.3.1\rPID!1!!ID1@@@AUTH%1.2%ISO#ID2\r",
		"MSH|^|A|B|C|D|2024||ADT^A08|1|P|2.5\rPID|1|a~b&c\\F\\\r",
		"MSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|2.5\r\nPID|\"\"|\\X0D0A\\|\\.br\\|\\H\\x\\N\\\n",
		"\x0b\x1c\x0d", "\xef\xbb\xbfMSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|2.5",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("error is not *Error: %v", err)
			}
			_ = he.Error()
			if m == nil {
				_ = MinimalNAK(err).Bytes()
				return
			}
		}
		// Whatever was parsed must survive encode -> parse unchanged.
		out := m.Bytes()
		m2, err2 := Parse(out)
		if err == nil && err2 != nil {
			t.Fatalf("re-parse failed: %v\n%q", err2, out)
		}
		if m2 != nil && !bytes.Equal(m2.Bytes(), out) {
			t.Fatalf("not idempotent:\n%q\n%q", out, m2.Bytes())
		}
		// Accessors, typed decoders and acks must not panic.
		for _, p := range []string{"MSH-9-2", "PID-3(2)-4-2", "OBX(2)-5", "ZZZ-1"} {
			_ = m.Get(p)
			_ = m.GetRaw(p)
		}
		for _, s := range m.Segments {
			for _, d := range []Decoder{&MSH{}, &PID{}, &PV1{}, &ORC{}, &OBR{}, &OBX{}, &TQ1{}, &IPC{}, &NTE{}, &MSA{}, &ERR{}, &IN1{}, &EVN{}} {
				_ = d.Decode(s)
			}
		}
		ack := NewNAK(m, Errorf(CodeDataType, "PID-7", "x"), AckOptions{})
		if _, err := Parse(ack.Bytes()); err != nil {
			t.Fatalf("ack does not parse: %v\n%q", err, ack.Bytes())
		}
	})
}

func FuzzFrameReader(f *testing.F) {
	f.Add([]byte("\x0bA\x1c\x0d"), uint16(64))
	f.Add([]byte("junk\x0bA\x1c\x0d\r\n\x0bB\x1c"), uint16(4))
	f.Add([]byte("\x0bpartial\x0bA\x1c\x0d\x0b"), uint16(1))
	f.Add(AppendFrame(nil, []byte(sampleORU)), uint16(2000))
	f.Fuzz(func(t *testing.T, stream []byte, max uint16) {
		limit := int(max) + 1
		fr := NewFrameReader(bytes.NewReader(stream), limit)
		var frames [][]byte
		for i := 0; ; i++ {
			fr2, err := fr.ReadFrame()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrFrameTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			if len(fr2) > limit || bytes.IndexByte(fr2, StartBlock) >= 0 || bytes.IndexByte(fr2, EndBlock) >= 0 {
				t.Fatalf("bad frame %q", fr2)
			}
			frames = append(frames, append([]byte(nil), fr2...))
			if i > len(stream) {
				t.Fatal("more frames than bytes")
			}
		}
		// Re-framing what was read yields the same frames.
		var re []byte
		for _, fr := range frames {
			re = AppendFrame(re, fr)
		}
		rr := NewFrameReader(iotestOneByte(bytes.NewReader(re)), limit)
		for i, want := range frames {
			got, err := rr.ReadFrame()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("frame %d: %q %v want %q", i, got, err, want)
			}
		}
	})
}

func FuzzEscape(f *testing.F) {
	f.Add("plain", byte('|'), byte('^'), byte('\\'))
	f.Add("a|b^c~d\\e&f\r\ng\rh\x00", byte('|'), byte('^'), byte('\\'))
	f.Add("\n", byte('|'), byte('^'), byte('.'))
	f.Fuzz(func(t *testing.T, s string, fs, cs, es byte) {
		d := DefaultDelimiters()
		d.Field, d.Component, d.Escape = fs, cs, es
		if d.Validate() != nil || d.Escape == 0 { // without an escape character escaping is lossy by design
			d = DefaultDelimiters()
		}
		enc := d.EscapeValue(s)
		for _, c := range []byte{d.Field, d.Component, d.Repetition, d.Subcomponent, '\r', '\n', StartBlock, EndBlock} {
			if strings.IndexByte(enc, c) >= 0 {
				t.Fatalf("escaped %q still contains %q: %q", s, c, enc)
			}
		}
		want := strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
		if got := d.UnescapeValue(enc); got != want {
			t.Fatalf("round trip %q -> %q -> %q", s, enc, got)
		}
	})
}
