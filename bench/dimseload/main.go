// Command dimseload supports bench/dimse.sh:
//
//	dimseload seed --db sqlite:DATA/index.db --studies N
//	    inserts N patients and studies in one transaction (run it before the
//	    server starts, on a migrated index);
//	dimseload find --addr H:P --aet A --aec C --studies N --queries Q
//	    times study-level C-FINDs and prints p50/p95: on one association
//	    (the server's query latency), and each with its own association
//	    (what a findscu-style client sees).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"lightbox/bench/benchseed"
	"lightbox/internal/db"
	"lightbox/internal/dcm"
	"lightbox/internal/dimse"
)

var families = benchseed.Families

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dimseload seed|find [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seed(os.Args[2:])
	case "find":
		err = find(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dimseload:", err)
		os.Exit(1)
	}
}

func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	dsn := fs.String("db", "", "index database (sqlite:PATH)")
	n := fs.Int("studies", 10000, "studies to insert")
	_ = fs.Parse(args)
	ctx := context.Background()
	d, err := db.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		return err
	}
	start := time.Now()
	err = benchseed.Studies(ctx, d, *n)
	if err != nil {
		return err
	}
	fmt.Printf("indexed %d studies in %v\n", *n, time.Since(start).Round(time.Millisecond))
	return nil
}

// query is one kind of study-level C-FIND.
type query struct {
	name string
	keys func(i int) map[dcm.Tag]string
}

var queries = []query{
	{"AccessionNumber exact", func(i int) map[dcm.Tag]string {
		return map[dcm.Tag]string{dcm.TagAccessionNumber: fmt.Sprintf("ACC%07d", i)}
	}},
	{"PatientID exact", func(i int) map[dcm.Tag]string {
		return map[dcm.Tag]string{dcm.TagPatientID: fmt.Sprintf("B%07d", i)}
	}},
	{"PatientName prefix*", func(i int) map[dcm.Tag]string {
		return map[dcm.Tag]string{dcm.TagPatientName: fmt.Sprintf("%s%d*", families[i%len(families)], i%997)}
	}},
}

func identifier(keys map[dcm.Tag]string) *dcm.Dataset {
	ds := &dcm.Dataset{}
	ds.SetStr(dcm.TagQueryRetrieveLevel, "STUDY")
	for _, t := range []dcm.Tag{dcm.TagStudyInstanceUID, dcm.TagPatientID, dcm.TagPatientName, dcm.TagStudyDate, dcm.TagAccessionNumber,
		dcm.TagModalitiesInStudy, dcm.TagStudyDescription, dcm.TagNumberOfStudyRelatedInstances} {
		ds.SetStr(t)
	}
	for t, v := range keys {
		ds.SetStr(t, v)
	}
	return ds
}

func find(args []string) error {
	fs := flag.NewFlagSet("find", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:11112", "Lightbox DICOM address")
	aet := fs.String("aet", "BENCHSCU", "calling AE title")
	aec := fs.String("aec", "LIGHTBOX", "called AE title")
	n := fs.Int("studies", 10000, "studies in the index (queries pick among them)")
	q := fs.Int("queries", 500, "queries per kind")
	_ = fs.Parse(args)
	ctx := context.Background()
	pcs := []dimse.ContextProposal{{AbstractSyntax: dimse.StudyRootQRFind}}
	one := func(a *dimse.Association, keys map[dcm.Tag]string) (int, error) {
		ts, _ := a.TransferSyntax(dimse.StudyRootQRFind)
		var b bytes.Buffer
		if err := dcm.WriteDataset(&b, identifier(keys), ts); err != nil {
			return 0, err
		}
		matches := 0
		st, err := a.Find(ctx, dimse.StudyRootQRFind, b.Bytes(), func([]byte) error { matches++; return nil })
		if err == nil && st != dimse.StatusSuccess {
			err = fmt.Errorf("C-FIND status 0x%04X", st)
		}
		return matches, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	a, err := dimse.Dial(ctx, *addr, *aet, *aec, pcs, nil)
	if err != nil {
		return err
	}
	// Warm up.
	for range 20 {
		if _, err := one(a, queries[0].keys(rng.IntN(*n))); err != nil {
			return err
		}
	}
	for _, qu := range queries {
		var lat []time.Duration
		total := 0
		for range *q {
			i := rng.IntN(*n)
			st := time.Now()
			m, err := one(a, qu.keys(i))
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(st))
			total += m
		}
		fmt.Printf("C-FIND study, one association, %-22s p50 %6.2f ms  p95 %6.2f ms  (%.1f matches/query)\n",
			qu.name+":", ms(pct(lat, 50)), ms(pct(lat, 95)), float64(total)/float64(*q))
	}
	_ = a.Release(ctx)
	var lat []time.Duration
	for range *q {
		st := time.Now()
		a, err := dimse.Dial(ctx, *addr, *aet, *aec, pcs, nil)
		if err != nil {
			return err
		}
		if _, err := one(a, queries[0].keys(rng.IntN(*n))); err != nil {
			return err
		}
		if err := a.Release(ctx); err != nil {
			return err
		}
		lat = append(lat, time.Since(st))
	}
	fmt.Printf("C-FIND study, association per query (connect+find+release), AccessionNumber exact: p50 %6.2f ms  p95 %6.2f ms\n", ms(pct(lat, 50)), ms(pct(lat, 95)))
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
