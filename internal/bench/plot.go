package bench

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Plot files Plot writes.
const (
	PlotScatter = "overall_vs_human.png"
	PlotSweep   = "threshold_sweep.png"
)

// Plot writes the report's two figures into dir: the model's Overall
// against the mean human rating (accepted and rejected papers apart,
// jittered so equal scores stay visible), and the accept rate and
// balanced accuracy of "accept iff Overall ≥ t" for every t, with the
// given threshold marked. It returns the files' paths.
func Plot(rep *Report, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	scatter, err := scatterPlot(rep)
	if err != nil {
		return nil, err
	}
	sweep, err := sweepPlot(rep)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range []struct {
		name string
		p    *plot.Plot
	}{{PlotScatter, scatter}, {PlotSweep, sweep}} {
		path := filepath.Join(dir, f.name)
		if err := f.p.Save(6*vg.Inch, 4.5*vg.Inch, path); err != nil {
			return nil, fmt.Errorf("plots: %w", err)
		}
		out = append(out, path)
	}
	return out, nil
}

var (
	acceptColor = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	rejectColor = color.RGBA{R: 214, G: 39, B: 40, A: 255}
)

func scatterPlot(rep *Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Model Overall vs mean human rating (%d papers; Pearson %.2f)", rep.Correlated, rep.Pearson.Value)
	p.X.Label.Text = "mean human rating"
	p.Y.Label.Text = "model Overall (jittered)"
	for _, class := range []struct {
		accept bool
		name   string
		c      color.Color
	}{{false, "rejected by humans", rejectColor}, {true, "accepted by humans", acceptColor}} {
		var xy plotter.XYs
		for i, pt := range rep.Points {
			if pt.Accept != class.accept || math.IsNaN(pt.HumanMean) {
				continue
			}
			// A fixed jitter by index: the figure is the same every time.
			j := (float64((i*7919)%101)/100 - 0.5) * 0.3
			xy = append(xy, plotter.XY{X: pt.HumanMean, Y: pt.Overall + j})
		}
		if len(xy) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xy)
		if err != nil {
			return nil, fmt.Errorf("plots: %w", err)
		}
		s.GlyphStyle.Color = class.c
		s.GlyphStyle.Radius = vg.Points(2)
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(s)
		p.Legend.Add(class.name, s)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return p, nil
}

func sweepPlot(rep *Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Accept iff Overall ≥ threshold"
	p.X.Label.Text = "threshold"
	p.Y.Label.Text = "share"
	p.Y.Min, p.Y.Max = 0, 1
	var rate, ba plotter.XYs
	for _, s := range rep.Sweep {
		rate = append(rate, plotter.XY{X: s.Threshold, Y: s.AcceptRate})
		ba = append(ba, plotter.XY{X: s.Threshold, Y: s.BalancedAccuracy})
	}
	for _, l := range []struct {
		name string
		xy   plotter.XYs
		c    color.Color
	}{{"accept rate", rate, acceptColor}, {"balanced accuracy", ba, rejectColor}} {
		line, points, err := plotter.NewLinePoints(l.xy)
		if err != nil {
			return nil, fmt.Errorf("plots: %w", err)
		}
		line.Color, points.Color = l.c, l.c
		p.Add(line, points)
		p.Legend.Add(l.name, line)
	}
	human, err := plotter.NewLine(plotter.XYs{{X: rep.Sweep[0].Threshold, Y: rep.AcceptRate}, {X: rep.Sweep[len(rep.Sweep)-1].Threshold, Y: rep.AcceptRate}})
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	human.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	human.Color = color.Gray{Y: 100}
	p.Add(human)
	p.Legend.Add(fmt.Sprintf("humans' accept rate (%.0f%%)", 100*rep.AcceptRate), human)
	mark, err := plotter.NewLine(plotter.XYs{{X: rep.Threshold, Y: 0}, {X: rep.Threshold, Y: 1}})
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	mark.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
	p.Add(mark)
	p.Legend.Add(fmt.Sprintf("given threshold %s", fmtNum(rep.Threshold)), mark)
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p, nil
}
