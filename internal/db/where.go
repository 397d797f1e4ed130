package db

import "strings"

// Where gathers the conditions of a query built from optional filters, so
// each owner writes a filter as one line per field instead of repeating the
// "if set, append the condition and its argument" steps.
type Where struct {
	conds []string
	args  []any
}

// Add appends a condition and its arguments.
func (w *Where) Add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// Eq adds "col = ?" when v is set: an empty filter field matches everything.
func (w *Where) Eq(col, v string) {
	if v != "" {
		w.Add(col+" = ?", v)
	}
}

// In adds "col IN (...)". An empty (non-nil) list matches nothing, as an
// empty facility scope must; callers skip In for "no limit".
func (w *Where) In(col string, vals []string) {
	if len(vals) == 0 {
		w.Add("1 = 0")
		return
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	w.Add(col+" IN ("+Marks(len(vals))+")", args...)
}

// String is the conditions joined by AND, prefixed with " WHERE ", or empty.
func (w *Where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// Args are the arguments of the conditions, in order.
func (w *Where) Args() []any { return w.args }

// Marks is n comma-separated placeholders for an IN list.
func Marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }
