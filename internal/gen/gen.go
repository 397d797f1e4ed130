package gen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"lightbox/internal/dcm"
)

// Instance is one generated SOP instance. It and its pixel buffers are
// valid only until the Each callback returns: the generator reuses them for
// the next instance. Encode or write it inside the callback.
type Instance struct {
	// Dataset is the complete data set, Pixel Data included (native or
	// encapsulated per TransferSyntax).
	Dataset *dcm.Dataset
	// TransferSyntax is the UID the instance is meant to be written in.
	TransferSyntax string
	// Path is a suggested slash-separated relative path:
	// PATIENTID/ACCESSION/NNN_MOD/NNNNN.dcm.
	Path string
	// SourceAE is the sending station's AE title (Facility.StationAE).
	SourceAE string

	Patient   Patient
	Facility  Facility
	Procedure Procedure
	// StudyOrdinal numbers the studies of this run from 0.
	StudyOrdinal      int
	StudyInstanceUID  string
	SeriesInstanceUID string
	SOPInstanceUID    string
	AccessionNumber   string
	// StudyTime is when the study was performed, in the facility's zone.
	StudyTime time.Time
}

// WriteTo writes the instance as a Part 10 file.
func (inst *Instance) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	err := dcm.WriteFile(cw, inst.Dataset, inst.TransferSyntax, inst.SourceAE)
	return cw.n, err
}

// Encode returns the instance as Part 10 bytes.
func Encode(inst *Instance) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := inst.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Each generates the studies opts describes and calls fn once per instance,
// one at a time, in a deterministic order (patient, study, series,
// instance). It stops at the first error fn returns, or when ctx is done.
func Each(ctx context.Context, opts Options, fn func(inst *Instance) error) error {
	p, err := opts.normalize()
	if err != nil {
		return err
	}
	g := newGenerator(p)
	for ord := range p.opts.Patients * p.opts.Studies {
		st := g.planStudy(ord)
		for si := range st.series {
			se := &st.series[si]
			base := g.seriesBase(st, se)
			for k := range se.images {
				if err := ctx.Err(); err != nil {
					return err
				}
				inst, err := g.instance(st, se, base, k)
				if err != nil {
					return err
				}
				if err := fn(inst); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// StudySummary describes one generated study.
type StudySummary struct {
	StudyInstanceUID string
	AccessionNumber  string
	PatientID        string
	PatientName      string
	Facility         string // facility code
	Procedure        string // procedure key
	CPT              string
	Modality         string
	StudyTime        time.Time
	Series           int
	Instances        int
	Bytes            int64
}

// Summary reports what WriteDir wrote.
type Summary struct {
	Patients  int
	Studies   []StudySummary
	Series    int
	Instances int
	Bytes     int64
	// StudyUIDs lists the Study Instance UIDs in generation order.
	StudyUIDs []string
	Elapsed   time.Duration
}

// WriteDir generates the studies opts describes into dir as Part 10 files at
// each Instance.Path. Every file is written to a temporary name in its
// final folder and renamed into place, so readers never see partial files.
func WriteDir(ctx context.Context, dir string, opts Options) (Summary, error) {
	start := time.Now()
	var sum Summary
	lastDir := ""
	lastSeries := ""
	patients := map[string]bool{}
	bw := bufio.NewWriterSize(nil, 256<<10)
	err := Each(ctx, opts, func(inst *Instance) error {
		full := filepath.Join(dir, filepath.FromSlash(inst.Path))
		if d := filepath.Dir(full); d != lastDir {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			lastDir = d
		}
		n, err := writeFileAtomic(full, inst, bw)
		if err != nil {
			return err
		}
		if len(sum.Studies) == 0 || sum.Studies[len(sum.Studies)-1].StudyInstanceUID != inst.StudyInstanceUID {
			sum.Studies = append(sum.Studies, StudySummary{
				StudyInstanceUID: inst.StudyInstanceUID,
				AccessionNumber:  inst.AccessionNumber,
				PatientID:        inst.Patient.ID,
				PatientName:      inst.Patient.Name,
				Facility:         inst.Facility.Code,
				Procedure:        inst.Procedure.Key,
				CPT:              inst.Procedure.CPT,
				Modality:         inst.Dataset.Str(dcm.TagModality),
				StudyTime:        inst.StudyTime,
			})
			sum.StudyUIDs = append(sum.StudyUIDs, inst.StudyInstanceUID)
		}
		s := &sum.Studies[len(sum.Studies)-1]
		if inst.SeriesInstanceUID != lastSeries {
			lastSeries = inst.SeriesInstanceUID
			s.Series++
			sum.Series++
		}
		s.Instances++
		s.Bytes += n
		sum.Instances++
		sum.Bytes += n
		patients[inst.Facility.IssuerOfPatientID+"/"+inst.Patient.ID] = true
		return nil
	})
	sum.Patients = len(patients)
	sum.Elapsed = time.Since(start)
	return sum, err
}

func writeFileAtomic(path string, inst *Instance, bw *bufio.Writer) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".gen-*.tmp")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	bw.Reset(f)
	err = f.Chmod(0o644)
	var n int64
	if err == nil {
		n, err = inst.WriteTo(bw)
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("gen: write %s: %w", path, err)
	}
	return n, nil
}

// generator holds per-run scratch state: the noise table and buffers reused
// from one instance to the next.
type generator struct {
	p     *plan
	noise []int16
	pl    plane
	pix   []byte // native pixel data of the current instance
	enc   []byte // encoded fragments backing store
	rng   *rand.Rand
	pcg   *rand.PCG
}

func newGenerator(p *plan) *generator {
	g := &generator{p: p, noise: noiseTable(p.seed)}
	g.pcg = rand.NewPCG(0, 0)
	g.rng = rand.New(g.pcg)
	return g
}
