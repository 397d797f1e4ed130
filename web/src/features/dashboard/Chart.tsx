import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
  bars?: boolean;
  dash?: boolean;
}

const axis = { stroke: '#a9b0ba', grid: { stroke: '#2c323b', width: 1 }, ticks: { stroke: '#2c323b' } };

// Chart: one uPlot chart (canvas) over a shared x axis. x is either unix
// seconds (time: true) or category indexes labelled by `categories`.
export function Chart({ title, x, series, time = true, categories, height = 220, yLabel }: {
  title: string; x: number[]; series: Series[]; time?: boolean; categories?: string[]; height?: number; yLabel?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || x.length === 0) return;
    const bars = uPlot.paths.bars!({ size: [0.7, 40] });
    const labelStep = Math.max(1, Math.ceil((categories?.length ?? 0) / 12)); // at most 12 labels
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height,
      // categories sit mid-slot: pad half a slot either side so bars are whole
      scales: { x: time ? { time } : { time: false, range: () => [-0.5, x.length - 0.5] } },
      legend: { show: true },
      cursor: { points: { size: 6 } },
      axes: [
        { ...axis, values: categories ? (_u, ticks) => ticks.map((t) => (Number.isInteger(t) && t % labelStep === 0 ? categories[t] ?? '' : '')) : undefined,
          splits: categories ? () => categories.map((_, i) => i) : undefined },
        { ...axis, label: yLabel, labelSize: 18, size: 50 },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label, stroke: s.color, width: s.bars ? 1 : 2, dash: s.dash ? [6, 4] : undefined,
          fill: s.bars ? s.color + 'aa' : undefined, paths: s.bars ? bars : undefined, points: { show: !s.bars && x.length < 40 },
        })),
      ],
    };
    const u = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(300, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [x, series, time, categories, height, yLabel]);
  return (
    <figure className="chart" aria-label={title}>
      <figcaption>{title}</figcaption>
      {x.length === 0 ? <p className="muted">No data in this range.</p> : <div ref={box} data-testid="chart" />}
    </figure>
  );
}

export const palette = ['#5cb8ff', '#7ee787', '#ffc857', '#ff6b6b', '#d2a8ff', '#79c0ff', '#ffa657', '#a5d6ff'];
