package query

import (
	"database/sql"
	"encoding/binary"
	"maps"
	"slices"
	"strconv"
	"strings"

	"lightbox/internal/db"
	"lightbox/internal/dcm"
)

// planned is a Query translated to SQL.
type planned struct {
	q           Query
	dialect     db.Dialect
	cols        []*column // selected and returned, in SELECT order and by tag (the level pk follows)
	empty       []dcm.Tag // returned as empty elements (C-FIND keys of lower levels)
	extra       []dcm.Tag // returned from the stored metadata
	needMeta    bool
	where       []string
	whereArgs   []any
	unsupported []dcm.Tag
}

// scopeCond returns " AND alias.facility_id IN (...)" and its arguments.
func scopeCond(s Scope, alias string) (string, []any) { return s.Clause(alias) }

func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

var levelPK = map[Level]string{Patient: "p.pk", Study: "s.pk", Series: "r.pk", Image: "i.pk"}

var levelFrom = map[Level]string{
	Patient: "patient p",
	Study:   "study s JOIN patient p ON p.pk = s.patient_pk",
	Series:  "series r JOIN study s ON s.pk = r.study_pk JOIN patient p ON p.pk = s.patient_pk",
	Image:   "instance i JOIN series r ON r.pk = i.series_pk JOIN study s ON s.pk = r.study_pk JOIN patient p ON p.pk = s.patient_pk",
}

const (
	seriesOrder   = "COALESCE(r.series_number, 2147483647), r.pk"
	instanceOrder = "COALESCE(i.instance_number, 2147483647), i.pk"
)

var levelOrder = map[Level]string{
	Patient: "p.pk",
	Study:   "s.study_date DESC, s.study_time DESC, s.pk DESC",
	Series:  "s.study_date DESC, s.study_time DESC, s.pk DESC, " + seriesOrder,
	Image:   "s.study_date DESC, s.study_time DESC, s.pk DESC, " + seriesOrder + ", " + instanceOrder,
}

func plan(d db.Dialect, q Query) (*planned, error) {
	p := &planned{q: q, dialect: d}
	lv := q.Level
	// What to return.
	want := map[dcm.Tag]bool{uniqueKey[lv]: true}
	if !q.ReturnOnly {
		for _, t := range defaults[lv] {
			want[t] = true
		}
	}
	for t := range q.Match {
		want[t] = true
	}
	for _, t := range q.Return {
		want[t] = true
	}
	tags := slices.Sorted(maps.Keys(want))
	for _, t := range tags {
		c := lookupColumn(t)
		switch {
		case c != nil && c.usable(lv):
			// Only what is returned is selected: the rows (and SQLite's
			// sorter) carry a third of the level's columns.
			p.cols = append(p.cols, c)
		case c != nil:
			// A key of a lower level (or the patient count elsewhere).
			if q.ReturnOnly {
				p.empty = append(p.empty, t)
			}
		case t == dcm.TagQueryRetrieveLevel || t == dcm.TagSpecificCharacterSet || t == TagRetrieveURL:
		default:
			p.extra = append(p.extra, t)
		}
	}
	p.needMeta = len(p.extra) > 0 || q.IncludeAll

	// Scope.
	if lv == Patient {
		// A patient is visible only through its studies in scope.
		if sc, args := q.Scope.PatientClause("p"); sc != "" {
			p.where = append(p.where, strings.TrimPrefix(sc, " AND "))
			p.whereArgs = append(p.whereArgs, args...)
		}
	} else if sc, args := scopeCond(q.Scope, "s"); sc != "" {
		p.where = append(p.where, strings.TrimPrefix(sc, " AND "))
		p.whereArgs = append(p.whereArgs, args...)
	}

	// Matching.
	mtags := make([]dcm.Tag, 0, len(q.Match))
	for t, v := range q.Match {
		if v != "" {
			mtags = append(mtags, t)
		}
	}
	slices.Sort(mtags)
	combined := lv != Patient && isRange(q.Match[dcm.TagStudyDate]) && isRange(q.Match[dcm.TagStudyTime])
	if combined {
		cond, args, err := combinedDateTime(q.Match[dcm.TagStudyDate], q.Match[dcm.TagStudyTime])
		if err != nil {
			return nil, err
		}
		p.where = append(p.where, cond)
		p.whereArgs = append(p.whereArgs, args...)
	}
	for _, t := range mtags {
		if combined && (t == dcm.TagStudyDate || t == dcm.TagStudyTime) {
			continue
		}
		c := lookupColumn(t)
		if c == nil || !c.usable(lv) || c.kind == kCount {
			p.unsupported = append(p.unsupported, t)
			continue
		}
		cond, args, err := matchCond(d, c, q.Match[t], q.Fuzzy)
		if err != nil {
			return nil, err
		}
		if cond != "" {
			p.where = append(p.where, cond)
			p.whereArgs = append(p.whereArgs, args...)
		}
	}
	return p, nil
}

// sql renders the statement and its arguments in order.
func (p *planned) sql() (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString("SELECT ")
	for i, c := range p.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.expr)
		if c.expr == patientStudiesExpr {
			sc, sargs := scopeCond(p.q.Scope, "s2")
			b.WriteString(sc)
			b.WriteString(")")
			args = append(args, sargs...)
		}
	}
	b.WriteString(", ")
	b.WriteString(levelPK[p.q.Level])
	b.WriteString(" FROM ")
	b.WriteString(levelFrom[p.q.Level])
	if len(p.where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(p.where, " AND "))
		args = append(args, p.whereArgs...)
	}
	b.WriteString(" ORDER BY ")
	b.WriteString(levelOrder[p.q.Level])
	switch {
	case p.q.Limit > 0:
		b.WriteString(" LIMIT ? OFFSET ?")
		args = append(args, p.q.Limit+1, p.q.Offset)
	case p.q.Offset > 0 && p.dialect == db.SQLite:
		b.WriteString(" LIMIT -1 OFFSET ?")
		args = append(args, p.q.Offset)
	case p.q.Offset > 0:
		b.WriteString(" OFFSET ?")
		args = append(args, p.q.Offset)
	}
	return b.String(), args
}

// metaSQL selects the stored metadata representing one result row (given
// its level pk): the first instance of the patient's newest study in
// scope, of the study, of the series, or the instance itself.
func (p *planned) metaSQL() (string, []any) {
	const order = " ORDER BY COALESCE(r2.series_number, 2147483647), r2.pk, COALESCE(i2.instance_number, 2147483647), i2.pk LIMIT 1"
	switch p.q.Level {
	case Patient:
		sc, args := scopeCond(p.q.Scope, "s2")
		return "SELECT i2.meta FROM study s2 JOIN series r2 ON r2.study_pk = s2.pk JOIN instance i2 ON i2.series_pk = r2.pk WHERE s2.patient_pk = ?" +
			sc + " ORDER BY s2.study_date DESC, s2.pk DESC, COALESCE(r2.series_number, 2147483647), r2.pk, COALESCE(i2.instance_number, 2147483647), i2.pk LIMIT 1", args
	case Study:
		return "SELECT i2.meta FROM series r2 JOIN instance i2 ON i2.series_pk = r2.pk WHERE r2.study_pk = ?" + order, nil
	case Series:
		return "SELECT i2.meta FROM instance i2 WHERE i2.series_pk = ? ORDER BY COALESCE(i2.instance_number, 2147483647), i2.pk LIMIT 1", nil
	}
	return "SELECT meta FROM instance WHERE pk = ?", nil
}

// dataset builds one result from its row (vals in the order of p.cols)
// and, when needed, its stored metadata.
func (p *planned) dataset(vals []sql.RawBytes, meta []byte) (*dcm.Dataset, error) {
	ds := &dcm.Dataset{Elements: make([]*dcm.Element, 0, len(p.cols)+len(p.empty)+len(p.extra)+2)}
	for i, c := range p.cols {
		ds.Put(&dcm.Element{Tag: c.tag, VR: c.vr, Value: appendColumnValue(nil, c, vals[i])})
	}
	for _, t := range p.empty {
		ds.Put(&dcm.Element{Tag: t, VR: dcm.VROf(t)})
	}
	if !p.needMeta {
		return ds, nil
	}
	var md *dcm.Dataset
	if len(meta) > 0 {
		var err error
		md, err = DecodeJSON(meta)
		if err != nil {
			return nil, err
		}
	}
	nonASCII := false
	copyElem := func(e *dcm.Element) {
		ds.Put(e)
		if !nonASCII && hasNonASCII(e) {
			nonASCII = true
		}
	}
	for _, t := range p.extra {
		if e := md.Get(t); e != nil {
			copyElem(e)
		} else if p.q.ReturnOnly {
			ds.Put(&dcm.Element{Tag: t, VR: dcm.VROf(t)})
		}
	}
	if p.q.IncludeAll && md != nil {
		for _, e := range md.Elements {
			if ds.Has(e.Tag) || !allAtLevel(e.Tag, p.q.Level) || e.Tag == dcm.TagSpecificCharacterSet {
				continue
			}
			copyElem(e)
		}
	}
	if nonASCII {
		ds.SetStr(dcm.TagSpecificCharacterSet, "ISO_IR 192")
	}
	return ds, nil
}

func hasNonASCII(e *dcm.Element) bool {
	for _, c := range e.Value {
		if c >= 0x80 {
			switch e.VR {
			case "OB", "OW", "OF", "OD", "OL", "OV", "UN", "US", "SS", "UL", "SL", "FL", "FD", "SV", "UV", "AT":
				return false
			}
			return true
		}
	}
	for _, it := range e.Items {
		for _, s := range it.Elements {
			if hasNonASCII(s) {
				return true
			}
		}
	}
	return false
}

// appendColumnValue appends the element value of a column's cell (NULL
// or empty: no value) to dst.
func appendColumnValue(dst []byte, c *column, v []byte) []byte {
	if len(v) == 0 {
		return dst
	}
	if c.vr == "US" {
		n, err := strconv.Atoi(string(v))
		if err != nil || n <= 0 || n > 0xFFFF {
			return dst
		}
		return binary.LittleEndian.AppendUint16(dst, uint16(n))
	}
	// Padded to even length as dcm.StrElement does.
	dst = append(dst, v...)
	if len(v)%2 == 1 {
		if c.vr == "UI" {
			return append(dst, 0)
		}
		return append(dst, ' ')
	}
	return dst
}

// reused is the data set FindEach refills for each row.
type reused struct {
	ds    dcm.Dataset
	elems []dcm.Element
}

// fill is dataset for a row that needs no stored metadata, into r's data
// set and elements, reusing their memory.
func (p *planned) fill(r *reused, vals []sql.RawBytes) *dcm.Dataset {
	if n := len(p.cols) + len(p.empty); len(r.elems) != n {
		r.elems = make([]dcm.Element, n)
		r.ds.Elements = make([]*dcm.Element, 0, n+2)
	}
	r.ds.Elements = r.ds.Elements[:0]
	// p.cols are sorted by tag: appending keeps the data set in order.
	for i, c := range p.cols {
		e := &r.elems[i]
		e.Tag, e.VR, e.Value = c.tag, c.vr, appendColumnValue(e.Value[:0], c, vals[i])
		r.ds.Elements = append(r.ds.Elements, e)
	}
	for j, t := range p.empty {
		e := &r.elems[len(p.cols)+j]
		e.Tag, e.VR, e.Value = t, dcm.VROf(t), nil
		r.ds.Put(e)
	}
	return &r.ds
}
