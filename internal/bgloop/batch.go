package bgloop

// Batch returns first and whatever else is already waiting on ch, up to max
// in all, without blocking: a group-committing loop takes what queued while
// its last commit ran, so one flush serves them all.
func Batch[T any](ch <-chan T, first T, max int) []T {
	batch := []T{first}
	for len(batch) < max {
		select {
		case v, ok := <-ch:
			if !ok {
				return batch
			}
			batch = append(batch, v)
		default:
			return batch
		}
	}
	return batch
}
