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

const stepOf = async (page) => Number(await page.locator('#step').getAttribute('data-step'));

describe('dashboard', () => {
  let server, browser, page;
  const errors = [];

  before(async () => {
    server = await startServer('open');
    browser = await launchBrowser();
    page = await browser.ctx.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
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
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png') });
  });

  test('Pause stops the demo stepping in real time', async () => {
    await until(() => page.locator('#btn-pause').isEnabled(), 'Pause enabled on the demo');
    await page.click('#btn-pause');
    await until(async () => !(await page.locator('#realtime-note').isVisible()), 'real-time note gone');
    const info = async () => (await fetch(`${server.url}/v1/sessions/demo`)).json();
    const paused = (await info()).step;
    assert.equal((await info()).realtime, false);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await info()).step, paused, 'the demo steps on after Pause');
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

    await page.click('#btn-run');
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
