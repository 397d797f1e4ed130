package dcm

import "encoding/json"

// JSONString is the first value of tag ("0020000D") in an object of the
// DICOM JSON model (PS3.18 F.2) as text: a string as is, a person name by
// its Alphabetic group, anything else (numbers, nested values) as JSON; ""
// when the attribute or its value is absent.
func JSONString(obj map[string]map[string]any, tag string) string {
	vals, _ := obj[tag]["Value"].([]any)
	if len(vals) == 0 {
		return ""
	}
	switch v := vals[0].(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["Alphabetic"].(string)
		return s
	}
	b, _ := json.Marshal(vals[0])
	return string(b)
}
