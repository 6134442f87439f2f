// raster.js: the live spike raster: a canvas showing the last `windowSteps` steps, time
// scrolling to the left, one row per neuron (global id = population offset + id), one
// colour per population. Also counts spikes per population inside the window (firing rates).
//
// The canvas exposes what it drew for tests and curious users:
//   data-spikes-drawn     spikes drawn in the last frame
//   data-spikes-received  spikes received since the last clear

export const COLORS = ['#ff6b6b', '#4dabf7', '#69db7c', '#ffd43b', '#da77f2', '#ffa94d',
  '#38d9a9', '#f783ac'];
export const BACKGROUND = '#0b1020';

export class Raster {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.pops = [];            // [{name, offset, size, color}]
    this.total = 1;            // neurons in all populations
    this.windowSteps = 1000;
    this.entries = [];         // [{step, pop (index), ids}], steps ascending
    this.latest = 0;           // the step after the newest batch (its to_step)
    this.received = 0;
    this.dirty = true;
    this.frame = this.frame.bind(this);
    requestAnimationFrame(this.frame);
  }

  // populations: the session info's populations (name, offset, size).
  setPopulations(populations) {
    this.pops = populations.map((p, k) => ({
      name: p.name, offset: p.offset, size: p.size, color: COLORS[k % COLORS.length],
    }));
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

  // A `spikes` event of the stream (SpikeBatch).
  addBatch(batch) {
    if (this.first === null) this.first = batch.from_step;
    for (const e of batch.spikes) {
      const k = this.index.get(e.population);
      if (k === undefined) continue;
      this.entries.push({ step: e.step, pop: k, ids: e.ids });
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

  frame() {
    if (this.dirty) this.draw();
    requestAnimationFrame(this.frame);
  }

  draw() {
    const { ctx, canvas } = this;
    const W = canvas.width, H = canvas.height;
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, W, H);
    const start = this.latest - this.windowSteps;
    const dx = W / this.windowSteps, dy = H / this.total;
    const w = Math.max(1, dx), h = Math.max(1, dy);
    let drawn = 0;
    for (let k = 0; k < this.pops.length; k++) {
      const p = this.pops[k];
      ctx.fillStyle = p.color;
      for (const e of this.entries) {
        if (e.pop !== k) continue;
        const x = (e.step - start) * dx;
        for (const id of e.ids) ctx.fillRect(x, (p.offset + id) * dy, w, h);
        drawn += e.ids.length;
      }
      if (k > 0) { // boundary between populations
        ctx.fillStyle = 'rgba(255,255,255,0.15)';
        ctx.fillRect(0, Math.floor(p.offset * dy), W, 1);
      }
    }
    canvas.dataset.spikesDrawn = String(drawn);
    canvas.dataset.spikesReceived = String(this.received);
    this.dirty = false;
  }
}
