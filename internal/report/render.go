package report

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"lightbox/internal/pdf"
)

// block is one titled part of a rendered report.
type block struct {
	Title string
	Body  string
}

// document is a report as rendered at one version: the same model feeds
// the ORU text and the PDF.
type document struct {
	Facility   string
	Letterhead []string
	Status     string // banner: PRELIMINARY, FINAL, CORRECTED, FINAL WITH ADDENDUM …
	Header     [][2]string
	Blocks     []block
	Signature  []string
	Addenda    []block
	Footer     string
	SignedAt   time.Time
}

func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

func dicomName(n string) string {
	parts := strings.Split(n, "^")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) == 1 {
		return parts[0]
	}
	given := strings.TrimSpace(strings.Join(parts[1:], " "))
	if given == "" {
		return parts[0]
	}
	return parts[0] + ", " + given
}

func fmtDate(d string) string {
	if len(d) == 8 {
		return d[:4] + "-" + d[4:6] + "-" + d[6:]
	}
	return d
}

func signatureLine(v Version, loc *time.Location) string {
	if v.Signer == nil {
		return ""
	}
	where := v.Signer.Location.String()
	return fmt.Sprintf("Electronically signed by %s (%s) on %s from %s.", v.Signer.Display, v.Signer.ReaderID, fmtTime(v.SignedAt, loc), where)
}

// documentAt renders the report as of version seq upTo (0 = all).
func (s *Service) documentAt(st *study, rep Report, vs []Version, upTo int, fs FacilitySettings) (document, bool) {
	if upTo > 0 {
		n := 0
		for n < len(vs) && vs[n].Seq <= upTo {
			n++
		}
		vs = vs[:n]
	}
	sm := summarize(vs)
	if sm.base == nil {
		return document{}, false
	}
	loc := st.loc()
	code, text, _ := st.procedure()
	exam := strings.TrimSpace(text)
	if code != "" {
		exam = strings.TrimSpace(exam + " (" + code + ")")
	}
	d := document{Facility: st.FacilityName, Letterhead: fs.Letterhead, SignedAt: sm.last.SignedAt}
	switch {
	case sm.status == StatusPreliminary:
		d.Status = "PRELIMINARY REPORT"
	case sm.status == StatusAmended:
		d.Status = "CORRECTED REPORT"
	case sm.status == StatusAppended || (sm.final != nil && len(sm.addenda) > 0):
		d.Status = "FINAL REPORT WITH ADDENDUM"
	default:
		d.Status = "FINAL REPORT"
	}
	ordering := ""
	if st.Order != nil {
		ordering = st.Order.Ordering.Name
		if strings.Contains(ordering, "^") {
			ordering = dicomName(ordering)
		}
	}
	d.Header = [][2]string{
		{"Patient", dicomName(st.PatientName)},
		{"Patient ID", st.PatientID},
		{"Birth date / sex", strings.Trim(fmtDate(st.BirthDate)+" / "+st.Sex, " /")},
		{"Accession", st.Accession},
		{"Exam", exam},
		{"Exam date", strings.TrimSpace(fmtDate(st.StudyDate))},
		{"Ordering", ordering},
	}
	c := sm.base.Content
	add := func(title, body string) {
		if strings.TrimSpace(body) != "" {
			d.Blocks = append(d.Blocks, block{title, strings.TrimSpace(body)})
		}
	}
	add("CLINICAL HISTORY", c.ClinicalHistory)
	add("TECHNIQUE", c.Technique)
	add("COMPARISON", c.Comparison)
	add("FINDINGS", c.Findings)
	add("IMPRESSION", c.Impression)
	if len(c.Fields) > 0 {
		var lines []string
		seen := map[string]bool{}
		fields := s.fieldsFor(c)
		for _, f := range fields {
			if v := strings.TrimSpace(c.Fields[f.ID]); v != "" {
				seen[f.ID] = true
				if l := f.OptionLabel(v); l != "" {
					v += " - " + l
				}
				lines = append(lines, f.Label+": "+v)
			}
		}
		for k, v := range sortedFields(c.Fields) {
			if !seen[k] && strings.TrimSpace(v) != "" {
				lines = append(lines, k+": "+v)
			}
		}
		add("STRUCTURED DATA", strings.Join(lines, "\n"))
	}
	if sm.base.Kind == KindCorrection {
		add("REASON FOR CORRECTION", sm.base.Reason)
	}
	if sm.prelim != nil && sm.base.Kind != KindPrelim {
		d.Signature = append(d.Signature, "Preliminary report "+strings.TrimSuffix(strings.TrimPrefix(signatureLine(*sm.prelim, loc), "Electronically "), "."))
	}
	switch sm.base.Kind {
	case KindPrelim:
		d.Signature = append(d.Signature, "PRELIMINARY - not the final interpretation.")
	case KindCorrection:
		if sm.final != nil {
			d.Signature = append(d.Signature, "Original final "+strings.TrimSuffix(strings.TrimPrefix(signatureLine(*sm.final, loc), "Electronically "), "."))
		}
		d.Signature = append(d.Signature, "Corrected report:")
	}
	d.Signature = append(d.Signature, signatureLine(*sm.base, loc))
	for i, a := range sm.addenda {
		title := fmt.Sprintf("ADDENDUM %d", i+1)
		d.Addenda = append(d.Addenda, block{title, a.Text + "\n" + signatureLine(a, loc)})
	}
	d.Footer = fmt.Sprintf("%s - accession %s - version %d", st.FacilityName, st.Accession, sm.last.Seq)
	return d, true
}

// fieldsFor returns the structured fields to print for content: its
// template's, else the mammography fields when present.
func (s *Service) fieldsFor(c Content) []Field {
	if t, ok := s.opt.Templates.Get(c.TemplateID); ok && len(t.Fields) > 0 {
		return t.Fields
	}
	if _, ok := c.Fields["birads"]; ok {
		return mammoFields(s.opt.Templates)
	}
	return nil
}

// sortedFields iterates a map in key order (deterministic output).
func sortedFields(m map[string]string) func(yield func(string, string) bool) {
	return func(yield func(string, string) bool) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

// lines renders the document as plain text lines (the ORU OBX lines).
func (d document) lines() []string {
	var out []string
	out = append(out, d.Status, "")
	for _, h := range d.Header {
		if h[0] == "Exam" && h[1] != "" {
			out = append(out, "EXAM: "+h[1])
		}
	}
	for _, b := range d.Blocks {
		out = append(out, "", b.Title+":")
		out = append(out, strings.Split(b.Body, "\n")...)
	}
	out = append(out, "")
	out = append(out, d.Signature...)
	for _, a := range d.Addenda {
		out = append(out, "", a.Title+":")
		out = append(out, strings.Split(a.Body, "\n")...)
	}
	return out
}

// pdf renders the document.
func (d document) pdf(title string) []byte {
	p := pdf.New(title)
	p.Created = d.SignedAt
	p.Author = "Lightbox"
	p.Footer = d.Footer
	p.Centered(pdf.Bold, 14, d.Facility)
	for _, l := range d.Letterhead {
		p.Centered(pdf.Regular, 9, l)
	}
	p.Rule()
	p.Space(4)
	p.Centered(pdf.Bold, 12, d.Status)
	p.Space(6)
	for _, h := range d.Header {
		if h[1] != "" {
			p.Pair(9.5, 100, h[0]+":", h[1])
		}
	}
	p.Rule()
	for _, b := range d.Blocks {
		p.Space(6)
		p.Ensure(30)
		p.Paragraph(pdf.Bold, 10.5, b.Title+":")
		p.Indented(pdf.Regular, 10, 10, b.Body)
	}
	p.Space(10)
	p.Ensure(40)
	for _, l := range d.Signature {
		p.Paragraph(pdf.Regular, 9.5, l)
	}
	for _, a := range d.Addenda {
		p.Space(8)
		p.Ensure(40)
		p.Paragraph(pdf.Bold, 10.5, a.Title+":")
		p.Indented(pdf.Regular, 10, 10, a.Body)
	}
	return p.Bytes()
}

// PDF renders a study's report at its latest signed version (or at
// version seq when seq > 0). ErrNotSigned when nothing is signed.
func (s *Service) PDF(ctx context.Context, studyUID string, seq int) ([]byte, error) {
	st, err := s.loadStudy(ctx, studyUID)
	if err != nil {
		return nil, err
	}
	rep, err := s.Get(ctx, studyUID)
	if err != nil {
		return nil, err
	}
	vs, err := loadVersions(ctx, s.db, rep.ID)
	if err != nil {
		return nil, err
	}
	fs, err := s.FacilitySettings(ctx, st.FacilityID)
	if err != nil {
		return nil, err
	}
	d, ok := s.documentAt(st, rep, vs, seq, fs)
	if !ok {
		return nil, ErrNotSigned
	}
	return d.pdf("Radiology report " + st.Accession), nil
}
