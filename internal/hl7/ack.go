package hl7

import (
	"bytes"
	"cmp"
	"strconv"
	"strings"
	"time"
)

// AckCode is MSA-1 (table 0008).
type AckCode string

// Acknowledgement codes. AA/AE/AR are "original mode" application acks,
// CA/CE/CR "enhanced mode" commit acks.
const (
	AckAA AckCode = "AA" // application accept
	AckAE AckCode = "AE" // application error
	AckAR AckCode = "AR" // application reject
	AckCA AckCode = "CA" // commit accept
	AckCE AckCode = "CE" // commit error
	AckCR AckCode = "CR" // commit reject
)

// OK reports whether c is a positive acknowledgement (AA or CA).
func (c AckCode) OK() bool { return c == AckAA || c == AckCA }

// MSA is the message acknowledgement segment.
type MSA struct {
	AckCode                AckCode // MSA-1
	ControlID              string  // MSA-2: control ID of the acknowledged message
	Text                   string  // MSA-3 (deprecated in 2.5 but widely read)
	ExpectedSequenceNumber string  // MSA-4
	DelayedAckType         string  // MSA-5 (2.3–2.4)
	ErrorCondition         CE      // MSA-6 (2.3–2.4)
}

// SegmentID implements Decoder/Encoder.
func (MSA) SegmentID() string { return "MSA" }

// Decode implements Decoder.
func (a *MSA) Decode(s *Segment) error {
	x := &dec{s: s}
	a.AckCode = AckCode(x.str(1))
	a.ControlID = x.str(2)
	a.Text = x.str(3)
	a.ExpectedSequenceNumber = x.str(4)
	a.DelayedAckType = x.str(5)
	a.ErrorCondition = ceFrom(x.rep(6))
	return x.result()
}

// Encode implements Encoder.
func (a MSA) Encode(s *Segment) {
	e := enc{s}
	e.str(1, string(a.AckCode))
	e.str(2, a.ControlID)
	e.str(3, a.Text)
	e.str(4, a.ExpectedSequenceNumber)
	e.str(5, a.DelayedAckType)
	e.one(6, a.ErrorCondition.rep(s.d))
}

// ELD is the 2.3/2.4 "error location and description" (ERR-1).
type ELD struct {
	SegmentID     string
	Sequence      int
	FieldPosition int
	Code          CE // as subcomponents: code&text&HL70357
}

// ERL is the 2.5 error location (ERR-2).
type ERL struct {
	SegmentID    string
	Sequence     int
	Field        int
	FieldRep     int
	Component    int
	Subcomponent int
}

// ERR is the error segment, in both its 2.3/2.4 (ERR-1) and 2.5+ forms.
type ERR struct {
	Legacy               []ELD    // ERR-1 (2.3, 2.4; backward compatibility in 2.5)
	Location             ERL      // ERR-2
	Code                 CE       // ERR-3: table 0357 code^text^HL70357
	Severity             Severity // ERR-4
	ApplicationErrorCode CE       // ERR-5
	DiagnosticInfo       string   // ERR-7
	UserMessage          string   // ERR-8
}

// SegmentID implements Decoder/Encoder.
func (ERR) SegmentID() string { return "ERR" }

func itoa(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// Decode implements Decoder.
func (r *ERR) Decode(s *Segment) error {
	x := &dec{s: s}
	r.Legacy = list(x, 1, func(v rv) ELD {
		return ELD{v.c(1), atoi(v.c(2)), atoi(v.c(3)), CE{v.sub(4, 1), v.sub(4, 2), v.sub(4, 3), v.sub(4, 4), v.sub(4, 5), v.sub(4, 6)}}
	})
	l := x.rep(2)
	r.Location = ERL{l.c(1), atoi(l.c(2)), atoi(l.c(3)), atoi(l.c(4)), atoi(l.c(5)), atoi(l.c(6))}
	r.Code = ceFrom(x.rep(3))
	r.Severity = Severity(x.str(4))
	r.ApplicationErrorCode = ceFrom(x.rep(5))
	r.DiagnosticInfo = x.str(7)
	r.UserMessage = x.str(8)
	return x.result()
}

// Encode implements Encoder.
func (r ERR) Encode(s *Segment) {
	e := enc{s}
	d := s.d
	many(e, 1, r.Legacy, func(l ELD, d Delimiters) Repetition {
		b := (&rb{d: d}).c(1, l.SegmentID).c(2, itoa(l.Sequence)).c(3, itoa(l.FieldPosition))
		return b.sub(4, 1, l.Code.Identifier).sub(4, 2, l.Code.Text).sub(4, 3, l.Code.CodingSystem).rep()
	})
	l := r.Location
	e.one(2, (&rb{d: d}).c(1, l.SegmentID).c(2, itoa(l.Sequence)).c(3, itoa(l.Field)).c(4, itoa(l.FieldRep)).
		c(5, itoa(l.Component)).c(6, itoa(l.Subcomponent)).rep())
	e.one(3, r.Code.rep(d))
	e.str(4, string(r.Severity))
	e.one(5, r.ApplicationErrorCode.rep(d))
	e.str(7, r.DiagnosticInfo)
	e.str(8, r.UserMessage)
}

// Errors converts the segment back into *Error values (one per ERR-1
// repetition, or one from ERR-2..8).
func (r ERR) Errors() []*Error {
	var out []*Error
	if r.Code.Identifier != "" || r.Location.SegmentID != "" || r.UserMessage != "" {
		l := r.Location
		out = append(out, &Error{Segment: l.SegmentID, SegmentSeq: l.Sequence, Field: l.Field, Repetition: l.FieldRep,
			Component: l.Component, Subcomponent: l.Subcomponent, Code: ErrorCode(atoi(r.Code.Identifier)),
			Severity: r.Severity, Message: cmp.Or(r.UserMessage, r.DiagnosticInfo, r.Code.Text)})
		return out
	}
	for _, l := range r.Legacy {
		out = append(out, &Error{Segment: l.SegmentID, SegmentSeq: l.Sequence, Field: l.FieldPosition,
			Code: ErrorCode(atoi(l.Code.Identifier)), Message: l.Code.Text})
	}
	return out
}

func errorCE(e *Error) CE {
	return CE{Identifier: e.Code.String(), Text: e.Code.Text(), CodingSystem: "HL70357"}
}

// ERRFromErrors builds the ERR segments for errs in the form version calls
// for: below 2.5 a single ERR whose ERR-1 repeats (segment^sequence^field^
// code&text&HL70357); from 2.5 on one ERR per error with ERR-2 location,
// ERR-3 code, ERR-4 severity and ERR-8 user message.
func ERRFromErrors(version string, errs ...*Error) []ERR {
	var out []ERR
	if !versionAtLeast(version, 2, 5) {
		var r ERR
		for _, e := range errs {
			if e == nil {
				continue
			}
			l := ELD{SegmentID: e.Segment, FieldPosition: e.Field, Code: errorCE(e)}
			if e.Segment != "" {
				l.Sequence = max(e.SegmentSeq, 1)
			}
			if e.Message != "" {
				l.Code.Text = e.Message
			}
			r.Legacy = append(r.Legacy, l)
		}
		if len(r.Legacy) > 0 {
			out = append(out, r)
		}
		return out
	}
	for _, e := range errs {
		if e == nil {
			continue
		}
		r := ERR{Code: errorCE(e), Severity: e.severity(), UserMessage: e.Message}
		if e.Segment != "" {
			r.Location = ERL{SegmentID: e.Segment, Sequence: max(e.SegmentSeq, 1), Field: e.Field,
				FieldRep: e.Repetition, Component: e.Component, Subcomponent: e.Subcomponent}
			if e.Field > 0 && e.Repetition == 0 {
				r.Location.FieldRep = 1
			}
		}
		out = append(out, r)
	}
	return out
}

// versionAtLeast compares a "2.5.1"-style version with major.minor.
func versionAtLeast(v string, major, minor int) bool {
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return false
	}
	ma, mi := atoi(parts[0]), atoi(parts[1])
	return ma > major || ma == major && mi >= minor
}

// AckOptions tune acknowledgement building. The zero value is fine.
type AckOptions struct {
	ControlID string    // MSH-10 of the ack; default: random
	Now       time.Time // MSH-7; default: time.Now()
	Text      string    // MSA-3; default: the first error's message for versions below 2.5
	// SendingApplication/SendingFacility override MSH-3/MSH-4 of the ack
	// (default: the incoming message's MSH-5/MSH-6).
	SendingApplication *HD
	SendingFacility    *HD
}

// NewACK builds the acknowledgement of in with MSA-1 = code: MSH with sending
// and receiving application/facility swapped, same delimiters, processing ID,
// version and character set, message type ACK^<trigger>^ACK (no structure
// component for 2.3 and older), MSA-2 = in's control ID, and ERR segments for
// errs (see [ERRFromErrors]). in may be nil, or a partial message returned
// with a Parse error: missing values are left empty (version defaults to
// 2.5.1).
func NewACK(in *Message, code AckCode, opts AckOptions, errs ...*Error) *Message {
	return newResponse(in, "ACK", "", "ACK", code, opts, errs)
}

// NewNAK builds a negative acknowledgement for err: MSA-1 is AR or AE as
// chosen by [Error.AckCode] (non-*Error errors become 207 internal error,
// AR) and err is reported in ERR.
func NewNAK(in *Message, err error, opts AckOptions) *Message {
	he := AsError(err)
	if he == nil {
		he = &Error{Code: CodeInternalError, Message: "unspecified error"}
	}
	return NewACK(in, he.AckCode(), opts, he)
}

// MinimalNAK is an AR acknowledgement for input that has no usable MSH at
// all; MSA-2 is empty.
func MinimalNAK(err error) *Message { return NewNAK(nil, err, AckOptions{}) }

// newResponse builds MSH+MSA+ERR. trigger "" means "the incoming trigger".
func newResponse(in *Message, code, trigger, structure string, ack AckCode, opts AckOptions, errs []*Error) *Message {
	d := DefaultDelimiters()
	if in != nil && in.Delims.Repetition != 0 && in.Delims.Escape != 0 && in.Delims.Subcomponent != 0 && in.Delims.Validate() == nil {
		d = in.Delims
	}
	version := "2.5.1"
	if in != nil && in.Version() != "" {
		version = in.Version()
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	h := MSH{DateTime: NewTime(now, PrecisionSecond), ControlID: opts.ControlID, Version: version}
	if h.ControlID == "" {
		h.ControlID = NewControlID()
	}
	m := &Message{Delims: d}
	s := m.AddSegment("MSH")
	h.Encode(s)
	if in != nil {
		if ih := in.Segment("MSH"); ih != nil {
			copyField(s, 3, ih, 5)
			copyField(s, 4, ih, 6)
			copyField(s, 5, ih, 3)
			copyField(s, 6, ih, 4)
			copyField(s, 11, ih, 11)
			if in.Version() != "" {
				copyField(s, 12, ih, 12)
			}
			copyField(s, 18, ih, 18)
			if trigger == "" {
				trigger = in.Get("MSH-9-2")
			}
		}
	}
	if opts.SendingApplication != nil {
		s.SetField(3, Field{opts.SendingApplication.rep(d)})
	}
	if opts.SendingFacility != nil {
		s.SetField(4, Field{opts.SendingFacility.rep(d)})
	}
	if len(s.Field(11)) == 0 {
		_ = s.Set("11", "P")
	}
	mt := MSG{Code: code, Trigger: trigger}
	if versionAtLeast(version, 2, 4) || version == "2.3.1" {
		mt.Structure = structure
	}
	s.SetField(9, Field{(&rb{d: d}).c(1, mt.Code).c(2, mt.Trigger).c(3, mt.Structure).rep()})

	msa := MSA{AckCode: ack, Text: opts.Text}
	if in != nil {
		msa.ControlID = in.ControlID()
	}
	var first *Error
	for _, e := range errs {
		if e != nil {
			first = e
			break
		}
	}
	legacy := !versionAtLeast(version, 2, 5)
	if first != nil && legacy {
		if msa.Text == "" {
			msa.Text = first.Message
			if msa.Text == "" {
				msa.Text = first.Code.Text()
			}
		}
		msa.ErrorCondition = errorCE(first)
	}
	m.Add(msa)
	for _, r := range ERRFromErrors(version, errs...) {
		m.Add(r)
	}
	return m
}

func copyField(dst *Segment, df int, src *Segment, sf int) {
	f := src.Field(sf)
	if len(f) == 0 {
		return
	}
	if src.d != dst.d {
		// Re-escape leaf by leaf.
		out := make(Field, len(f))
		for i, r := range f {
			out[i] = make(Repetition, len(r))
			for j, c := range r {
				out[i][j] = make(Component, len(c))
				for k, v := range c {
					out[i][j][k] = dst.d.EscapeValue(src.d.UnescapeValue(v))
				}
			}
		}
		dst.SetField(df, out)
		return
	}
	dst.SetField(df, splitField(fieldText(f, src.d), dst.d))
}

func fieldText(f Field, d Delimiters) string {
	var b bytes.Buffer
	writeField(&b, f, d)
	return b.String()
}

// OrderResponse is one order group of an ORR^O02 / ORI^O24 response.
type OrderResponse struct {
	ORC ORC  // usually OrderControl OK (accepted) or UA (unable to accept)
	TQ1 *TQ1 // ORI only
	OBR *OBR
	IPC []IPC // ORI only
}

// NewORR builds an ORR^O02 (general order response, 2.3.1+) to in: MSH and
// MSA/ERR as [NewACK], then the PID copied from in, then for each order its
// ORC and optional OBR.
func NewORR(in *Message, code AckCode, orders []OrderResponse, opts AckOptions, errs ...*Error) *Message {
	m := newResponse(in, "ORR", "O02", "ORR_O02", code, opts, errs)
	addOrderGroups(m, in, orders, false)
	return m
}

// NewORI builds an ORI^O24 (imaging order response, 2.5+) to in: MSH,
// MSA/ERR, PID copied from in, then ORC [TQ1] OBR {IPC} per order.
func NewORI(in *Message, code AckCode, orders []OrderResponse, opts AckOptions, errs ...*Error) *Message {
	m := newResponse(in, "ORI", "O24", "ORI_O24", code, opts, errs)
	addOrderGroups(m, in, orders, true)
	return m
}

func addOrderGroups(m, in *Message, orders []OrderResponse, imaging bool) {
	if len(orders) == 0 {
		return
	}
	if in != nil {
		if pid := in.Segment("PID"); pid != nil {
			cp := &Segment{Name: "PID", d: pid.d}
			for i, f := range pid.Fields {
				cp.SetField(i+1, splitField(fieldText(f, pid.d), pid.d))
			}
			m.Append(cp)
		}
	}
	for _, o := range orders {
		m.Add(o.ORC)
		if imaging && o.TQ1 != nil {
			m.Add(*o.TQ1)
		}
		if o.OBR != nil {
			m.Add(*o.OBR)
		}
		if imaging {
			for _, ipc := range o.IPC {
				m.Add(ipc)
			}
		}
	}
}

// AckResult summarises a received acknowledgement.
type AckResult struct {
	Code      AckCode
	ControlID string // MSA-2, the control ID being acknowledged
	Text      string // MSA-3
	Errors    []*Error
}

// ReadAck extracts MSA and ERR from an acknowledgement message.
func ReadAck(m *Message) (AckResult, error) {
	var r AckResult
	var msa MSA
	if err := m.DecodeFirst(&msa); err != nil {
		return r, err
	}
	r.Code, r.ControlID, r.Text = msa.AckCode, msa.ControlID, msa.Text
	for _, s := range m.All("ERR") {
		var e ERR
		if err := e.Decode(s); err == nil {
			r.Errors = append(r.Errors, e.Errors()...)
		}
	}
	if r.Code == "" {
		return r, Errorf(CodeRequiredFieldMissing, "MSA-1", "acknowledgement code missing")
	}
	return r, nil
}
