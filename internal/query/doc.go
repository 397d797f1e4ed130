// Package query is the one matching engine behind DIMSE C-FIND and
// DICOMweb QIDO-RS: it turns a DICOM query (level, match keys, return keys,
// paging, and the caller's facility Scope) into SQL over the archive index
// and returns one dcm.Dataset per match (Find), or hands each to a
// function in a data set reused from row to row (FindEach).
//
// Matching follows PS3.4 C.2.2.2: single value, wildcard (* and ?), range
// (dates and times, including combined StudyDate+StudyTime ranges), list of
// UIDs (and of values, separated by backslash), universal match (empty
// value). Person names match case-insensitively; with Fuzzy they also match
// a prefix of any name component. Attributes the index has no column for
// can be returned (they are read from the stored DICOM JSON of the first
// instance of the study or series, or of the instance), but not matched:
// such match keys are reported in Result.Unsupported (C-FIND status 0xFF01,
// a QIDO-RS Warning header) and otherwise ignored.
//
// Every user value is bound as a SQL parameter; the SQL text is built only
// from constants. The same SQL runs on SQLite and PostgreSQL.
//
// The package also resolves study/series/instance UIDs within a Scope to
// the stored instances (Instances; Files without the frame offsets) and reads the precomputed metadata rows
// (Metas; EachMeta streams them; MetaVersionOf tells whether they
// changed), which C-MOVE/C-GET and WADO-RS build on.
package query
