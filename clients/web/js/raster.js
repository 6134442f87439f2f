// raster.js: the live spike raster: the last `windowSteps` steps, time scrolling to the
// left, one row per neuron (global index = population offset + id), one colour per
// population, with a time axis in ms (spike time = (step + 1) * dt, the server's time_ms),
// a neuron axis and the population names. Also counts spikes per population inside the
// window (firing rates) and bins them over time (rates.js draws that).
//
// The canvas exposes what it drew for tests and curious users:
//   data-spikes-drawn     spikes drawn in the last frame
//   data-spikes-received  spikes received since the last clear
//   data-t-end-ms         the time at the right edge (ms)
//   data-x-label, data-y-label, data-x-ticks, data-y-ticks   (plot.js)

import { BACKGROUND, COLORS, TEXT, drawAxes, plotBox, sizeCanvas } from './plot.js';

export { BACKGROUND, COLORS };

export class Raster {
  constructor(canvas) {
    this.canvas = canvas;
    this.pops = [];            // [{name, offset, size, color}]
    this.total = 1;            // neurons in all populations
    this.dt = 1;               // ms per step
    this.windowSteps = 1000;
    this.entries = [];         // [{step, t (ms), pop (index), ids}], steps ascending
    this.latest = 0;           // the step after the newest batch (its to_step)
    this.received = 0;
    this.frozen = false;       // this visitor's view is frozen (the session runs on)
    this.dirty = true;
    this.listeners = [];       // called after each draw
    this.frame = this.frame.bind(this);
    requestAnimationFrame(this.frame);
    window.addEventListener('resize', () => { this.dirty = true; });
  }

  // populations: the session info's populations (name, offset, size); dt in ms.
  setPopulations(populations, dt = 1) {
    this.pops = populations.map((p, k) => ({
      name: p.name, offset: p.offset, size: p.size, color: COLORS[k % COLORS.length],
    }));
    this.dt = dt;
    this.index = new Map(this.pops.map((p, k) => [p.name, k]));
    this.total = Math.max(1, this.pops.reduce((n, p) => n + p.size, 0));
    this.clear();
  }

  setWindow(steps) {
    this.windowSteps = Math.max(10, Math.round(steps));
    this.prune();
    this.dirty = true;
  }

  clear(step = 0) {
    this.entries = [];
    this.latest = step;
    this.first = null;
    this.received = 0;
    this.dirty = true;
  }

  // A `spikes` event of the stream (SpikeBatch). While frozen, batches are not kept.
  addBatch(batch) {
    if (this.frozen) return;
    if (this.first === null) this.first = batch.from_step;
    for (const e of batch.spikes) {
      const k = this.index.get(e.population);
      if (k === undefined) continue;
      const t = e.time_ms ?? (e.step + 1) * this.dt;
      this.entries.push({ step: e.step, t, pop: k, ids: e.ids });
      this.received += e.ids.length;
    }
    this.latest = Math.max(this.latest, batch.to_step);
    this.prune();
    this.dirty = true;
  }

  prune() {
    const start = this.latest - this.windowSteps;
    let cut = 0;
    while (cut < this.entries.length && this.entries[cut].step < start) cut++;
    if (cut) this.entries.splice(0, cut);
  }

  // Spikes per population within the window and the window's length in steps.
  counts() {
    const n = this.pops.map(() => 0);
    for (const e of this.entries) n[e.pop] += e.ids.length;
    const span = Math.min(this.windowSteps, this.latest - (this.first ?? this.latest));
    return { counts: n, steps: span };
  }

  // The window in ms: [end - windowSteps * dt, end], end = latest * dt.
  range() {
    const end = this.latest * this.dt;
    return [end - this.windowSteps * this.dt, end];
  }

  // Population rates over time: bins of binSteps steps covering the window; rates in Hz.
  // Returns {t0 (ms), binMs, rates: [[Hz per bin] per population], valid: first bin with data}.
  binned(nBins = 100) {
    const binSteps = Math.max(1, Math.ceil(this.windowSteps / nBins));
    const bins = Math.ceil(this.windowSteps / binSteps);
    const startStep = this.latest - bins * binSteps;
    const rates = this.pops.map(() => new Float64Array(bins));
    for (const e of this.entries) {
      const b = Math.floor((e.step - startStep) / binSteps);
      if (b >= 0 && b < bins) rates[e.pop][b] += e.ids.length;
    }
    const secs = (binSteps * this.dt) / 1000;
    this.pops.forEach((p, k) => { for (let b = 0; b < bins; b++) rates[k][b] /= p.size * secs; });
    const firstStep = this.first ?? this.latest;
    const valid = Math.max(0, Math.ceil((firstStep - startStep) / binSteps));
    return { t0: startStep * this.dt, binMs: binSteps * this.dt, rates, valid };
  }

  frame() {
    if (this.dirty) {
      this.draw();
      for (const f of this.listeners) f();
    }
    requestAnimationFrame(this.frame);
  }

  draw() {
    const { canvas } = this;
    const { ctx, W, H } = sizeCanvas(canvas);
    const box = plotBox(W, H);
    const [t0, t1] = this.range();
    const tick = this.total > 1 ? undefined : [0];
    const map = drawAxes(canvas, ctx, box, [t0, t1], [0, this.total],
      'time (ms)', 'neuron (index)', { yDown: true, yTicks: tick });
    const dy = box.h / this.total;
    const w = Math.max(1, (box.w / this.windowSteps) * 0.9), h = Math.max(1, dy);
    let drawn = 0;
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.x, box.y, box.w, box.h);
    ctx.clip();
    for (let k = 0; k < this.pops.length; k++) {
      const p = this.pops[k];
      ctx.fillStyle = p.color;
      for (const e of this.entries) {
        if (e.pop !== k) continue;
        const x = map.x(e.t) - w;
        for (const id of e.ids) ctx.fillRect(x, map.y(p.offset + id), w, h);
        drawn += e.ids.length;
      }
      if (k > 0) { // boundary between populations
        ctx.fillStyle = 'rgba(255,255,255,0.25)';
        ctx.fillRect(box.x, Math.floor(map.y(p.offset)), box.w, 1);
      }
    }
    ctx.restore();
    // population names at the left edge of their bands
    ctx.font = '11px system-ui, sans-serif';
    for (const p of this.pops) {
      const yTop = map.y(p.offset), yBot = map.y(p.offset + p.size);
      if (yBot - yTop < 12) continue;
      ctx.fillStyle = 'rgba(11,16,32,0.7)';
      const label = `${p.name} (${p.size})`;
      ctx.fillRect(box.x + 2, yTop + 2, ctx.measureText(label).width + 6, 14);
      ctx.fillStyle = p.color;
      ctx.textBaseline = 'top';
      ctx.fillText(label, box.x + 5, yTop + 4);
    }
    ctx.textBaseline = 'alphabetic';
    if (this.frozen) {
      ctx.fillStyle = TEXT;
      ctx.textAlign = 'right';
      ctx.fillText('view frozen (the session runs on)', box.x + box.w - 6, box.y + 14);
      ctx.textAlign = 'left';
    }
    canvas.dataset.spikesDrawn = String(drawn);
    canvas.dataset.spikesReceived = String(this.received);
    canvas.dataset.tEndMs = String(t1);
    this.dirty = false;
  }
}
