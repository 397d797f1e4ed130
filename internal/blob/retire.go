package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/minio/minio-go/v7"
)

// Retirer is a Store whose deletions can be taken back for a while.
// Content-addressed keys need that: while one node deletes an unreferenced
// blob, another may store the same bytes again, find the key published
// (Commit keeps an existing key) and index a row naming it. Whoever deletes
// therefore retires the object (moves it aside), checks the index again,
// and purges the retired copy only after a grace period longer than any
// store's publish-to-index interval; a reference found meanwhile restores
// it. A reader that opened the object before it was retired keeps reading.
type Retirer interface {
	// Retire moves the published object aside (ErrNotFound if there is
	// none).
	Retire(ctx context.Context, key string) error
	// Restore puts a retired object back under its key (ErrNotFound if
	// there is no retired copy). If the key was published again meanwhile,
	// the bytes are the same (content-addressed) and either copy may stay.
	Restore(ctx context.Context, key string) error
	// Purge deletes a retired copy for good (absent is not an error).
	Purge(ctx context.Context, key string) error
}

// retirerOf is the Retirer below a wrapper that keeps keys unchanged
// (instrumentation, encryption), or one that refuses with
// errors.ErrUnsupported (the caller then deletes outright).
func retirerOf(s Store) Retirer {
	if r, ok := s.(Retirer); ok {
		return r
	}
	return noRetire{}
}

type noRetire struct{}

func (noRetire) Retire(context.Context, string) error  { return errors.ErrUnsupported }
func (noRetire) Restore(context.Context, string) error { return errors.ErrUnsupported }
func (noRetire) Purge(context.Context, string) error   { return errors.ErrUnsupported }

// Retire implements Retirer (the retired bytes stay encrypted).
func (e *Encrypted) Retire(ctx context.Context, key string) error {
	return retirerOf(e.inner).Retire(ctx, key)
}

// Restore implements Retirer.
func (e *Encrypted) Restore(ctx context.Context, key string) error {
	return retirerOf(e.inner).Restore(ctx, key)
}

// Purge implements Retirer.
func (e *Encrypted) Purge(ctx context.Context, key string) error {
	return retirerOf(e.inner).Purge(ctx, key)
}

func (s *instrumented) Retire(ctx context.Context, key string) error {
	return retirerOf(s.Store).Retire(ctx, key)
}

func (s *instrumented) Restore(ctx context.Context, key string) error {
	return retirerOf(s.Store).Restore(ctx, key)
}

// Purge is the deletion proper, reported as "delete".
func (s *instrumented) Purge(ctx context.Context, key string) error {
	start := time.Now()
	err := retirerOf(s.Store).Purge(ctx, key)
	if !errors.Is(err, errors.ErrUnsupported) {
		s.timed("delete", start, err)
	}
	return err
}

// retiredPath is where a retired object waits: root/retired/KEY, outside
// objects/ (so Walk, and the orphan check with it, does not see it) and
// outside tmp/ (which a restart cleans).
func (d *Dir) retiredPath(key string) (string, error) {
	if _, err := d.path(key); err != nil {
		return "", err
	}
	return filepath.Join(d.root, "retired", filepath.FromSlash(key)), nil
}

// Retire renames the object into retired/: one atomic step, so a Commit of
// the same key either saw it published before (and its row will find it
// restored) or finds it absent and publishes its own copy. An open file
// keeps its bytes.
//
// A pack blob is not retired (errors.ErrUnsupported: the caller deletes
// it at once): its key is never published again (pack.go).
func (d *Dir) Retire(ctx context.Context, key string) error {
	if IsPackKey(key) {
		return errors.ErrUnsupported
	}
	live, retired, err := d.paths(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(retired), 0o750); err != nil {
		return fmt.Errorf("retire blob %s: %w", key, err)
	}
	err = move("retire", key, live, retired)
	d.files.forget(live)
	return err
}

// Restore renames a retired object back (over a copy published meanwhile:
// the same bytes) and makes the folder entry durable.
func (d *Dir) Restore(ctx context.Context, key string) error {
	if IsPackKey(key) {
		return errors.ErrUnsupported
	}
	live, retired, err := d.paths(key)
	if err != nil {
		return err
	}
	return d.publish("restore", key, retired, live)
}

// paths are key's published and retired file names.
func (d *Dir) paths(key string) (live, retired string, err error) {
	if live, err = d.path(key); err != nil {
		return "", "", err
	}
	retired, err = d.retiredPath(key)
	return live, retired, err
}

// move renames key's file from one place to the other; a missing source is
// ErrNotFound.
func move(op, key, from, to string) error {
	if err := os.Rename(from, to); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s blob %s: %w", op, key, ErrNotFound)
		}
		return fmt.Errorf("%s blob %s: %w", op, key, err)
	}
	return nil
}

// Purge deletes a retired object.
func (d *Dir) Purge(ctx context.Context, key string) error {
	if IsPackKey(key) {
		return errors.ErrUnsupported
	}
	p, err := d.retiredPath(key)
	if err != nil {
		return err
	}
	return removeFile("purge", key, p)
}

// retiredName is where a retired object waits in the bucket: PREFIX/retired/
// KEY (keys begin with two hex digits, so no key is named like that).
func (s *S3) retiredName(key string) (string, error) {
	if _, err := s.name(key); err != nil {
		return "", err
	}
	if s.opt.Prefix == "" {
		return "retired/" + key, nil
	}
	return s.opt.Prefix + "/retired/" + key, nil
}

// move copies an object server-side, then deletes the source. S3 has no
// rename: a Commit between the copy and the delete loses its no-op to the
// delete, which is why the caller checks the index after Retire and keeps
// the retired copy for a grace period.
func (s *S3) move(ctx context.Context, what, key, from, to string) error {
	err := s.retry(ctx, what, func(ctx context.Context) error {
		_, err := s.core.Client.CopyObject(ctx, minio.CopyDestOptions{Bucket: s.opt.Bucket, Object: to, Encryption: s.sse},
			minio.CopySrcOptions{Bucket: s.opt.Bucket, Object: from})
		return err
	})
	if err != nil {
		return fmt.Errorf("%s blob %s: %w", what, key, err)
	}
	err = s.retry(ctx, what, func(ctx context.Context) error {
		return s.core.Client.RemoveObject(ctx, s.opt.Bucket, from, minio.RemoveObjectOptions{})
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%s blob %s: %w", what, key, err)
	}
	return nil
}

// names returns a key's object name and its retired name.
func (s *S3) names(key string) (name, retired string, err error) {
	if name, err = s.name(key); err != nil {
		return "", "", err
	}
	retired, err = s.retiredName(key)
	return name, retired, err
}

// Retire implements Retirer.
func (s *S3) Retire(ctx context.Context, key string) error {
	name, retired, err := s.names(key)
	if err != nil {
		return err
	}
	return s.move(ctx, "retire", key, name, retired)
}

// Restore implements Retirer.
func (s *S3) Restore(ctx context.Context, key string) error {
	name, retired, err := s.names(key)
	if err != nil {
		return err
	}
	return s.move(ctx, "restore", key, retired, name)
}

// Purge implements Retirer.
func (s *S3) Purge(ctx context.Context, key string) error {
	retired, err := s.retiredName(key)
	if err != nil {
		return err
	}
	return s.remove(ctx, "purge", key, retired)
}
