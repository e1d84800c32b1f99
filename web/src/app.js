// The VM list: polled every second, updated in place (so a graph keeps its history and a
// button is not replaced under the pointer), with the lifecycle buttons and the console.

import { ApiError, call, hasToken, vmPath } from '/ui/api.js';
import { CpuGraph } from '/ui/cpu_graph.js';
import { ConsoleView } from '/ui/console.js';

const kPollMs = 1000;

// Which buttons a state allows, as the daemon's 409s would say.
const kActions = [
  { action: 'start', label: 'Start', when: ['stopped', 'crashed'] },
  { action: 'stop', label: 'Stop', when: ['running', 'paused'] },
  { action: 'pause', label: 'Pause', when: ['running'] },
  { action: 'resume', label: 'Resume', when: ['paused'] },
];

const tbody = document.querySelector('#vms tbody');
const emptyNote = document.querySelector('#empty');
const statusLine = document.querySelector('#status');
const consoleView = new ConsoleView(document.querySelector('#console'));
const rows = new Map();

// An action's error stays until it has been seen for a while; an error of the polling stays
// only until a poll succeeds again.
const kActionErrorMs = 10_000;
let actionErrorUntil = 0;

function showStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle('error', isError);
}

function showActionError(text) {
  showStatus(text, true);
  actionErrorUntil = Date.now() + kActionErrorMs;
}

function formatUptime(seconds) {
  if (!Number.isFinite(seconds)) return '';
  const s = Math.floor(seconds);
  const hms = [Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60]
    .map((n, i) => (i === 0 ? String(n) : String(n).padStart(2, '0')))
    .join(':');
  const days = Math.floor(s / 86400);
  return days > 0 ? `${days}d ${hms}` : hms;
}

const formatNumber = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : '');

async function act(name, action) {
  try {
    await call('POST', `${vmPath(name)}/${action}`);
    actionErrorUntil = 0;
    await refresh();
  } catch (e) {
    showActionError(e.message);
  }
}

function makeRow(name) {
  const tr = document.createElement('tr');
  tr.dataset.vm = name;
  const cells = {};
  for (const key of ['name', 'state', 'cpus', 'memory', 'uptime', 'mips', 'cpu', 'graph', 'actions']) {
    cells[key] = tr.insertCell();
    cells[key].className = key;
  }
  cells.name.textContent = name;
  const graph = new CpuGraph();
  cells.graph.append(graph.canvas);
  const buttons = {};
  for (const { action, label } of kActions) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = label;
    button.dataset.action = action;
    button.addEventListener('click', () => act(name, action));
    cells.actions.append(button);
    buttons[action] = button;
  }
  const consoleButton = document.createElement('button');
  consoleButton.type = 'button';
  consoleButton.textContent = 'Console';
  consoleButton.dataset.action = 'console';
  consoleButton.addEventListener('click', () => consoleView.open(name));
  cells.actions.append(consoleButton);
  return { tr, cells, graph, buttons };
}

function updateRow(row, vm) {
  const { cells, graph, buttons } = row;
  cells.state.textContent = vm.state;
  row.tr.dataset.state = vm.state;
  cells.cpus.textContent = String(vm.cpus ?? '');
  cells.memory.textContent = Number.isFinite(vm.memory_mib) ? `${vm.memory_mib} MiB` : '';
  const live = vm.state === 'running' || vm.state === 'paused';
  cells.uptime.textContent = live ? formatUptime(vm.uptime_seconds) : '';
  cells.mips.textContent = live ? formatNumber(vm.mips, 1) : '';
  cells.cpu.textContent = live && Number.isFinite(vm.host_cpu_percent) ? `${vm.host_cpu_percent.toFixed(1)}%` : '';
  // A VM that does not run uses no host CPU; a running one without a figure leaves a gap.
  graph.add(live ? vm.host_cpu_percent : 0);
  for (const { action, when } of kActions) buttons[action].disabled = !when.includes(vm.state);
  cells.state.title = vm.state === 'crashed' && vm.exit_status !== undefined ? `exit status ${vm.exit_status}` : '';
}

function render(vms) {
  const seen = new Set();
  for (const vm of vms) {
    seen.add(vm.name);
    let row = rows.get(vm.name);
    if (!row) {
      row = makeRow(vm.name);
      rows.set(vm.name, row);
    }
    updateRow(row, vm);
    tbody.append(row.tr); // keeps the daemon's order; moving a node in place is a no-op
  }
  for (const [name, row] of rows) {
    if (!seen.has(name)) {
      row.tr.remove();
      rows.delete(name);
    }
  }
  emptyNote.hidden = vms.length > 0;
}

function clear() {
  for (const row of rows.values()) row.tr.remove();
  rows.clear();
  emptyNote.hidden = true;
}

let stopped = false;

async function refresh() {
  try {
    const vms = await call('GET', '/api/v1/vms');
    render(vms);
    if (statusLine.classList.contains('error') && Date.now() >= actionErrorUntil) showStatus('');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      // Without the token nothing may be shown, and asking again will not help.
      clear();
      consoleView.close();
      stopped = true;
      showStatus(
        hasToken()
          ? 'The daemon refused the token: open the page again with ?token= and the token from the state directory.'
          : 'The daemon wants a token: open this page as /?token=TOKEN (the token file is in the state directory).',
        true,
      );
    } else {
      showStatus(e.message, true);
    }
  }
}

async function poll() {
  await refresh();
  if (!stopped) setTimeout(poll, kPollMs);
}

poll();
