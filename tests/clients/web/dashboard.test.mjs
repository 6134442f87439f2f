// dashboard.test.mjs: the dashboard (clients/web) in headless Debian chromium, driven by
// playwright-core, against real `spiked --demo` servers on ephemeral loopback ports.
//
// Environment: SPIKED_BIN (the server), SK_NODE_PREFIX (folder whose node_modules holds
// playwright-core, default this folder), SK_ARTIFACTS (where screenshots go, default a temp
// folder), CHROMIUM (default /usr/bin/chromium). Servers and the browser are stopped in the
// after() hooks and, as a last resort, on process exit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(process.env.SK_NODE_PREFIX || here, 'index.js'));
const { chromium } = require('playwright-core');

const BIN = process.env.SPIKED_BIN;
const ARTIFACTS = process.env.SK_ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), 'sk-web-'));
const TOKEN = 'dashboard-test-token';
const BACKGROUND = [11, 16, 32]; // raster.js BACKGROUND
const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

// Polls fn() until it returns a truthy value; fails after `ms` milliseconds.
async function until(fn, what, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Starts spiked on an ephemeral port; resolves to {url, stop()}.
async function startServer(tag, extra = []) {
  assert.ok(BIN, 'set SPIKED_BIN to the spiked binary');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sk-web-${tag}-`));
  const log = fs.openSync(path.join(ARTIFACTS, `spiked-${tag}.log`), 'w');
  const proc = spawn(BIN, ['--port', '0', '--data-dir', path.join(dir, 'data'), '--demo', ...extra],
    { stdio: ['ignore', 'pipe', log] });
  children.add(proc);
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await done;
      clearTimeout(t);
    }
    children.delete(proc);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  let out = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => { out += d; });
  try {
    const port = await until(() => (/^port=(\d+)$/m.exec(out) || [])[1], `${tag}: port=N line`);
    return { url: `http://127.0.0.1:${port}`, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function launchBrowser() {
  const exe = process.env.CHROMIUM || '/usr/bin/chromium';
  assert.ok(fs.existsSync(exe), `${exe} not found: install chromium (packages.txt, group test)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sk-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: exe,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    ctx,
    close: async () => {
      await ctx.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Pixels of the raster that are not background, and the spike count the page says it drew.
async function rasterStats(page) {
  return page.evaluate((bg) => {
    const c = document.getElementById('raster');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] !== bg[0] || d[i + 1] !== bg[1] || d[i + 2] !== bg[2]) lit++;
    }
    return { lit, drawn: Number(c.dataset.spikesDrawn), received: Number(c.dataset.spikesReceived) };
  }, BACKGROUND);
}

// The axis titles and tick counts a plot's canvas records (plot.js).
async function axes(page, id) {
  return page.evaluate((id) => {
    const d = document.getElementById(id).dataset;
    return { x: d.xLabel, y: d.yLabel, xTicks: Number(d.xTicks), yTicks: Number(d.yTicks) };
  }, id);
}

// True when nothing on the page is wider than the window (no horizontal scrolling).
const fits = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

const stepOf = async (page) => Number(await page.locator('#step').getAttribute('data-step'));

describe('dashboard', () => {
  let server, browser, page;
  const errors = [];
  const missing = []; // 404s for anything but the API (favicon, scripts, examples)

  before(async () => {
    server = await startServer('open');
    browser = await launchBrowser();
    page = await browser.ctx.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('response', (r) => {
      if (r.status() === 404 && !new URL(r.url()).pathname.startsWith('/v1/')) missing.push(r.url());
    });
    await page.goto(server.url + '/');
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('the demo is selected and its raster draws live spikes', async () => {
    await until(async () => (await page.locator('#session-name').textContent()) === 'demo', 'demo selected');
    await until(async () => (await page.locator('#stream-state').textContent()) === 'live', 'stream live');
    const s = await until(async () => {
      const r = await rasterStats(page);
      return r.drawn > 50 && r.lit > 50 && r;
    }, 'spikes drawn on the raster');
    assert.ok(s.received >= s.drawn);
    // The step shown follows the real-time demo.
    const s0 = await stepOf(page);
    await until(async () => (await stepOf(page)) > s0, 'demo step advancing');
    // Rates per population, traces from the recorder, dropped indicator visible at 0.
    const hz = await until(async () => {
      const t = await page.locator('#rates tr[data-population="exc"] td').last().textContent();
      return Number(t) > 0 && Number(t);
    }, 'exc firing rate');
    assert.ok(hz < 1000, `exc rate ${hz} Hz`);
    await until(async () => Number(await page.locator('#traces').getAttribute('data-samples')) > 10,
      'voltage trace samples');
    assert.equal(await page.locator('#dropped').textContent(), 'dropped 0');
    assert.ok(await page.locator('#dropped').isVisible());
    assert.ok(await page.locator('#realtime-note').isVisible());
    assert.match(await page.locator('#model-note').textContent(), /conductances in one unit g/);
    assert.deepEqual(missing, [], 'no 404 for the page, its scripts or its icon');
  });

  test('the raster, the rate plot and the traces have labelled axes with units', async () => {
    const r = await axes(page, 'raster');
    assert.equal(r.x, 'time (ms)');
    assert.equal(r.y, 'neuron (index)');
    assert.ok(r.xTicks >= 3 && r.yTicks >= 3, `raster ticks ${r.xTicks} x ${r.yTicks}`);
    // The raster's right edge is the newest step's time: step x dt (dt 0.1 ms in the demo).
    const end = Number(await page.locator('#raster').getAttribute('data-t-end-ms'));
    assert.ok(end > 0, `raster end ${end} ms`);
    const rate = await until(async () => {
      const a = await axes(page, 'rate');
      const d = await page.evaluate(() => ({ ...document.getElementById('rate').dataset }));
      return Number(d.bins) >= 50 && a;
    }, 'population rate bins over the window');
    assert.equal(rate.x, 'time (ms)');
    assert.equal(rate.y, 'rate (Hz)');
    const maxHz = Number(await page.locator('#rate').getAttribute('data-max-hz'));
    assert.ok(maxHz > 0 && maxHz < 1000, `population rate peak ${maxHz} Hz`);
    const tr = await until(async () => {
      const a = await axes(page, 'traces');
      return a.y && a.y !== '' && a;
    }, 'trace axes');
    assert.equal(tr.x, 'time (ms)');
    assert.match(tr.y, /^v \(mV\)$/, 'the COBA recorder records v in mV');
    // The newest spike, its time in ms: (step + 1) x dt.
    const last = await until(async () => page.locator('#last-spike').textContent(), 'last spike');
    const [, t, step] = /at ([\d.]+) ms \(step (\d+)\)/.exec(last);
    assert.ok(Math.abs(Number(t) - (Number(step) + 1) * 0.1) < 1e-6, last);
    // Readable at 1400 px and 800 px: nothing overflows; screenshots for docs/.
    for (const width of [1400, 800]) {
      await page.setViewportSize({ width, height: 1000 });
      await new Promise((res) => setTimeout(res, 400));
      assert.ok(await fits(page), `the dashboard overflows at ${width} px`);
      const a = await axes(page, 'raster');
      assert.ok(a.xTicks >= 3, `raster time ticks at ${width} px: ${a.xTicks}`);
      await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${width}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png') });
  });

  test('Pause on the shared demo freezes this view only; the demo steps on', async () => {
    await until(() => page.locator('#btn-pause').isEnabled(), 'Pause enabled on the demo');
    const info = async () => (await fetch(`${server.url}/v1/sessions/demo`)).json();
    await page.click('#btn-pause');
    await until(async () => (await page.locator('#btn-pause').textContent()) === 'Resume view', 'view frozen');
    const before = (await info()).step;
    await new Promise((r) => setTimeout(r, 300));
    const i = await info();
    assert.equal(i.realtime, true);
    assert.ok(i.step > before, 'the demo stopped for everyone');
    // The raster keeps what it showed while frozen.
    const drawn = (await rasterStats(page)).received;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await rasterStats(page)).received, drawn, 'frozen view still receiving');
    // Asking the server to stop real time is refused for the shared demo, and said so.
    await page.click('#realtime');
    await until(() => page.locator('#banner').isVisible(), 'refusal shown');
    assert.match(await page.locator('#banner-text').textContent(), /403 forbidden at realtime/);
    await page.click('#banner-close');
    assert.equal((await info()).realtime, true);
    assert.ok(await page.locator('#realtime').isChecked());
    await page.click('#btn-pause');
    await until(async () => (await page.locator('#btn-pause').textContent()) === 'Pause', 'view live again');
    await until(async () => (await rasterStats(page)).received > 0, 'spikes again after Resume view');
  });

  test('a session created from an example steps, runs and pauses', async () => {
    await page.selectOption('#example', 'lif_poisson.json');
    await page.fill('#new-name', 'ui-lif');
    const created = page.waitForRequest((r) => r.method() === 'POST' &&
      new URL(r.url()).pathname === '/v1/sessions');
    await page.click('#btn-create');
    // The name is in the query too, for a proxy that routes by session name.
    assert.equal(new URL((await created).url()).searchParams.get('name'), 'ui-lif');
    await until(async () => (await page.locator('#session-name').textContent()) === 'ui-lif', 'ui-lif selected');
    assert.equal(await stepOf(page), 0);
    await page.fill('#chunk', '50');
    await page.click('#btn-step');
    await until(async () => (await stepOf(page)) === 50, 'step 50 after one Step');
    await until(() => page.locator('#btn-step').isEnabled(), 'Step enabled again');
    await page.click('#btn-step');
    await until(async () => (await stepOf(page)) === 100, 'step 100 after two Steps');
    await until(async () => (await rasterStats(page)).drawn > 0, 'ui-lif spikes drawn');

    // Run for a duration: 25 ms at dt 1 ms (lif_poisson.json) = 25 steps.
    await page.fill('#run-ms', '25');
    await page.click('#btn-run-for');
    await until(async () => (await stepOf(page)) === 125, 'step 125 after Run for 25 ms');
    assert.equal(await page.locator('#time').textContent(), '125');
    await until(() => page.locator('#btn-run').isEnabled(), 'Run enabled again');

    await page.click('#btn-run');
    await until(async () => (await page.locator('#status').textContent()) === 'running (this page)',
      'status pill says running while the page steps');
    await until(async () => (await stepOf(page)) >= 600, 'running past step 600');
    await page.click('#btn-pause');
    // Run and Step come back once the last step request of the run has been answered.
    await until(async () => (await page.locator('#btn-run').isEnabled()) &&
      page.locator('#btn-step').isEnabled(), 'Run and Step enabled after Pause');
    // Paused: the step the server reports stays put, and so does the page.
    const api = async () => (await (await fetch(`${server.url}/v1/sessions/ui-lif`)).json()).step;
    const paused = await api();
    await until(async () => (await stepOf(page)) === paused, 'page showing the paused step');
    const deadline = Date.now() + 1000; // observe a quiet second
    while (Date.now() < deadline) {
      assert.equal(await stepOf(page), paused);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await api(), paused);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-ui-lif.png') });

    await page.click('#btn-reset');
    await until(async () => (await stepOf(page)) === 0, 'step 0 after Reset');
  });

  test('a long step runs as a server job that Pause cancels', async () => {
    const info = async () => (await fetch(`${server.url}/v1/sessions/ui-lif`)).json();
    await page.fill('#chunk', '5000000');
    await page.click('#btn-step');
    await until(async () => /^job \d+: /.test(await page.locator('#job').textContent()), 'job shown');
    await until(() => page.locator('#btn-pause').isEnabled(), 'Pause enabled during the job');
    await page.click('#btn-pause');
    const after = await until(async () => {
      const i = await info();
      return i.status === 'idle' && !i.job && i;
    }, 'job canceled');
    assert.ok(after.step > 0 && after.step < 5000000, `step ${after.step}`);
    await until(async () => (await page.locator('#job').textContent()) === '', 'job cleared');
    await page.fill('#chunk', '100');
  });

  test('server errors are shown in the banner', async () => {
    await page.selectOption('#example', 'lif_poisson.json');
    await page.fill('#new-name', 'ui-lif'); // exists already
    await page.click('#btn-create');
    await until(() => page.locator('#banner').isVisible(), 'error banner');
    const text = await page.locator('#banner-text').textContent();
    assert.match(text, /^create: 409 conflict/);
    await page.click('#banner-close');
    await page.setInputFiles('#upload', { name: 'bad.json', mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ name: 'bad', network: { populations: [
        { name: 'a', model: 'lif', size: 0 }] } })) });
    await page.click('#btn-create');
    await until(() => page.locator('#banner').isVisible(), 'error banner for the upload');
    assert.match(await page.locator('#banner-text').textContent(),
      /400 invalid_field at network\.populations\[0\]\.size/);
    assert.deepEqual(errors, [], 'no uncaught page errors');
  });
});

describe('dashboard with a token', () => {
  let server, browser;

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sk-token-'));
    fs.writeFileSync(path.join(dir, 'token'), TOKEN);
    server = await startServer('token', ['--token-file', path.join(dir, 'token')]);
    browser = await launchBrowser();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('asks for the token, then streams with it', async () => {
    const page = await browser.ctx.newPage();
    await page.goto(server.url + '/');
    await until(() => page.locator('#banner').isVisible(), 'banner without token');
    assert.match(await page.locator('#banner-text').textContent(), /401 unauthorized/);
    assert.equal(await page.locator('#server-state').textContent(), 'token needed');
    await page.fill('#token', TOKEN);
    await page.click('#token-form button');
    await until(async () => (await page.locator('#session-name').textContent()) === 'demo', 'demo selected');
    await until(async () => (await rasterStats(page)).drawn > 0, 'spikes drawn with the token');
  });
});
