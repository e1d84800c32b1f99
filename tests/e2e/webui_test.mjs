#!/usr/bin/env node
// The web console in a real browser (Debian's chromium, driven by playwright-core): the VM
// list, Start, Pause/Resume, the serial console with a command typed into it, Stop; and,
// without the token, 401 from the API and nothing shown.
//
//   webui_test.mjs --vessel build/vessel --guest-dir guests/cache/debian --webui-dir build/webui \
//                  --screenshot FILE
//   webui_test.mjs --fake tests/e2e/fake_daemon.py --webui-dir build/webui --screenshot FILE
//
// With --vessel the test starts `vessel daemon` on a state directory of its own, defines a VM
// with the Debian reference guest and boots it from the page. With --fake a Python stand-in
// serves the same API (no guest: a fake shell answers), for working on the page alone.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

const { values: args } = parseArgs({
  options: {
    vessel: { type: 'string' },
    'guest-dir': { type: 'string' },
    fake: { type: 'string' },
    'webui-dir': { type: 'string' },
    screenshot: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    'boot-timeout': { type: 'string', default: '180' },
  },
});
if (!args.screenshot) fail('--screenshot is required');
if (Boolean(args.vessel) === Boolean(args.fake)) fail('give either --vessel or --fake');
if (args.vessel && !args['guest-dir']) fail('--vessel needs --guest-dir');
if (!args['webui-dir']) fail('--webui-dir is required');
const bootTimeoutMs = Number(args['boot-timeout']) * 1000;
const kStepTimeoutMs = 30_000;
const kPrompt = 'vessel:/#';

function fail(message) {
  console.error(`webui_test: ${message}`);
  process.exit(1);
}

function loadPlaywright() {
  const require = createRequire(path.join(repo, 'web/package.json'));
  try {
    return require('playwright-core');
  } catch {
    fail('playwright-core is not in web/node_modules: run scripts/deps.sh');
  }
}

// The servers under test, started here; each resolves to {base, token, vm, stop}.
function startFake() {
  const child = spawn('python3', [args.fake, '--webui-dir', args['webui-dir']], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('the fake daemon did not start in 10 s')), 10_000);
    child.on('exit', (code) => reject(new Error(`the fake daemon exited with status ${code}`)));
    lines.on('line', (line) => {
      const m = /^listening on (\S+) token (\S+)$/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      resolve({ base: m[1], token: m[2], vm: 'alpha', stop: async () => child.kill() });
    });
  });
}

async function api(server, method, apiPath, body) {
  const response = await fetch(`${server.base}${apiPath}`, {
    method,
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${apiPath}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// `vessel daemon` on a state directory of its own and a free loopback port, with one VM of the
// Debian reference guest defined. Stopping it removes the VM first: the daemon leaves running
// VMs running when it ends.
async function startDaemon() {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'vessel-webui-test-'));
  const argv = ['daemon', '--state-dir', state, '--listen-tcp', '127.0.0.1:0', '--ui-dir', args['webui-dir'],
    '--allow-dir', args['guest-dir']];
  const child = spawn(args.vessel, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let exited = null;
  const gone = new Promise((resolve) => child.on('exit', (code, signal) => resolve((exited = signal ?? code))));
  const server = { base: '', token: '', vm: 'webui-test', defined: false };
  server.stop = async () => {
    if (server.defined) {
      await api(server, 'DELETE', `/api/v1/vms/${server.vm}?force=true`).catch((e) => console.error(`cleanup: ${e.message}`));
    }
    if (exited === null) {
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (exited === null) child.kill('SIGKILL');
    }
    fs.rmSync(state, { recursive: true, force: true });
  };
  try {
    // "vessel daemon: serving SOCKET and http://127.0.0.1:PORT/ (token in DIR/token)"
    const first = await new Promise((resolve, reject) => {
      const lines = readline.createInterface({ input: child.stdout });
      const timer = setTimeout(() => reject(new Error('vessel daemon said nothing in 30 s')), 30_000);
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve(line);
      });
      gone.then((status) => reject(new Error(`vessel daemon exited (${status}) before it served`)));
    });
    const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(first);
    if (!m || first.includes('no web console')) {
      throw new Error(`vessel daemon: unexpected first line: ${first}`);
    }
    server.base = m[1];
    server.token = fs.readFileSync(path.join(state, 'token'), 'utf8').trim();
    const guest = args['guest-dir'];
    await api(server, 'POST', '/api/v1/vms', {
      name: server.vm,
      kernel: path.join(guest, 'Image'),
      initrd: path.join(guest, 'initrd.cpio.gz'),
      append: 'console=ttyS0',
      cpus: 1,
      memory_mib: 128,
    });
    server.defined = true;
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

// The terminal's visible lines as a person reads them (xterm's DOM renderer puts no-break
// spaces where the screen has spaces).
async function terminalLines(page) {
  const text = await page.locator('#terminal .xterm-rows').innerText();
  return text.replaceAll('\u00a0', ' ').split('\n').map((l) => l.trimEnd());
}

async function waitForLine(page, what, test, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = await terminalLines(page);
    if (lines.some(test)) return;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not seen in ${timeoutMs / 1000} s; the terminal shows:\n${lines.filter(Boolean).join('\n')}`);
    }
    await page.waitForTimeout(200);
  }
}

// Waits for the console's status line to contain `text`; a timeout names what it showed instead.
async function consoleStatus(page, what, text) {
  const status = page.locator('#console-status');
  try {
    await status.filter({ hasText: text }).waitFor({ timeout: kStepTimeoutMs });
  } catch (e) {
    throw new Error(`${what}: the console status is "${await status.innerText()}", not "${text}" after ${kStepTimeoutMs / 1000} s`);
  }
}

// Without the token: the page loads (it holds no secret) but every API call it makes is
// refused, and no VM appears.
async function checkWithoutToken(browser, server) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const listCall = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/vms');
  await page.goto(`${server.base}/`);
  const status = (await listCall).status();
  if (status !== 401) throw new Error(`GET /api/v1/vms without the token answered ${status}, not 401`);
  await page.locator('#status.error', { hasText: 'token' }).waitFor({ timeout: kStepTimeoutMs });
  const rows = await page.locator('#vms tbody tr').count();
  if (rows !== 0) throw new Error(`without the token the page shows ${rows} VM rows`);
  // The same from the page's own origin by hand: a start is refused too.
  const start = await page.evaluate(
    async (name) => (await fetch(`/api/v1/vms/${name}/start`, { method: 'POST' })).status, server.vm);
  if (start !== 401) throw new Error(`POST start without the token answered ${start}, not 401`);
  await context.close();
  console.log('without the token: GET /api/v1/vms 401, POST start 401, no VM shown');
}

async function checkWithToken(browser, server) {
  const vmName = server.vm;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${server.base}/?token=${encodeURIComponent(server.token)}`);
  const row = page.locator(`#vms tr[data-vm="${vmName}"]`);
  await row.and(page.locator('[data-state="stopped"]')).waitFor({ timeout: kStepTimeoutMs });
  if (page.url().includes('token')) throw new Error(`the token stays in the address bar: ${page.url()}`);
  console.log(`VM list shows ${await page.locator('#vms tbody tr').count()} VMs, ${vmName} stopped`);

  const button = (action) => row.locator(`button[data-action="${action}"]`);
  const waitState = (state, timeout = kStepTimeoutMs) =>
    row.and(page.locator(`[data-state="${state}"]`)).waitFor({ timeout });

  await button('start').click();
  await waitState('running');
  console.log(`${vmName} running after Start`);

  await button('console').click();
  await page.locator('#console[data-state="connected"]').waitFor({ timeout: kStepTimeoutMs });
  await waitForLine(page, 'the shell prompt', (l) => l.endsWith(kPrompt), bootTimeoutMs);
  console.log('console shows the shell prompt');

  await page.locator('#terminal').click();
  await page.keyboard.type('echo hello-$((6*7))');
  await page.keyboard.press('Enter');
  await waitForLine(page, 'hello-42', (l) => l === 'hello-42', kStepTimeoutMs);
  console.log('typed echo hello-$((6*7)), the terminal shows hello-42');

  // A console opened again starts with the scrollback (GET .../logs), so the answer is still there.
  await page.locator('#console-close').click();
  await page.locator('#console').waitFor({ state: 'hidden', timeout: kStepTimeoutMs });
  await button('console').click();
  await page.locator('#console[data-state="connected"]').waitFor({ timeout: kStepTimeoutMs });
  await waitForLine(page, 'hello-42 in the scrollback', (l) => l === 'hello-42', kStepTimeoutMs);
  console.log('console closed and opened again: the scrollback shows hello-42');

  // The figures fill in once the VM has run a while; a few seconds of graph make a better picture.
  await row.locator('canvas.cpu-graph').and(page.locator('[data-samples]')).evaluate(
    (canvas) => new Promise((resolve) => {
      const check = () => (Number(canvas.dataset.samples) >= 10 ? resolve() : setTimeout(check, 250));
      check();
    }));
  await row.locator('td.uptime').filter({ hasText: /\d:\d\d:\d\d/ }).waitFor({ timeout: kStepTimeoutMs });
  await row.locator('td.cpu').filter({ hasText: /%$/ }).waitFor({ timeout: kStepTimeoutMs });
  const figures = await row.locator('td').allInnerTexts();
  console.log(`row: ${figures.filter(Boolean).join(' | ')}`);
  await page.screenshot({ path: args.screenshot, fullPage: true });
  console.log(`screenshot: ${args.screenshot}`);

  await button('pause').click();
  await waitState('paused');
  await button('resume').click();
  await waitState('running');
  console.log(`${vmName} paused and resumed`);

  await button('stop').click();
  await waitState('stopped');
  await consoleStatus(page, 'the open console ended by Stop', 'disconnected');
  console.log(`${vmName} stopped after Stop, its console closed`);

  await button('console').click();
  await consoleStatus(page, 'the console of the stopped VM refused', 'refused');
  console.log(`the console of the stopped VM: ${await page.locator('#console-status').innerText()}`);
  await context.close();
}

const { chromium } = loadPlaywright();
let server;
let browser;
let failed = false;
try {
  server = await (args.vessel ? startDaemon() : startFake());
  console.log(`server: ${server.base}`);
  browser = await chromium.launch({ executablePath: args.chromium, headless: true });
  await checkWithoutToken(browser, server);
  await checkWithToken(browser, server);
} catch (e) {
  failed = true;
  console.error(`webui_test: FAILED: ${e.message}`);
} finally {
  await browser?.close();
  await server?.stop();
}
console.log(failed ? 'webui_test: 0 passed, 1 failed' : 'webui_test: 1 passed, 0 failed');
process.exit(failed ? 1 : 0);
