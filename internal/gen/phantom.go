package gen

import (
	"math"
	"math/rand/v2"
)

// The phantoms are painted from ellipses, row by row: for each row the
// horizontal span an ellipse covers is computed analytically and filled, so
// a 512×512 slice costs a few passes over memory and no per-pixel geometry.
// Coordinates are normalised: x and y run from -1 (left, top) to +1 (right,
// bottom) across the field of view. In axial images the image's left is the
// patient's right (radiological convention).

type shape struct {
	cx, cy, rx, ry float64
	v              int32
	add            bool // add v instead of replacing (projection images)
}

// plane is a scratch image of int32 values (HU, MR signal, detector counts
// or 8-bit brightness).
type plane struct {
	rows, cols int
	v          []int32
}

func (p *plane) reset(rows, cols int, fill int32) {
	p.rows, p.cols = rows, cols
	if cap(p.v) < rows*cols {
		p.v = make([]int32, rows*cols)
	}
	p.v = p.v[:rows*cols]
	for i := range p.v {
		p.v[i] = fill
	}
}

// span returns the columns [x0,x1) an ellipse covers on row r.
func (p *plane) span(s *shape, r int) (int, int, bool) {
	y := (float64(r)+0.5)/float64(p.rows)*2 - 1
	dy := (y - s.cy) / s.ry
	if dy*dy >= 1 || s.rx <= 0 {
		return 0, 0, false
	}
	half := s.rx * math.Sqrt(1-dy*dy)
	x0 := int(math.Round((s.cx - half + 1) / 2 * float64(p.cols)))
	x1 := int(math.Round((s.cx + half + 1) / 2 * float64(p.cols)))
	x0 = max(x0, 0)
	x1 = min(x1, p.cols)
	return x0, x1, x1 > x0
}

func (p *plane) paint(shapes []shape) {
	for i := range shapes {
		s := &shapes[i]
		// Only the rows the ellipse can touch.
		r0 := max(int((s.cy-s.ry+1)/2*float64(p.rows))-1, 0)
		r1 := min(int((s.cy+s.ry+1)/2*float64(p.rows))+1, p.rows)
		for r := r0; r < r1; r++ {
			x0, x1, ok := p.span(s, r)
			if !ok {
				continue
			}
			row := p.v[r*p.cols+x0 : r*p.cols+x1]
			if s.add {
				for j := range row {
					row[j] += s.v
				}
			} else {
				for j := range row {
					row[j] = s.v
				}
			}
		}
	}
}

// addNoise adds table noise scaled by num/den to every pixel whose value
// differs from skip, with a random table offset per row.
func (p *plane) addNoise(rng *rand.Rand, noise []int16, num, den int32, skip int32) {
	n := len(noise) - p.cols
	for r := 0; r < p.rows; r++ {
		off := rng.IntN(n)
		row := p.v[r*p.cols : (r+1)*p.cols]
		nz := noise[off : off+p.cols]
		for j, v := range row {
			if v != skip {
				row[j] = v + int32(nz[j])*num/den
			}
		}
	}
}

// noiseTable returns 64 Ki approximately normal samples with σ ≈ 16.
func noiseTable(seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 0x6e6f697365))
	t := make([]int16, 1<<16)
	for i := range t {
		t[i] = int16(math.Round(rng.NormFloat64() * 16))
	}
	return t
}

// variation is per-study randomness: where the lesion is, how the bowel
// loops lie, so studies differ visibly.
type variation struct {
	lesionX, lesionY, lesionR float64
	lesionT0, lesionT1        float64
	phase                     [6]float64
	blobs                     [12][3]float64 // x, y, r (mammography glandular tissue, US structures)
}

func newVariation(rng *rand.Rand) variation {
	var v variation
	v.lesionX = rng.Float64()*0.5 - 0.25
	v.lesionY = rng.Float64()*0.4 - 0.2
	v.lesionR = 0.03 + rng.Float64()*0.04
	v.lesionT0 = 0.3 + rng.Float64()*0.3
	v.lesionT1 = v.lesionT0 + 0.1 + rng.Float64()*0.15
	for i := range v.phase {
		v.phase[i] = rng.Float64() * 2 * math.Pi
	}
	for i := range v.blobs {
		v.blobs[i] = [3]float64{rng.Float64(), rng.Float64()*2 - 1, 0.04 + rng.Float64()*0.12}
	}
	return v
}

func clamp01(x float64) float64 { return min(max(x, 0), 1) }

// bump is 0 outside (a,b) and rises to 1 in the middle.
func bump(t, a, b float64) float64 {
	if t <= a || t >= b {
		return 0
	}
	return math.Sin(math.Pi * (t - a) / (b - a))
}

// ctShapes describes an axial CT slice at normalised scan position t
// (0 = first, most superior slice; 1 = last) in HU.
func ctShapes(a anatomy, t float64, v *variation, contrast bool) []shape {
	var s []shape
	table := shape{cx: 0, cy: 0.86, rx: 0.95, ry: 0.02, v: 150}
	switch a {
	case anatHead, anatBrainMR:
		sc := 0.45 + 0.55*math.Sqrt(clamp01(t*1.4))
		s = append(s,
			shape{0, 0, 0.62 * sc, 0.76 * sc, 60, false},   // scalp
			shape{0, 0, 0.59 * sc, 0.73 * sc, 1100, false}, // skull
			shape{0, 0, 0.54 * sc, 0.68 * sc, 38, false},   // grey matter
		)
		if t > 0.12 {
			s = append(s, shape{0, 0.02, 0.40 * sc, 0.52 * sc, 28, false}) // white matter
		}
		if k := bump(t, 0.3, 0.72); k > 0 {
			s = append(s,
				shape{-0.07, -0.05, 0.05 * k, 0.22 * k, 6, false},
				shape{0.07, -0.05, 0.05 * k, 0.22 * k, 6, false})
		}
		if k := bump(t, 0.8, 1.01); k > 0 { // orbits / sinuses at the skull base
			s = append(s,
				shape{-0.22, -0.55, 0.1 * k, 0.08 * k, -950, false},
				shape{0.22, -0.55, 0.1 * k, 0.08 * k, -950, false})
		}
		if k := bump(t, v.lesionT0, v.lesionT1); k > 0 {
			s = append(s, shape{v.lesionX, v.lesionY, v.lesionR * k, v.lesionR * k, 72, false})
		}
		s = append(s, shape{0, 0.9, 0.5, 0.03, 150, false}) // head holder
	case anatChest, anatChestAngio:
		vessel := int32(45)
		if a == anatChestAngio {
			vessel = 380
		}
		ls := 0.35 + 0.65*math.Sin(math.Pi/2*clamp01(t*1.6))
		if t > 0.8 {
			ls *= 1 - (t-0.8)*3
		}
		s = append(s,
			shape{0, 0.02, 0.90, 0.62, -100, false}, // subcutaneous fat
			shape{0, 0.02, 0.84, 0.56, 42, false},   // muscle / mediastinum
			shape{-0.40, 0, 0.32 * ls, 0.44 * ls, -860, false},
			shape{0.40, 0, 0.32 * ls, 0.44 * ls, -860, false},
		)
		if k := bump(t, 0.4, 1.05); k > 0 {
			s = append(s, shape{0.08, -0.08, 0.30 * k, 0.26 * k, 40, false}) // heart
			if a == anatChestAngio {
				s = append(s, shape{0.02, -0.1, 0.08 * k, 0.07 * k, vessel, false})
			}
		}
		if t > 0.85 { // liver dome
			k := (t - 0.85) / 0.15
			s = append(s, shape{-0.35, 0.05, 0.4 * k, 0.35 * k, 58, false})
		}
		s = append(s,
			shape{0.12, 0.3, 0.065, 0.065, vessel, false},            // descending aorta
			shape{0, 0.42, 0.11, 0.095, 480, false},                  // vertebral body
			shape{0, 0.54, 0.045, 0.035, 20, false},                  // spinal canal
			shape{0, -0.55, 0.06, 0.025, 450, false},                 // sternum
			shape{v.lesionX - 0.4, v.lesionY, 0.03, 0.03, 30, false}, // lung nodule
		)
		if t < 0.45 {
			s = append(s, shape{0.02, -0.2, 0.07, 0.07, vessel, false}) // arch / ascending aorta
		}
	case anatAbdomen:
		s = append(s,
			shape{0, 0.02, 0.86, 0.60, -100, false},
			shape{0, 0.02, 0.78, 0.52, 40, false},
		)
		if k := bump(t, -0.2, 0.45); k > 0 {
			s = append(s, shape{-0.32, -0.05, 0.4 * k, 0.34 * k, 110, false}) // liver
			s = append(s, shape{0.5, 0.1, 0.15 * k, 0.2 * k, 105, false})     // spleen
		}
		if k := bump(t, 0.2, 0.55); k > 0 {
			s = append(s,
				shape{-0.32, 0.25, 0.09 * k, 0.14 * k, 170, false},
				shape{0.32, 0.25, 0.09 * k, 0.14 * k, 170, false})
		}
		if t > 0.3 && t < 0.85 {
			for i := 0; i < 6; i++ {
				ph := v.phase[i]
				x := 0.45 * math.Sin(ph+3*t)
				y := -0.15 + 0.2*math.Cos(ph*1.7+4*t)
				val := int32(30)
				if i%3 == 0 {
					val = -900
				}
				s = append(s, shape{x, y, 0.08, 0.07, val, false})
			}
		}
		if k := bump(t, 0.75, 1.05); k > 0 {
			s = append(s,
				shape{0, -0.1, 0.22 * k, 0.16 * k, 8, false}, // bladder
				shape{-0.5, 0.2, 0.14, 0.22 * k, 550, false}, // iliac wings
				shape{0.5, 0.2, 0.14, 0.22 * k, 550, false})
		}
		if t < 0.8 {
			s = append(s,
				shape{0.06, 0.3, 0.05, 0.05, 190, false},   // aorta
				shape{-0.09, 0.28, 0.06, 0.05, 130, false}, // IVC
			)
		}
		s = append(s,
			shape{0, 0.42, 0.12, 0.1, 480, false},
			shape{0, 0.54, 0.045, 0.035, 20, false},
			shape{v.lesionX - 0.3, v.lesionY - 0.05, v.lesionR, v.lesionR, 40, false}, // hypodense liver lesion
		)
	}
	return append(s, table)
}

// mrShapes maps the head phantom to MR signal for a T2 (t2=true) or
// post-contrast T1 weighting.
func mrShapes(t float64, v *variation, t2 bool) []shape {
	hu := ctShapes(anatHead, t, v, false)
	out := hu[:0]
	for _, s := range hu {
		switch s.v {
		case 60: // scalp fat
			s.v = 1300
		case 1100: // cortical bone: no signal
			s.v = 60
		case 38: // grey matter
			s.v = pick(t2, 1250, 700)
		case 28: // white matter
			s.v = pick(t2, 850, 950)
		case 6: // CSF
			s.v = pick(t2, 2300, 250)
		case -950: // air in sinuses
			s.v = 0
		case 72: // lesion: bright on both (enhancing / oedema)
			s.v = pick(t2, 2000, 1700)
		case 150: // head holder is invisible on MR
			continue
		}
		out = append(out, s)
	}
	return out
}

func pick(c bool, a, b int32) int32 {
	if c {
		return a
	}
	return b
}

// xrShapes describes a chest radiograph (projection: values add). frontal
// selects PA, otherwise left lateral. Values are 12-bit detector units, air
// dark (MONOCHROME2).
func xrShapes(frontal bool, v *variation) []shape {
	var s []shape
	if frontal {
		s = append(s,
			shape{0, 0.1, 0.82, 0.95, 1300, true},      // body
			shape{-0.38, -0.05, 0.3, 0.55, -700, true}, // right lung
			shape{0.38, -0.05, 0.3, 0.55, -700, true},  // left lung
			shape{0.1, 0.25, 0.32, 0.28, 650, true},    // heart
			shape{0, -0.1, 0.1, 0.9, 500, true},        // spine / mediastinum
			shape{-0.3, -0.55, 0.3, 0.03, 350, true},   // clavicles
			shape{0.3, -0.55, 0.3, 0.03, 350, true},
			shape{0, 0.62, 0.8, 0.12, 500, true}, // diaphragm / abdomen
		)
		for i := 0; i < 9; i++ { // ribs: thin rings seen as arcs
			y := -0.5 + float64(i)*0.11
			for _, side := range []float64{-1, 1} {
				s = append(s,
					shape{side * 0.2, y, 0.42, 0.1, 220, true},
					shape{side * 0.2, y + 0.01, 0.41, 0.085, -220, true})
			}
		}
	} else {
		s = append(s,
			shape{0, 0.1, 0.62, 0.95, 1400, true},
			shape{-0.05, -0.05, 0.45, 0.55, -650, true},
			shape{-0.15, 0.25, 0.3, 0.28, 550, true},
			shape{0.45, 0, 0.1, 0.95, 600, true}, // spine (posterior = right)
			shape{0, 0.62, 0.6, 0.12, 500, true},
		)
	}
	s = append(s, shape{v.lesionX, v.lesionY, 0.025, 0.025, 150, true})
	return s
}

// mgShapes describes one mammogram. chestLeft puts the chest wall on the
// image's left edge (left breast). mlo adds the pectoral muscle.
func mgShapes(chestLeft, mlo bool, v *variation) []shape {
	cx := 1.0
	dir := -1.0
	if chestLeft {
		cx, dir = -1, 1
	}
	ry := 0.78
	if mlo {
		ry = 0.9
	}
	s := []shape{{cx, 0.05, 1.45, ry, 1400, false}} // fatty breast
	for i, b := range v.blobs {
		if i >= 9 {
			break
		}
		// Glandular tissue clusters behind the nipple.
		x := cx + dir*(0.2+b[0]*0.9)
		s = append(s, shape{x, b[1] * 0.5 * ry, b[2] * 1.3, b[2], 350, true})
	}
	if mlo {
		s = append(s, shape{cx, -1, 0.45, 0.95, 700, true}) // pectoralis
	}
	for i := 9; i < 12; i++ { // calcifications
		b := v.blobs[i]
		x := cx + dir*(0.4+b[0]*0.6)
		s = append(s, shape{x, b[1] * 0.4, 0.008, 0.006, 1500, true})
	}
	return s
}
