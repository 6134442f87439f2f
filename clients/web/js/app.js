// app.js: the dashboard's wiring: session list, creation (shipped examples or an uploaded
// file), the selected session's controls (step, run, run for a duration, pause, real time,
// reset, export, delete), its live event stream feeding the raster, the population rate
// plot and the rates table, and the recorder traces. Every error from the server is shown
// in the banner.
//
// Run is driven by this page: one step request of `steps` steps per animation frame until
// Pause. "Run for" sends one step request of round(ms / dt) steps (the server answers 202
// with a job when it is long). Pause stops this page's Run and cancels a server job; on a
// session the server steps in real time it freezes only this visitor's view: the shared
// --demo must not stop for everyone (the server refuses that pause unless it runs with
// --demo-pausable). The "real time" box asks the server to pause or resume real-time
// stepping (PATCH {"realtime": ...}) and shows its refusal.

import { Api, ApiError } from './api.js';
import { Raster } from './raster.js';
import { RatePlot } from './rates.js';
import { Traces } from './traces.js';

const $ = (id) => document.getElementById(id);
const api = new Api('', localStorage.getItem('spiked.token') || '');
const raster = new Raster($('raster'));
const traces = new Traces($('traces'));
new RatePlot($('rate'), raster); // eslint-disable-line no-new

const st = {
  name: null,      // selected session
  pending: null,   // session being selected
  info: null,      // its last info
  es: null,        // its EventSource
  step: 0,         // newest step known (stream, step answers, info)
  running: false,  // the page's run loop is on
  busy: false,     // a step request of this page is in flight
  dropped: 0,
  examples: [],
  units: {},       // model -> state variable -> unit (from /v1/models)
  lastSpike: null, // {t, population, id} of the newest spike received
};

// A time in ms without float noise: 22119.100000000002 -> "22119.1".
const ms = (t) => String(Number(t.toFixed(6)));

// ---- banner ----

function showError(e, prefix = '') {
  let text = e instanceof ApiError ? e.toString() : String(e && e.message ? e.message : e);
  if (e instanceof ApiError && e.status === 401) text += ' (enter the token at the top right)';
  $('banner').className = 'banner';
  $('banner-text').textContent = prefix + text;
  $('banner').hidden = false;
}

function showInfo(text) {
  $('banner').className = 'banner info';
  $('banner-text').textContent = text;
  $('banner').hidden = false;
}

$('banner-close').onclick = () => { $('banner').hidden = true; };

// Runs an async action, showing its error; resolves to its value or undefined.
async function attempt(fn, prefix) {
  try {
    return await fn();
  } catch (e) {
    showError(e, prefix);
    return undefined;
  }
}

// ---- session list ----

async function refreshSessions() {
  let list;
  try {
    list = await api.sessions();
    $('server-state').textContent = 'connected';
    $('server-state').className = 'pill ok';
  } catch (e) {
    $('server-state').textContent = e.status === 401 ? 'token needed' : 'unreachable';
    $('server-state').className = 'pill err';
    if (!refreshSessions.reported) showError(e);
    refreshSessions.reported = true;
    return;
  }
  refreshSessions.reported = false;
  const ul = $('sessions');
  ul.replaceChildren(...list.map((s) => {
    const li = document.createElement('li');
    li.dataset.name = s.name;
    li.className = s.name === st.name ? 'selected' : '';
    const n = document.createElement('span');
    n.textContent = s.name;
    const m = document.createElement('span');
    m.className = 'muted';
    m.textContent = `${s.status} · ${s.step}`;
    li.append(n, m);
    li.onclick = () => select(s.name);
    return li;
  }));
  if (!list.length) ul.innerHTML = '<li class="muted">none yet</li>';
  const names = list.map((s) => s.name);
  if (st.name && !names.includes(st.name)) unselect();
  if (!st.name && !st.pending && list.length) {
    const want = decodeURIComponent(location.hash.replace(/^#session=/, ''));
    select(names.includes(want) ? want : names.includes('demo') ? 'demo' : names[0]);
  }
}

// ---- creation ----

async function loadExamples() {
  const r = await fetch('examples/index.json');
  if (!r.ok) throw new Error(`examples/index.json: HTTP ${r.status}`);
  st.examples = (await r.json()).examples;
  $('example').replaceChildren(...st.examples.map((x) => {
    const o = document.createElement('option');
    o.value = x.file;
    o.textContent = x.file.replace(/\.json$/, '');
    o.title = x.title;
    return o;
  }));
}

async function readBody() {
  const file = $('upload').files[0];
  if (file) {
    try {
      return JSON.parse(await file.text());
    } catch (e) {
      throw new Error(`${file.name} is not valid JSON: ${e.message}`);
    }
  }
  const r = await fetch(`examples/${$('example').value}`);
  if (!r.ok) throw new Error(`example ${$('example').value}: HTTP ${r.status}`);
  return r.json();
}

$('create-form').onsubmit = async (ev) => {
  ev.preventDefault();
  await attempt(async () => {
    const body = await readBody();
    const name = $('new-name').value.trim();
    if (name) body.name = name;
    const info = await api.create(body);
    $('upload').value = '';
    $('new-name').value = '';
    $('banner').hidden = true;
    await select(info.name);
    await refreshSessions();
  }, 'create: ');
};

// ---- selection and the event stream ----

function unselect() {
  if (st.es) st.es.close();
  st.es = null;
  st.name = null;
  st.info = null;
  st.running = false;
  $('view').hidden = true;
  $('empty').hidden = false;
}

async function select(name) {
  if (st.name === name || st.pending === name) return;
  unselect();
  st.pending = name;
  const info = await attempt(() => api.info(name));
  if (st.pending !== name) return; // another selection came after this one
  st.pending = null;
  if (!info) return;
  st.name = name;
  st.dropped = 0;
  location.hash = `session=${encodeURIComponent(name)}`;
  $('view').hidden = false;
  $('empty').hidden = true;
  $('session-name').textContent = name;
  raster.frozen = false;
  raster.setPopulations(info.populations, info.dt);
  st.lastSpike = null;
  $('last-spike').textContent = '';
  raster.clear(info.step);
  applyWindow(info);
  $('legend').replaceChildren(...raster.pops.flatMap((p) => {
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = p.color;
    return [sw, document.createTextNode(p.name)];
  }));
  $('recorder').replaceChildren(...info.recorders.flatMap((r, k) => r.variables.map((v) => {
    const o = document.createElement('option');
    o.value = `${k}:${v}`;
    o.textContent = `${r.population}.${v} (${r.n_neurons} neurons)`;
    return o;
  })));
  const models = new Set(info.populations.map((p) => p.model));
  $('model-note').hidden = !models.has('coba_lif');
  $('model-note').textContent = models.has('coba_lif')
    ? 'coba_lif: v in mV; g_e, g_i, weights and inputs are conductances in one unit g of your ' +
      'choice (g_l = 1: g is the leak conductance); c_m_inv = g / C per second. A "current" ' +
      'input adds conductance. Units and a working set: docs/models.md.' : '';
  st.step = info.step;
  showSession(info);
  showDropped();
  openStream(name);
  for (const li of $('sessions').children) li.classList.toggle('selected', li.dataset.name === name);
}

function openStream(name) {
  $('stream-state').textContent = 'connecting';
  st.es = api.events(name, {
    spikes: (b) => {
      raster.addBatch(b);
      setStep(b.to_step);
      const e = b.spikes[b.spikes.length - 1];
      if (e && !raster.frozen) showLastSpike(e);
    },
    progress: (job) => showJob(job),
    dropped: (d) => { st.dropped += d.count; showDropped(); },
    lifecycle: (d) => {
      if (d.event === 'reset') { raster.clear(d.step); st.step = d.step; setStep(d.step); }
      if (d.event === 'deleted') {
        showInfo(`session ${d.session} was deleted`);
        unselect();
        refreshSessions();
      }
    },
    onopen: () => { $('stream-state').textContent = 'live'; $('stream-state').className = 'pill ok'; },
    onerror: () => {
      if (!st.es) return;
      const closed = st.es.readyState === EventSource.CLOSED;
      $('stream-state').textContent = closed ? 'closed' : 'reconnecting';
      $('stream-state').className = 'pill warn';
      if (closed) showError(`the event stream of ${name} was refused (session gone, or the token is wrong)`);
    },
  });
}

// ---- display ----

function setStep(step) {
  st.step = Math.max(st.step, step);
  $('step').textContent = String(st.step);
  $('step').dataset.step = String(st.step);
  if (st.info) $('time').textContent = ms(st.step * st.info.dt);
}

// The newest spike, with its time in ms (the server's time_ms: (step + 1) * dt).
function showLastSpike(e) {
  const t = e.time_ms ?? (e.step + 1) * st.info.dt;
  const el = $('last-spike');
  el.textContent = `last spike: ${e.population}[${e.ids[e.ids.length - 1]}] at ${ms(t)} ms ` +
    `(step ${e.step})`;
  el.dataset.timeMs = String(t);
}

function realtime(info) {
  return info.realtime === true;
}

function showSession(info) {
  st.info = info;
  // The server says idle between the step requests of this page's Run: say what runs.
  const status = st.running && info.status === 'idle' ? 'running (this page)' : info.status;
  $('status').textContent = status;
  $('status').className = `pill ${status.startsWith('running') ? 'ok' : ''}`;
  $('realtime').checked = realtime(info);
  $('sizes').textContent = `${info.n_neurons} neurons · ${info.n_synapses} synapses · dt ${info.dt} ms`;
  $('realtime-note').hidden = !realtime(info);
  if (info.step < st.step && info.status === 'idle' && !st.busy) st.step = info.step; // reset elsewhere
  setStep(info.step);
  showJob(info.job);
  showButtons();
}

function showJob(job) {
  $('job').textContent = job && (job.state === 'running' || job.state === 'queued')
    ? `job ${job.id}: ${job.done}/${job.total} steps` : '';
}

function showDropped() {
  const d = $('dropped');
  d.textContent = `dropped ${st.dropped}`;
  d.dataset.dropped = String(st.dropped);
  d.className = `pill ${st.dropped ? 'warn' : ''}`;
}

function showButtons() {
  const info = st.info;
  const job = info && info.job && ['queued', 'running'].includes(info.job.state);
  $('btn-step').disabled = !info || st.running || st.busy;
  $('btn-run').disabled = !info || st.running || st.busy;
  $('btn-run-for').disabled = !info || st.running || st.busy;
  $('btn-pause').disabled = !info || !(st.running || job || realtime(info) || raster.frozen);
  $('btn-pause').textContent = raster.frozen ? 'Resume view' : 'Pause';
  $('btn-reset').disabled = !info;
  if (info) {
    const s = $('status');
    if (st.running && info.status === 'idle') { s.textContent = 'running (this page)'; s.className = 'pill ok'; }
    else if (!st.running && s.textContent === 'running (this page)') { s.textContent = info.status; s.className = 'pill'; }
  }
}

function applyWindow(info = st.info) {
  const ms = Math.max(1, Number($('window-ms').value) || 200);
  raster.setWindow(ms / info.dt);
}

function showRates() {
  if (!st.info) return;
  const { counts, steps } = raster.counts();
  const secs = (steps * st.info.dt) / 1000;
  $('rates').tBodies[0].replaceChildren(...raster.pops.map((p, k) => {
    const tr = document.createElement('tr');
    tr.dataset.population = p.name;
    const hz = secs > 0 ? counts[k] / (p.size * secs) : 0;
    for (const v of [p.name, p.size, counts[k], hz.toFixed(2)]) {
      const td = document.createElement('td');
      td.textContent = String(v);
      tr.append(td);
    }
    tr.firstChild.style.color = p.color;
    return tr;
  }));
}

async function refreshTraces() {
  const info = st.info;
  const sel = $('recorder').value;
  if (!info || !sel) return;
  const [index, variable] = [Number(sel.split(':')[0]), sel.slice(sel.indexOf(':') + 1)];
  if (raster.frozen) return;
  const end = st.step, start = Math.max(0, end - raster.windowSteps);
  const samples = { steps: [], values: [] };
  let from = start, page = null;
  for (let pages = 0; pages < 8; pages++) {
    page = await api.recordings(info.name, index, from);
    for (const s of page.samples) {
      samples.steps.push(s.step);
      samples.values.push(s.values[variable]);
    }
    if (page.next_from_step === undefined || page.next_from_step <= from) break;
    from = page.next_from_step;
  }
  if (!Object.keys(st.units).length) await loadUnits().catch(() => {});
  const rec = info.recorders[index];
  const pop = info.populations.find((p) => p.name === rec.population);
  const unit = pop && (st.units[pop.model] || {})[variable];
  const label = unit === undefined ? variable
    : unit === '1' ? `${variable} (dimensionless)` : `${variable} (${unit})`;
  if (st.info === info) {
    traces.draw(samples, page ? page.neurons : [], start, end, label, info.dt, rec.population);
  }
}

// ---- controls ----

function chunk() {
  return Math.max(1, Math.floor(Number($('chunk').value) || 1));
}

async function stepOnce(name, steps = chunk()) {
  st.busy = true;
  showButtons();
  try {
    const r = await api.step(name, steps);
    if (r.job) showJob(r.job);
    else if (st.name === name) setStep(r.to_step);
  } finally {
    st.busy = false;
    showButtons();
  }
}

$('btn-step').onclick = () => attempt(() => stepOnce(st.name), 'step: ');

$('btn-run').onclick = async () => {
  const name = st.name;
  st.running = true;
  raster.frozen = false;
  showButtons();
  try {
    while (st.running && st.name === name) {
      await stepOnce(name);
      await new Promise((r) => requestAnimationFrame(r));
    }
  } catch (e) {
    showError(e, 'run: ');
  }
  st.running = false;
  showButtons();
};

$('btn-run-for').onclick = () => attempt(async () => {
  const want = Number($('run-ms').value);
  if (!(want > 0)) throw new Error('run for: enter a duration in ms above 0');
  const steps = Math.max(1, Math.round(want / st.info.dt));
  await stepOnce(st.name, steps);
}, 'run for: ');

// Pause: this page's Run stops, a server job is canceled; a real-time session is not
// stopped (it may be shared): this visitor's view freezes instead, and resumes on the
// second click.
$('btn-pause').onclick = () => attempt(async () => {
  if (raster.frozen) {
    raster.frozen = false;
    raster.clear(st.step);
    showButtons();
    return;
  }
  st.running = false;
  const info = await api.info(st.name);
  if (info.job && ['queued', 'running'].includes(info.job.state)) await api.cancelJob(st.name, info.job.id);
  if (realtime(info) && !info.job) {
    raster.frozen = true;
    raster.dirty = true;
  }
  showSession(await api.info(st.name));
}, 'pause: ');

$('realtime').onchange = () => attempt(async () => {
  const want = $('realtime').checked;
  try {
    showSession(await api.setRealtime(st.name, want));
  } finally {
    $('realtime').checked = st.info ? realtime(st.info) : false;
  }
}, 'real time: ');

// Export: the spikes of the window as CSV (time_ms, step, population, neuron), headed by
// the session's provenance (name, seed, dt, step, models, server version).
$('btn-export').onclick = () => attempt(async () => {
  const info = await api.info(st.name);
  let version = '';
  try { version = (await api.get('/openapi.json')).info.version; } catch (e) { version = '?'; }
  const lines = [
    `# spiked export: session ${info.name}, seed ${info.seed}, dt ${info.dt} ms, ` +
      `at step ${info.step} (${ms(info.step * info.dt)} ms), server API ${version}`,
    `# populations: ${info.populations.map((p) => `${p.name}=${p.model} x ${p.size}`).join(', ')}`,
    '# spike time_ms = (step + 1) * dt (NEST rule)',
    'time_ms,step,population,neuron',
  ];
  for (const e of raster.entries) {
    const name = raster.pops[e.pop].name;
    for (const id of e.ids) lines.push(`${ms(e.t)},${e.step},${name},${id}`);
  }
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([lines.join('\n') + '\n'], { type: 'text/csv' }));
  a.download = `${info.name}-spikes-${info.step}.csv`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}, 'export: ');

$('btn-reset').onclick = () => attempt(async () => {
  st.running = false;
  const info = await api.reset(st.name);
  raster.clear(info.step);
  const models = new Set(info.populations.map((p) => p.model));
  $('model-note').hidden = !models.has('coba_lif');
  $('model-note').textContent = models.has('coba_lif')
    ? 'coba_lif: v in mV; g_e, g_i, weights and inputs are conductances in one unit g of your ' +
      'choice (g_l = 1: g is the leak conductance); c_m_inv = g / C per second. A "current" ' +
      'input adds conductance. Units and a working set: docs/models.md.' : '';
  st.step = info.step;
  showSession(info);
}, 'reset: ');

$('btn-delete').onclick = () => attempt(async () => {
  if (!confirm(`Delete session ${st.name}?`)) return;
  await api.remove(st.name);
  unselect();
  await refreshSessions();
}, 'delete: ');

$('window-ms').onchange = () => st.info && applyWindow();
$('recorder').onchange = () => attempt(refreshTraces, 'recordings: ');

$('token').value = api.token;
$('token-form').onsubmit = (ev) => {
  ev.preventDefault();
  api.token = $('token').value.trim();
  localStorage.setItem('spiked.token', api.token);
  $('banner').hidden = true;
  const name = st.name;
  unselect();
  refreshSessions().then(() => name && select(name));
};

// ---- polling ----

async function poll() {
  await refreshSessions();
  if (st.name) {
    const info = await attempt(() => api.info(st.name));
    if (info && info.name === st.name) showSession(info);
    if (st.name) await attempt(refreshTraces, 'recordings: ');
  }
}

async function loadUnits() {
  const r = await api.get('/v1/models');
  for (const m of r.models) st.units[m.name] = Object.fromEntries(m.state.map((v) => [v.name, v.unit]));
}

async function start() {
  await attempt(loadExamples, 'examples: ');
  await loadUnits().catch(() => {}); // without the token: again once it is entered
  await poll();
  setInterval(showRates, 500);
  (async function loop() {
    await poll();
    setTimeout(loop, 1000);
  })();
}

start();
