package blob

import (
	"context"
	"math/rand/v2"
	"testing"

	"lightbox/internal/blob/blobtest"
)

// Frame retrieval: random 256 KiB ranges of a 32 MiB multi-frame blob,
// from the folder and from S3 (versitygw on loopback); and one commit of a
// 512 KiB instance. bench/README.md has the figures.
func benchStore(b *testing.B, s Store) {
	ctx := context.Background()
	const frame = 256 << 10
	data := random(32 << 20)
	w, _ := s.Create(ctx)
	_, _ = w.Write(data)
	if err := w.Commit(ctx, "be/nc/h"); err != nil {
		b.Fatal(err)
	}
	b.Run("frame", func(b *testing.B) {
		o, err := s.Open(ctx, "be/nc/h")
		if err != nil {
			b.Fatal(err)
		}
		defer o.Close()
		p := make([]byte, frame)
		r := rand.New(rand.NewPCG(1, 2))
		b.SetBytes(frame)
		for b.Loop() {
			off := int64(r.IntN(len(data)/frame)) * frame
			if _, err := o.ReadAt(p, off); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("commit", func(b *testing.B) {
		inst := random(512 << 10)
		b.SetBytes(int64(len(inst)))
		i := 0
		for b.Loop() {
			i++
			inst[0], inst[1] = byte(i), byte(i>>8)
			w, _ := s.Create(ctx)
			_, _ = w.Write(inst)
			if err := w.Commit(ctx, "co/mm/"+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676%26))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkStoreDir(b *testing.B) {
	d, err := OpenDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	benchStore(b, d)
}

func BenchmarkStoreS3(b *testing.B) {
	srv := blobtest.Start(b)
	srv.SetEnv(b)
	s, err := Open(srv.URL(srv.Bucket(b), b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchStore(b, s)
}
