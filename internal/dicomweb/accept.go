package dicomweb

import (
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// mediaRange is one entry of an Accept header.
type mediaRange struct {
	typ    string // lower case "type/subtype"
	params map[string]string
	q      float64
}

// qvalue reads "q=0.5" out of a parameter list; 1 when absent or malformed.
func qvalue(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				return 1
			}
			return f
		}
	}
	return 1
}

// splitAccept splits a header on commas outside quotes.
func splitAccept(s string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// parseAccept returns the acceptable media ranges, best first (stable for
// equal q). A missing or empty header accepts anything. Entries that do
// not parse are skipped; q=0 entries are dropped.
func parseAccept(r *http.Request) []mediaRange {
	var out []mediaRange
	for _, h := range r.Header.Values("Accept") {
		for _, part := range splitAccept(h) {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			typ, params, err := mime.ParseMediaType(part)
			if err != nil {
				// Be lenient with unquoted parameters holding '/' (type=application/dicom).
				typ, params, err = mime.ParseMediaType(quoteParams(part))
				if err != nil {
					continue
				}
			}
			mr := mediaRange{typ: strings.ToLower(typ), params: params, q: 1}
			if qs, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(qs, 64); err == nil && f >= 0 && f <= 1 {
					mr.q = f
				}
				delete(params, "q")
			}
			if mr.q > 0 {
				out = append(out, mr)
			}
		}
	}
	if len(out) == 0 {
		return []mediaRange{{typ: "*/*", params: map[string]string{}, q: 1}}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].q > out[j].q })
	return out
}

// quoteParams quotes bare parameter values so mime.ParseMediaType takes
// values such as type=application/dicom that clients send unquoted.
func quoteParams(s string) string {
	parts := strings.Split(s, ";")
	for i := 1; i < len(parts); i++ {
		k, v, ok := strings.Cut(parts[i], "=")
		v = strings.TrimSpace(v)
		if ok && !strings.HasPrefix(v, `"`) {
			parts[i] = k + `="` + strings.ReplaceAll(v, `"`, "") + `"`
		}
	}
	return strings.Join(parts, ";")
}

// partType is the media type of multipart parts a range asks for: the
// type parameter of multipart/related, "" for a bare multipart/related.
func (m mediaRange) partType() string {
	return strings.ToLower(m.params["type"])
}

// typeMatches reports whether a concrete media type matches a pattern
// such as "image/*" or "*/*" (an empty pattern matches too).
func typeMatches(pattern, typ string) bool {
	switch {
	case pattern == "" || pattern == "*/*" || pattern == "*":
		return true
	case strings.HasSuffix(pattern, "/*"):
		return strings.HasPrefix(typ, strings.TrimSuffix(pattern, "*"))
	}
	return pattern == typ
}
