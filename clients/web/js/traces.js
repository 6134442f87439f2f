// traces.js: line plot of a recorder's samples (one variable, one line per recorded neuron)
// over the same step window as the raster, with the value range written at the left.

import { BACKGROUND, COLORS } from './raster.js';

export class Traces {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
  }

  // samples: {steps: [...], values: [[v per neuron] per sample]}; window [start, end).
  draw(samples, neurons, start, end, label) {
    const { ctx, canvas } = this;
    const W = canvas.width, H = canvas.height, pad = 14;
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, W, H);
    let lo = Infinity, hi = -Infinity;
    for (const row of samples.values) {
      for (const v of row) {
        if (v === null) continue;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    canvas.dataset.samples = String(samples.steps.length);
    if (!samples.steps.length || lo === Infinity) {
      ctx.fillStyle = '#8892b0';
      ctx.fillText('no samples in the window yet', 10, H / 2);
      return;
    }
    if (hi === lo) { hi += 1; lo -= 1; }
    const x = (s) => ((s - start) / Math.max(1, end - start)) * W;
    const y = (v) => pad + (1 - (v - lo) / (hi - lo)) * (H - 2 * pad);
    for (let n = 0; n < neurons.length; n++) {
      ctx.strokeStyle = COLORS[n % COLORS.length];
      ctx.beginPath();
      let pen = false;
      for (let k = 0; k < samples.steps.length; k++) {
        const v = samples.values[k][n];
        if (v === null) { pen = false; continue; }
        if (pen) ctx.lineTo(x(samples.steps[k]), y(v));
        else ctx.moveTo(x(samples.steps[k]), y(v));
        pen = true;
      }
      ctx.stroke();
    }
    ctx.fillStyle = '#c9d1e8';
    ctx.fillText(`${label}  max ${hi.toPrecision(4)}`, 4, 11);
    ctx.fillText(`min ${lo.toPrecision(4)}`, 4, H - 3);
  }
}
