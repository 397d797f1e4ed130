// Command stowload sends a folder of Part 10 files by STOW-RS (PS3.18
// 10.5): the files dealt round-robin into --parallel multipart requests sent
// at once, each request holding its share. It prints instances/s; any
// failed instance or non-2xx answer exits non-zero.
package main

import (
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// failedSeq finds a non-empty Failed SOP Sequence (0008,1198).
var failedSeq = regexp.MustCompile(`"00081198"\s*:\s*\{\s*"Value"`)

func main() {
	url := flag.String("url", "", "STOW-RS URL (…/studies)")
	token := flag.String("token", "", "bearer token (Lightbox)")
	dir := flag.String("dir", "", "folder of .dcm files")
	parallel := flag.Int("parallel", 1, "parallel requests")
	flag.Parse()
	var files []string
	_ = filepath.WalkDir(*dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".dcm") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	if len(files) == 0 || *url == "" {
		fmt.Fprintln(os.Stderr, "usage: stowload --url URL --dir DIR [--parallel N] [--token T]")
		os.Exit(2)
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, *parallel)
	for i := range *parallel {
		var group []string
		for j := i; j < len(files); j += *parallel {
			group = append(group, files[j])
		}
		wg.Go(func() {
			if err := send(*url, *token, group); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fmt.Fprintln(os.Stderr, "stowload:", err)
		os.Exit(1)
	}
	el := time.Since(start).Seconds()
	fmt.Printf("stow: %d instances in %d request(s) in %.2fs: %.0f instances/s\n", len(files), *parallel, el, float64(len(files))/el)
}

// send streams one multipart request; the body is written as the server
// reads it, so the client holds one file at a time.
func send(url, token string, files []string) error {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			part, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/dicom"}})
			if err == nil {
				_, err = part.Write(b)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	req, err := http.NewRequest("POST", url, pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+mw.Boundary())
	req.Header.Set("Accept", "application/dicom+json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 || failedSeq.Match(body) {
		return fmt.Errorf("status %d: %.300s", resp.StatusCode, body)
	}
	return nil
}
