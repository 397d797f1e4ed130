package cli

import (
	"context"
	"fmt"
	"strings"

	"lightbox/internal/gen"
)

func runGen(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "gen", "gen --out DIR [--modality CT|MR|CR|DX|US|MG] [--slices N] [--patients N] [--studies N] [--seed N]")
	out := fs.String("out", "", "output folder (required)")
	modality := fs.String("modality", "CT", "CT, MR, CR, DX, US or MG")
	procedure := fs.String("procedure", "", "procedure key or CPT code (e.g. CT_HEAD, 70450); default rotates per modality")
	slices := fs.Int("slices", 0, "images per CT/MR series, frames per US clip (default CT 16, MR 12, US 12)")
	patients := fs.Int("patients", 2, "number of fake patients")
	studies := fs.Int("studies", 1, "studies per patient (more than one makes priors a year apart)")
	seed := fs.Int64("seed", 1, "random seed; the same seed writes the same bytes")
	ts := fs.String("transfer-syntax", "", "transfer syntax UID (default explicit VR little endian)")
	facility := fs.String("facility", "", "facility code (default: spread over the demo facilities)")
	rows := fs.Int("rows", 0, "image rows (default per modality, CT 512)")
	cols := fs.Int("columns", 0, "image columns (default per modality, CT 512)")
	if err := parseWant(fs, args, env, func() bool { return *out != "" }); err != nil {
		return err
	}
	sum, err := gen.WriteDir(ctx, *out, gen.Options{
		Modality: strings.ToUpper(*modality), Procedure: *procedure, Slices: *slices, Patients: *patients,
		Studies: *studies, Seed: *seed, TransferSyntax: *ts, Facility: *facility, Rows: *rows, Columns: *cols,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %d instances in %d series, %d studies, %.1f MB to %s in %.1fs\n",
		sum.Instances, sum.Series, len(sum.Studies), float64(sum.Bytes)/(1<<20), *out, sum.Elapsed.Seconds())
	return nil
}
