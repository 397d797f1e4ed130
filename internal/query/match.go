package query

import (
	"strconv"
	"strings"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/dcm"
)

// likeEscape is the LIKE escape character. Not backslash: backslash
// separates DICOM values and must stay literal.
const likeEscape = "!"

func hasWildcard(v string) bool { return strings.ContainsAny(v, "*?") }

// likePattern turns a DICOM wildcard value into a LIKE pattern (escape '!').
func likePattern(v string) string {
	var b strings.Builder
	for _, r := range v {
		switch r {
		case '*':
			b.WriteByte('%')
		case '?':
			b.WriteByte('_')
		case '%', '_', '!':
			b.WriteByte('!')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// globPattern turns a DICOM wildcard value into a SQLite GLOB pattern,
// which, unlike SQLite's LIKE, is case-sensitive like PostgreSQL's LIKE.
func globPattern(v string) string {
	return strings.ReplaceAll(v, "[", "[[]")
}

func splitValues(v string) []string {
	parts := strings.Split(v, `\`)
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// orJoin joins conditions with OR, parenthesised when more than one.
func orJoin(conds []string) string {
	if len(conds) == 1 {
		return conds[0]
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}

// matchCond renders the condition for one match key.
func matchCond(d db.Dialect, c *column, value string, fuzzy bool) (string, []any, error) {
	value = strings.TrimSpace(value)
	if value == "" || value == "*" {
		return "", nil, nil
	}
	switch c.kind {
	case kDate:
		return dateCond(c, value)
	case kTime:
		return timeCond(c, value)
	case kUID:
		vals := splitValues(value)
		if len(vals) == 0 {
			return "", nil, nil
		}
		args := make([]any, len(vals))
		for i, v := range vals {
			args[i] = v
		}
		if len(vals) == 1 {
			return c.expr + " = ?", args, nil
		}
		return c.expr + " IN (" + placeholders(len(vals)) + ")", args, nil
	case kInt:
		var args []any
		for _, v := range splitValues(value) {
			n, err := strconv.Atoi(v)
			if err != nil {
				return "", nil, &KeyError{Tag: c.tag, Value: value, Reason: "not an integer: " + strconv.Quote(v)}
			}
			args = append(args, n)
		}
		if len(args) == 0 {
			return "", nil, nil
		}
		return c.expr + " IN (" + placeholders(len(args)) + ")", args, nil
	case kMulti:
		var conds []string
		var args []any
		for _, v := range splitValues(value) {
			conds = append(conds, "UPPER('\\' || "+c.expr+" || '\\') LIKE ? ESCAPE '"+likeEscape+"'")
			args = append(args, `%\`+likePattern(strings.ToUpper(v))+`\%`)
		}
		if len(conds) == 0 {
			return "", nil, nil
		}
		return orJoin(conds), args, nil
	case kPN:
		return pnCond(d, c, value, fuzzy)
	}
	// Case-sensitive text.
	vals := splitValues(value)
	var conds []string
	var args []any
	var exact []any
	for _, v := range vals {
		switch {
		case v == "*":
			return "", nil, nil
		case hasWildcard(v) && d == db.SQLite:
			conds = append(conds, c.expr+" GLOB ?")
			args = append(args, globPattern(v))
		case hasWildcard(v):
			conds = append(conds, c.expr+" LIKE ? ESCAPE '"+likeEscape+"'")
			args = append(args, likePattern(v))
		default:
			exact = append(exact, v)
		}
	}
	switch len(exact) {
	case 0:
	case 1:
		conds = append(conds, c.expr+" = ?")
	default:
		conds = append(conds, c.expr+" IN ("+placeholders(len(exact))+")")
	}
	args = append(args, exact...)
	if len(conds) == 0 {
		return "", nil, nil
	}
	return orJoin(conds), args, nil
}

// pnCond matches person names case-insensitively. Fuzzy matching also
// accepts a value that is a prefix of any name component (family, given,
// middle ...) of any name group.
func pnCond(d db.Dialect, c *column, value string, fuzzy bool) (string, []any, error) {
	col := "LOWER(" + c.expr + ")"
	// Byte-wise comparison, so the range below matches what LIKE matches
	// and can use the patient_name_lower index (0013_name_index.sql).
	ranged := col
	if d == db.Postgres {
		ranged = col + ` COLLATE "C"`
	}
	var conds []string
	var args []any
	for _, v := range splitValues(value) {
		v = strings.ToLower(v)
		if v == "*" {
			return "", nil, nil
		}
		if fuzzy {
			pat := likePattern(v)
			if !strings.HasSuffix(pat, "%") {
				pat += "%"
			}
			for _, pre := range []string{"", "%^", "% ", "%="} {
				conds = append(conds, col+" LIKE ? ESCAPE '"+likeEscape+"'")
				args = append(args, pre+pat)
			}
			continue
		}
		if hasWildcard(v) {
			if prefix, ok := plainPrefix(v); ok {
				// A leading range lets the index do the work; LIKE keeps the exact semantics.
				conds = append(conds, "("+ranged+" >= ? AND "+ranged+" < ? AND "+col+" LIKE ? ESCAPE '"+likeEscape+"')")
				args = append(args, prefix, nextPrefix(prefix), likePattern(v))
				continue
			}
			conds = append(conds, col+" LIKE ? ESCAPE '"+likeEscape+"'")
			args = append(args, likePattern(v))
			continue
		}
		conds = append(conds, col+" = ?")
		args = append(args, v)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return orJoin(conds), args, nil
}

func isRange(v string) bool { return strings.Contains(strings.TrimSpace(v), "-") }

func parseDate(t dcm.Tag, v string) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) == 10 && v[4] == '.' && v[7] == '.' { // ACR-NEMA YYYY.MM.DD
		v = v[:4] + v[5:7] + v[8:]
	}
	if len(v) != 8 {
		return "", &KeyError{Tag: t, Value: v, Reason: "date " + strconv.Quote(v) + " is not YYYYMMDD"}
	}
	if _, err := time.Parse("20060102", v); err != nil {
		return "", &KeyError{Tag: t, Value: v, Reason: "invalid date " + strconv.Quote(v)}
	}
	return v, nil
}

// splitRange splits "a-b", "-b", "a-" and "a".
func splitRange(v string) (lo, hi string, isRange bool) {
	lo, hi, isRange = strings.Cut(strings.TrimSpace(v), "-")
	if !isRange {
		return lo, lo, false
	}
	return strings.TrimSpace(lo), strings.TrimSpace(hi), true
}

// boundsOf validates a date or time matching key: a single value or a range
// ("a-b", "-b", "a-"), each bound checked and normalised by norm (upper
// tells it which bound it has).
func boundsOf(t dcm.Tag, v, what string, norm func(t dcm.Tag, v string, upper bool) (string, error)) (lo, hi string, isRange bool, err error) {
	if hasWildcard(v) || strings.Contains(v, `\`) {
		return "", "", false, &KeyError{Tag: t, Value: v, Reason: what + "s match by single value or range, not wildcards or lists"}
	}
	lo, hi, isRange = splitRange(v)
	if isRange && lo == "" && hi == "" {
		return "", "", false, &KeyError{Tag: t, Value: v, Reason: "empty " + what + " range"}
	}
	if lo != "" {
		if lo, err = norm(t, lo, false); err != nil {
			return
		}
	}
	if hi != "" {
		if hi, err = norm(t, hi, true); err != nil {
			return
		}
	}
	return lo, hi, isRange, nil
}

func dateRange(t dcm.Tag, v string) (lo, hi string, isRange bool, err error) {
	return boundsOf(t, v, "date", func(t dcm.Tag, v string, _ bool) (string, error) { return parseDate(t, v) })
}

func dateCond(c *column, v string) (string, []any, error) {
	lo, hi, isRange, err := dateRange(c.tag, v)
	if err != nil {
		return "", nil, err
	}
	if !isRange {
		return c.expr + " = ?", []any{lo}, nil
	}
	return rangeCond(c.expr, lo, hi)
}

func rangeCond(expr, lo, hi string) (string, []any, error) {
	switch {
	case lo != "" && hi != "":
		return expr + " >= ? AND " + expr + " <= ?", []any{lo, hi}, nil
	case lo != "":
		return expr + " >= ?", []any{lo}, nil
	}
	return expr + " <= ? AND " + expr + " <> ''", []any{hi}, nil
}

// normTime validates a TM value and pads it to HHMMSS.FFFFFF for text
// comparison; upper pads a range's upper bound with its largest value.
func normTime(t dcm.Tag, v string, upper bool) (string, error) {
	v = strings.ReplaceAll(strings.TrimSpace(v), ":", "")
	bad := &KeyError{Tag: t, Value: v, Reason: "invalid time " + strconv.Quote(v)}
	whole, frac, hasFrac := strings.Cut(v, ".")
	if len(whole) < 2 || len(whole) > 6 || len(whole)%2 == 1 || len(frac) > 6 || (hasFrac && len(whole) != 6) {
		return "", bad
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return "", bad
		}
	}
	limits := []int{23, 59, 60}
	for i := 0; i < len(whole); i += 2 {
		n, _ := strconv.Atoi(whole[i : i+2])
		if n > limits[i/2] {
			return "", bad
		}
	}
	pad := "000000"
	fpad := "000000"
	if upper {
		pad, fpad = "005959", "999999"
	}
	whole += pad[len(whole):]
	frac += fpad[len(frac):]
	return whole + "." + frac, nil
}

func timeRange(t dcm.Tag, v string) (lo, hi string, isRange bool, err error) {
	return boundsOf(t, v, "time", normTime)
}

func timeCond(c *column, v string) (string, []any, error) {
	lo, hi, isRange, err := timeRange(c.tag, v)
	if err != nil {
		return "", nil, err
	}
	if !isRange {
		// A single value matches the time as given, however precise the
		// stored value: 1015 matches 101500 and 101530.25.
		whole := strings.ReplaceAll(strings.TrimSpace(v), ":", "")
		return "(" + c.expr + " = ? OR " + c.expr + " LIKE ? ESCAPE '" + likeEscape + "')", []any{whole, likePattern(whole) + "%"}, nil
	}
	// Bounds are padded (1015 → 101500 / 101559.999999) and compared as
	// text, exact for stored HHMMSS[.F] values; shorter stored values
	// (HHMM) are rare and compare as if padded with nothing.
	return rangeCond(c.expr, trimTimeBound(lo, false), trimTimeBound(hi, true))
}

// trimTimeBound turns a padded bound into the form stored values compare
// against: lower bounds drop a zero fraction ("080000" <= "080000.5").
func trimTimeBound(b string, upper bool) string {
	if b == "" {
		return ""
	}
	if !upper && strings.HasSuffix(b, ".000000") {
		return strings.TrimSuffix(b, ".000000")
	}
	return b
}

// combinedDateTime matches StudyDate and StudyTime as one date-time range
// (PS3.4 C.2.2.2.5.1): 20250101-20250102 with 2200-0600 means from
// 2025-01-01 22:00 to 2025-01-02 06:00.
func combinedDateTime(dv, tv string) (string, []any, error) {
	dlo, dhi, _, err := dateRange(dcm.TagStudyDate, dv)
	if err != nil {
		return "", nil, err
	}
	tlo, thi, _, err := timeRange(dcm.TagStudyTime, tv)
	if err != nil {
		return "", nil, err
	}
	tlo, thi = trimTimeBound(tlo, false), trimTimeBound(thi, true)
	var conds []string
	var args []any
	// bound adds one end of the range: op is ">" for the lower, "<" for the
	// upper; without a time the whole day counts.
	bound := func(op, d, t string) {
		if t == "" {
			conds = append(conds, "s.study_date "+op+"= ?")
			args = append(args, d)
			return
		}
		conds = append(conds, "(s.study_date "+op+" ? OR (s.study_date = ? AND s.study_time "+op+"= ?))")
		args = append(args, d, d, t)
	}
	if dlo != "" {
		bound(">", dlo, tlo)
	}
	if dhi != "" {
		bound("<", dhi, thi)
		if dlo == "" {
			conds = append(conds, "s.study_date <> ''")
		}
	}
	return strings.Join(conds, " AND "), args, nil
}

// plainPrefix reports whether v is "prefix*" with no other wildcard and a
// non-empty prefix.
func plainPrefix(v string) (string, bool) {
	p, ok := strings.CutSuffix(v, "*")
	if !ok || p == "" || strings.ContainsAny(p, "*?") {
		return "", false
	}
	return p, true
}

// nextPrefix is the smallest string greater than every string starting with
// p (byte-wise): p with its last byte incremented, carrying over 0xFF.
func nextPrefix(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xFF {
			b[i]++
			return string(b[:i+1])
		}
	}
	return string(b) + "\xff"
}
