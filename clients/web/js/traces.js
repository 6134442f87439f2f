// traces.js: line plot of a recorder's samples (one variable, one line per recorded neuron)
// over the same window as the raster: time axis in ms (a sample taken after step s is at
// s * dt), the variable with its unit (from /v1/models) on the value axis, and a legend
// mapping each colour to its neuron.
//
// The canvas exposes data-samples (samples drawn) and plot.js's axis attributes.

import { COLORS, TEXT, drawAxes, drawLegend, plotBox, sizeCanvas } from './plot.js';

export class Traces {
  constructor(canvas) {
    this.canvas = canvas;
  }

  // samples: {steps: [...], values: [[v per neuron] per sample]}; window [start, end) in
  // steps; dt in ms; label: "v (mV)"; population: the recorded population's name.
  draw(samples, neurons, start, end, label, dt = 1, population = '') {
    const { canvas } = this;
    const { ctx, W, H } = sizeCanvas(canvas);
    const box = plotBox(W, H);
    let lo = Infinity, hi = -Infinity;
    for (const row of samples.values) {
      for (const v of row) {
        if (v === null) continue;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    canvas.dataset.samples = String(samples.steps.length);
    if (lo === Infinity) { lo = 0; hi = 1; }
    if (hi === lo) { hi += 1; lo -= 1; }
    const pad = (hi - lo) * 0.05;
    const map = drawAxes(canvas, ctx, box, [start * dt, end * dt], [lo - pad, hi + pad],
      'time (ms)', label);
    if (!samples.steps.length) {
      ctx.fillStyle = TEXT;
      ctx.fillText('no samples in the window yet', box.x + 10, box.y + box.h / 2);
      return;
    }
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.x, box.y, box.w, box.h);
    ctx.clip();
    for (let n = 0; n < neurons.length; n++) {
      ctx.strokeStyle = COLORS[n % COLORS.length];
      ctx.lineWidth = 1.2;
      ctx.beginPath();
      let pen = false;
      for (let k = 0; k < samples.steps.length; k++) {
        const v = samples.values[k][n];
        if (v === null) { pen = false; continue; }
        const x = map.x(samples.steps[k] * dt), y = map.y(v);
        if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
        pen = true;
      }
      ctx.stroke();
    }
    ctx.restore();
    const shown = neurons.slice(0, 8).map((id, n) => ({
      label: `${population}[${id}]`, color: COLORS[n % COLORS.length] }));
    if (neurons.length > 8) shown.push({ label: `+${neurons.length - 8} more`, color: TEXT });
    drawLegend(ctx, box, shown);
  }
}
