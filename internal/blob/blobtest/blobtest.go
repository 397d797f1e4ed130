// Package blobtest starts a real S3-compatible server (versitygw with its
// posix backend) on a free loopback port for tests, so the S3 blob store is
// tested against an S3 implementation, not a mock.
package blobtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Server is a running versitygw.
type Server struct {
	// Endpoint is 127.0.0.1:PORT.
	Endpoint string
	// AccessKey and SecretKey are the root user's.
	AccessKey, SecretKey string
	// Root is the posix folder behind the buckets.
	Root string
}

// Binary finds versitygw on PATH or in GOPATH/bin ("" when absent).
func Binary() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = string(out[:len(out)-1])
		}
	}
	p := filepath.Join(gopath, "bin", "versitygw")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// Start runs versitygw for the test's lifetime; the test skips when the
// binary is not installed (.ci/run installs it).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skip("versitygw not installed (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &Server{Endpoint: addr, AccessKey: "lightboxtest", SecretKey: randHex(16), Root: t.TempDir()}
	cmd := exec.Command(bin, "--port", addr, "posix", s.Root)
	// Credentials by environment, as an operator would pass them.
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s.AccessKey, "ROOT_SECRET_ACCESS_KEY="+s.SecretKey)
	logf, err := os.Create(filepath.Join(t.TempDir(), "versitygw.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if i > 200 {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("versitygw did not listen on %s: %s", addr, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// Bucket creates a bucket with a random name and returns it.
func (s *Server) Bucket(t testing.TB) string {
	t.Helper()
	c, err := minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	name := "lbx-" + randHex(6)
	if err := c.MakeBucket(context.Background(), name, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return name
}

// URL is a blob store URL for bucket (spooling under spool).
func (s *Server) URL(bucket, spool string) string {
	return fmt.Sprintf("s3://%s/lightbox?endpoint=%s&region=us-east-1&secure=false&spool=%s", bucket, s.Endpoint, spool)
}

// Env is the environment a Lightbox process needs to reach the server.
func (s *Server) Env() []string {
	return []string{"LIGHTBOX_S3_ACCESS_KEY_ID=" + s.AccessKey, "LIGHTBOX_S3_SECRET_ACCESS_KEY=" + s.SecretKey}
}

// SetEnv sets Env for the current (non-parallel) test.
func (s *Server) SetEnv(t testing.TB) {
	t.Setenv("LIGHTBOX_S3_ACCESS_KEY_ID", s.AccessKey)
	t.Setenv("LIGHTBOX_S3_SECRET_ACCESS_KEY", s.SecretKey)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
