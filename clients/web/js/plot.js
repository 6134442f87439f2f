// plot.js: what the raster, the rate plot and the traces share: a canvas sized to its CSS
// box (times devicePixelRatio, so labels stay sharp and readable from 800 px to 1400 px
// wide), "nice" tick values, and axes with ticks, tick labels and axis titles with units.
//
// Contract: sizeCanvas() must run at the start of each draw; it returns a context whose
// units are CSS pixels. plotBox() gives the data area inside the margins; drawAxes() draws
// the frame, ticks and labels around it and records them on the canvas for tests:
//   data-x-label, data-y-label   the axis titles as drawn
//   data-x-ticks, data-y-ticks   number of tick labels drawn

export const COLORS = ['#ff6b6b', '#4dabf7', '#69db7c', '#ffd43b', '#da77f2', '#ffa94d',
  '#38d9a9', '#f783ac'];
export const BACKGROUND = '#0b1020';
export const AXIS = '#8892b0';
export const TEXT = '#c9d1e8';
export const FONT = '12px system-ui, sans-serif';
export const MARGIN = { left: 62, right: 12, top: 10, bottom: 38 };

// Resizes the canvas backing store to its CSS size; returns {ctx, W, H} in CSS pixels.
export function sizeCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const r = canvas.getBoundingClientRect();
  const W = Math.max(100, Math.round(r.width || canvas.width));
  const H = Math.max(60, Math.round(r.height || canvas.height));
  if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(H * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.font = FONT;
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, W, H);
  return { ctx, W, H };
}

export function plotBox(W, H, margin = MARGIN) {
  return { x: margin.left, y: margin.top, w: Math.max(10, W - margin.left - margin.right),
    h: Math.max(10, H - margin.top - margin.bottom) };
}

// About n round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten).
export function niceTicks(lo, hi, n = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, n);
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || 10 * p;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

// A tick label without float noise (0.30000000000000004 -> 0.3).
export function fmt(v) {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

// Frame, ticks and titles around box. xr, yr: [lo, hi] data ranges (y grows upwards unless
// yDown). Returns {x(v), y(v)} mapping data to canvas coordinates.
export function drawAxes(canvas, ctx, box, xr, yr, xLabel, yLabel, { yDown = false, yTicks } = {}) {
  const x = (v) => box.x + ((v - xr[0]) / ((xr[1] - xr[0]) || 1)) * box.w;
  const y = yDown
    ? (v) => box.y + ((v - yr[0]) / ((yr[1] - yr[0]) || 1)) * box.h
    : (v) => box.y + box.h - ((v - yr[0]) / ((yr[1] - yr[0]) || 1)) * box.h;
  ctx.strokeStyle = AXIS;
  ctx.lineWidth = 1;
  ctx.strokeRect(box.x - 0.5, box.y - 0.5, box.w + 1, box.h + 1);
  ctx.fillStyle = TEXT;
  ctx.font = FONT;
  const xt = niceTicks(xr[0], xr[1], Math.max(2, Math.floor(box.w / 90)));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const v of xt) {
    const px = Math.round(x(v)) + 0.5;
    ctx.fillStyle = AXIS;
    ctx.fillRect(px - 0.5, box.y + box.h, 1, 4);
    ctx.fillStyle = TEXT;
    ctx.fillText(fmt(v), px, box.y + box.h + 6);
  }
  const yt = yTicks || niceTicks(Math.min(yr[0], yr[1]), Math.max(yr[0], yr[1]),
    Math.max(2, Math.floor(box.h / 40)));
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of yt) {
    const py = Math.round(y(v)) + 0.5;
    ctx.fillStyle = AXIS;
    ctx.fillRect(box.x - 4, py - 0.5, 4, 1);
    ctx.fillStyle = TEXT;
    ctx.fillText(fmt(v), box.x - 6, py);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText(xLabel, box.x + box.w / 2, box.y + box.h + 36);
  ctx.save();
  ctx.translate(13, box.y + box.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(yLabel, 0, 0);
  ctx.restore();
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  canvas.dataset.xLabel = xLabel;
  canvas.dataset.yLabel = yLabel;
  canvas.dataset.xTicks = String(xt.length);
  canvas.dataset.yTicks = String(yt.length);
  return { x, y };
}

// A legend in the top right corner of box: [{label, color}].
export function drawLegend(ctx, box, items) {
  ctx.font = FONT;
  let w = 0;
  for (const it of items) w = Math.max(w, ctx.measureText(it.label).width);
  const rows = items.length, x0 = box.x + box.w - w - 30, y0 = box.y + 6;
  ctx.fillStyle = 'rgba(11,16,32,0.8)';
  ctx.fillRect(x0 - 4, y0 - 2, w + 30, rows * 16 + 4);
  items.forEach((it, k) => {
    ctx.fillStyle = it.color;
    ctx.fillRect(x0, y0 + k * 16 + 3, 14, 3);
    ctx.fillStyle = TEXT;
    ctx.textBaseline = 'top';
    ctx.fillText(it.label, x0 + 20, y0 + k * 16 - 2);
  });
  ctx.textBaseline = 'alphabetic';
}
