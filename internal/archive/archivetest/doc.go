// Package archivetest opens archives for tests of the packages above the
// archive (dispatch, query, the JSON API).
package archivetest
