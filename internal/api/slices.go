package api

// values copies the items ps points to, for the domain functions that take
// readers and facilities by value.
func values[T any](ps []*T) []T {
	out := make([]T, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}
