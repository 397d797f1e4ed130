package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

//go:embed templates.json
var templatesJSON []byte

//go:embed macros.json
var macrosJSON []byte

// Option is one value of a pick list.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Field is a structured field of a template (a pick list).
type Field struct {
	ID       string   `json:"id"`
	Label    string   `json:"label"`
	Required bool     `json:"required,omitempty"`
	Options  []Option `json:"options,omitempty"`
}

// Label returns the label of a value ("" when the value is not listed).
func (f Field) OptionLabel(v string) string {
	for _, o := range f.Options {
		if o.Value == v {
			return o.Label
		}
	}
	return ""
}

// Template is a report template for a modality/procedure: the sections'
// normal-study defaults and the structured fields.
type Template struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Modalities  []string `json:"modalities,omitempty"`
	CPT         []string `json:"cpt,omitempty"`
	Mammography bool     `json:"mammography,omitempty"`
	Normal      Content  `json:"normal"`
	Fields      []Field  `json:"fields,omitempty"`
}

// Templates is an immutable set of templates.
type Templates struct{ list []Template }

// DefaultTemplates returns the embedded starter set: CXR, CT head, CT
// abdomen/pelvis, CTA chest PE, MRI brain, US abdomen and screening
// mammography with BI-RADS.
func DefaultTemplates() *Templates {
	t, err := LoadTemplates(templatesJSON)
	if err != nil {
		panic(err) // embedded data is tested
	}
	return t
}

// LoadTemplates reads a JSON array of templates.
func LoadTemplates(b []byte) (*Templates, error) {
	var list []Template
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("report: templates: %w", err)
	}
	seen := map[string]bool{}
	for _, t := range list {
		if t.ID == "" || seen[t.ID] {
			return nil, fmt.Errorf("report: templates: missing or duplicate id %q", t.ID)
		}
		seen[t.ID] = true
	}
	return &Templates{list: list}, nil
}

// List returns every template.
func (ts *Templates) List() []Template { return slices.Clone(ts.list) }

// Get returns a template by ID.
func (ts *Templates) Get(id string) (Template, bool) {
	for _, t := range ts.list {
		if t.ID == id {
			return t, true
		}
	}
	return Template{}, false
}

// Choose picks the template for a procedure: an exact CPT match first,
// then the first template for the modality.
func (ts *Templates) Choose(cpt, modality string) (Template, bool) {
	if cpt != "" {
		for _, t := range ts.list {
			if slices.Contains(t.CPT, strings.ToUpper(cpt)) {
				return t, true
			}
		}
	}
	if modality != "" {
		for _, t := range ts.list {
			if slices.ContainsFunc(t.Modalities, func(m string) bool { return strings.EqualFold(m, modality) }) {
				return t, true
			}
		}
	}
	return Template{}, false
}

// mammoFields are the fields every MQSA mammography report needs
// (docs/domain.md §3 M3): the final assessment category and the breast density category.
// They come from the mammography template when the set has one.
func mammoFields(ts *Templates) []Field {
	if t, ok := ts.Get("mammo-screen"); ok {
		return t.Fields
	}
	b := Field{ID: "birads", Label: "BI-RADS assessment category", Required: true}
	d := Field{ID: "density", Label: "Breast density", Required: true}
	for _, v := range []string{"0", "1", "2", "3", "4", "5", "6"} {
		b.Options = append(b.Options, Option{Value: v})
	}
	for _, v := range []string{"a", "b", "c", "d"} {
		d.Options = append(d.Options, Option{Value: v})
	}
	return []Field{b, d}
}

// checkFields validates structured fields against fields: required ones
// present, every value on its pick list.
func checkFields(c Content, fields []Field) error {
	for _, f := range fields {
		v := strings.TrimSpace(c.Fields[f.ID])
		if v == "" {
			if f.Required {
				return fmt.Errorf("%w: %s is required", ErrInvalid, f.Label)
			}
			continue
		}
		if len(f.Options) > 0 && !slices.ContainsFunc(f.Options, func(o Option) bool { return o.Value == v }) {
			return fmt.Errorf("%w: %s must be one of the listed values", ErrInvalid, f.Label)
		}
	}
	return nil
}

// Macro is a short name that expands to text.
type Macro struct {
	Name  string `json:"name"`
	Body  string `json:"body"`
	Owner string `json:"owner"` // "" = group
}

// DefaultMacros returns the embedded starter group macros, sorted by name.
func DefaultMacros() []Macro {
	var m map[string]string
	if err := json.Unmarshal(macrosJSON, &m); err != nil {
		panic(err) // embedded data is tested
	}
	out := make([]Macro, 0, len(m))
	for k, v := range m {
		out = append(out, Macro{Name: k, Body: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ExpandMacros replaces every ".name" token (a dot at the start of a word
// followed by a known macro name) with the macro's text. Unknown names
// are left as they are.
func ExpandMacros(text string, macros map[string]string) string {
	var b strings.Builder
	i := 0
	for i < len(text) {
		c := text[i]
		if c == '.' && (i == 0 || isSpace(text[i-1])) {
			j := i + 1
			for j < len(text) && isNameChar(text[j]) {
				j++
			}
			if body, ok := macros[strings.ToLower(text[i+1:j])]; ok && j > i+1 {
				b.WriteString(body)
				i = j
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func validMacroName(n string) bool {
	if n == "" || len(n) > 40 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !isNameChar(n[i]) {
			return false
		}
	}
	return true
}
