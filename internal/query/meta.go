package query

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"lightbox/internal/dcm"
)

// jsonElement is one attribute of a DICOM JSON object (PS3.18 F.2).
type jsonElement struct {
	VR           string            `json:"vr"`
	Value        []json.RawMessage `json:"Value"`
	InlineBinary string            `json:"InlineBinary"`
	BulkDataURI  string            `json:"BulkDataURI"`
}

// DecodeJSON parses a DICOM JSON object (as dcm.MarshalJSON writes it and
// the index stores it) into a data set. Attributes given by BulkDataURI
// are left out; text is UTF-8.
func DecodeJSON(b []byte) (*dcm.Dataset, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]jsonElement
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("decode DICOM JSON: %w", err)
	}
	return fromJSONObject(obj, 0)
}

func fromJSONObject(obj map[string]jsonElement, depth int) (*dcm.Dataset, error) {
	if depth > 32 {
		return nil, fmt.Errorf("decode DICOM JSON: sequences nested too deeply")
	}
	ds := &dcm.Dataset{}
	for k, je := range obj {
		v, err := strconv.ParseUint(k, 16, 32)
		if err != nil || len(k) != 8 {
			return nil, fmt.Errorf("decode DICOM JSON: bad attribute tag %q", k)
		}
		e, err := fromJSONElement(dcm.Tag(v), je, depth)
		if err != nil {
			return nil, fmt.Errorf("decode DICOM JSON %s: %w", k, err)
		}
		if e != nil {
			ds.Put(e)
		}
	}
	return ds, nil
}

func jsonNumber(raw json.RawMessage) (json.Number, bool) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", false
	}
	return n, true
}

func fromJSONElement(t dcm.Tag, je jsonElement, depth int) (*dcm.Element, error) {
	e := &dcm.Element{Tag: t, VR: je.VR}
	switch je.VR {
	case "SQ":
		e.Items = []*dcm.Dataset{}
		for _, raw := range je.Value {
			var obj map[string]jsonElement
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&obj); err != nil {
				return nil, err
			}
			it, err := fromJSONObject(obj, depth+1)
			if err != nil {
				return nil, err
			}
			e.Items = append(e.Items, it)
		}
		return e, nil
	case "OB", "OD", "OF", "OL", "OV", "OW", "UN":
		if je.BulkDataURI != "" {
			return nil, nil
		}
		if je.InlineBinary != "" {
			v, err := base64.StdEncoding.DecodeString(je.InlineBinary)
			if err != nil {
				return nil, err
			}
			e.Value = v
		}
		return e, nil
	case "PN":
		vals := make([]string, len(je.Value))
		for i, raw := range je.Value {
			var pn map[string]string
			if string(raw) == "null" {
				continue
			}
			if err := json.Unmarshal(raw, &pn); err != nil {
				return nil, err
			}
			s := pn["Alphabetic"] + "=" + pn["Ideographic"] + "=" + pn["Phonetic"]
			vals[i] = strings.TrimRight(s, "=")
		}
		return dcm.StrElement(t, "PN", vals...), nil
	case "US", "SS", "UL", "SL", "FL", "FD", "SV", "UV":
		var buf []byte
		for _, raw := range je.Value {
			n, ok := jsonNumber(raw)
			if !ok {
				return nil, fmt.Errorf("%s value %s is not a number", je.VR, raw)
			}
			f, err := n.Float64()
			if err != nil {
				return nil, err
			}
			switch je.VR {
			case "US", "SS":
				buf = binary.LittleEndian.AppendUint16(buf, uint16(int64(f)))
			case "UL", "SL":
				buf = binary.LittleEndian.AppendUint32(buf, uint32(int64(f)))
			case "FL":
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(f)))
			case "FD":
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(f))
			case "SV":
				i, err := strconv.ParseInt(n.String(), 10, 64)
				if err != nil {
					return nil, err
				}
				buf = binary.LittleEndian.AppendUint64(buf, uint64(i))
			case "UV":
				u, err := strconv.ParseUint(n.String(), 10, 64)
				if err != nil {
					return nil, err
				}
				buf = binary.LittleEndian.AppendUint64(buf, u)
			}
		}
		e.Value = buf
		return e, nil
	case "AT":
		var buf []byte
		for _, raw := range je.Value {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, err
			}
			v, err := strconv.ParseUint(s, 16, 32)
			if err != nil {
				return nil, err
			}
			tg := dcm.Tag(v)
			buf = binary.LittleEndian.AppendUint16(buf, tg.Group())
			buf = binary.LittleEndian.AppendUint16(buf, tg.Element())
		}
		e.Value = buf
		return e, nil
	}
	// String VRs, IS and DS.
	vals := make([]string, len(je.Value))
	for i, raw := range je.Value {
		if string(raw) == "null" {
			continue
		}
		if je.VR == "IS" || je.VR == "DS" {
			if n, ok := jsonNumber(raw); ok {
				vals[i] = n.String()
				continue
			}
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%s value %s is not a string", je.VR, raw)
		}
		vals[i] = s
	}
	if len(vals) == 0 {
		return e, nil
	}
	return dcm.StrElement(t, je.VR, vals...), nil
}
