// Package auditlog implements audit.Store: the hash chain with group commit,
// its canonical encoding, the PostgreSQL and SQLite stores, signed
// checkpoints, export and the review report. Package audit holds only the
// record and the Store port, so that the executor and the assistant, which
// write and read records, do not link database drivers.
package auditlog
