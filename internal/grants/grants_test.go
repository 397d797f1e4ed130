package grants

import (
	"context"
	"slices"
	"testing"

	"lightbox/internal/breakglass"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/tumorboard"
)

// A break-glass grant widens a radiologist's scope by that one study and
// nobody else's; stores left out grant nothing.
func TestStudies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		bg := &breakglass.Store{DB: d}
		if _, err := bg.Open(ctx, "dr.a", "1.2.3", "SGH", "stroke alert, no local reader"); err != nil {
			t.Fatal(err)
		}
		src := Sources{BreakGlass: bg, Boards: &tumorboard.Store{DB: d}}
		for _, c := range []struct {
			user        string
			radiologist bool
			want        []string
		}{
			{"dr.a", true, []string{"1.2.3"}},
			{"dr.a", false, nil},
			{"dr.b", true, nil},
		} {
			got, err := src.Studies(ctx, c.user, c.radiologist)
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("%s radiologist=%v: %v %v, want %v", c.user, c.radiologist, got, err, c.want)
			}
		}
		if !src.Allows(ctx, "dr.a", true, "1.2.3") || src.Allows(ctx, "dr.a", true, "9.9") {
			t.Error("Allows disagrees with Studies")
		}
		if got, err := (Sources{}).Studies(ctx, "dr.a", true); err != nil || len(got) != 0 {
			t.Errorf("no stores: %v %v", got, err)
		}
	})
}
