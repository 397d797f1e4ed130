// Package keyimage owns the key_image table: the images a reader marks as
// key images of a study, with their measurements (length annotations in
// image coordinates), who marked them and when. The viewer shows them to
// every reader who opens the study; the report cites them.
package keyimage
