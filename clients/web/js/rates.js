// rates.js: population firing rate over time (Hz), one line per population in the raster's
// colours, over the raster's window: spikes binned in ~100 bins of whole steps, divided by
// the population size and the bin width. Redrawn after each raster frame.
//
// The canvas exposes: data-bins (bins drawn), data-bin-ms (bin width), data-max-hz (the
// largest rate drawn), plus plot.js's axis attributes.

import { drawAxes, drawLegend, fmt, plotBox, sizeCanvas } from './plot.js';

export class RatePlot {
  constructor(canvas, raster) {
    this.canvas = canvas;
    this.raster = raster;
    raster.listeners.push(() => this.draw());
  }

  draw() {
    const { canvas, raster } = this;
    const { ctx, W, H } = sizeCanvas(canvas);
    const box = plotBox(W, H);
    const { t0, binMs, rates, valid } = raster.binned(100);
    const bins = rates.length ? rates[0].length : 0;
    let hi = 0;
    for (const r of rates) for (let b = valid; b < bins; b++) hi = Math.max(hi, r[b]);
    const top = hi > 0 ? hi * 1.1 : 10;
    const map = drawAxes(canvas, ctx, box, [t0, t0 + bins * binMs], [0, top],
      'time (ms)', 'rate (Hz)');
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.x, box.y, box.w, box.h);
    ctx.clip();
    raster.pops.forEach((p, k) => {
      ctx.strokeStyle = p.color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (let b = valid; b < bins; b++) {
        const x = map.x(t0 + (b + 0.5) * binMs), y = map.y(rates[k][b]);
        if (b === valid) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      }
      ctx.stroke();
    });
    ctx.restore();
    drawLegend(ctx, box, raster.pops.map((p) => ({ label: p.name, color: p.color })));
    ctx.fillStyle = '#8892b0';
    ctx.fillText(`bins of ${fmt(binMs)} ms`, box.x + 6, box.y + 14);
    canvas.dataset.bins = String(Math.max(0, bins - valid));
    canvas.dataset.binMs = String(binMs);
    canvas.dataset.maxHz = String(hi);
  }
}
