// liveAfterLogs (web/src/scrollback.js): the bytes a console received live while it fetched the
// scrollback are written once, whatever part of them the scrollback already holds.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { liveAfterLogs } from '../../web/src/scrollback.js';

const bytes = (text) => new TextEncoder().encode(text);
const text = (array) => new TextDecoder().decode(array);
const boot = Array.from({ length: 40 }, (_, i) => `[    ${i}.000000] line ${i} of the boot\r\n`).join('');

test('live bytes the scrollback ends with are dropped', () => {
  const all = boot + 'vessel-guest: userspace up\r\n';
  const logs = bytes(all);
  const live = bytes(all.slice(all.length - 60) + 'vessel:/# ');
  assert.equal(text(liveAfterLogs(logs, live)), 'vessel:/# ');
});

test('live bytes the scrollback has not caught up with are kept', () => {
  const logs = bytes(boot.slice(0, 500));
  const live = bytes(boot.slice(450));
  assert.equal(text(liveAfterLogs(logs, live)), boot.slice(500));
});

test('with no overlap everything live is kept', () => {
  assert.equal(text(liveAfterLogs(bytes(boot), bytes('new output\r\n'))), 'new output\r\n');
  assert.equal(text(liveAfterLogs(bytes(''), bytes('first bytes'))), 'first bytes');
  assert.equal(text(liveAfterLogs(bytes(boot), bytes(''))), '');
});

test('a short chance match (a line end, a prompt) is not taken for an overlap', () => {
  const logs = bytes('done\r\nvessel:/# ');
  const live = bytes('vessel:/# ls\r\n');
  assert.equal(text(liveAfterLogs(logs, live)), 'vessel:/# ls\r\n');
});

test('the longest overlap wins over a shorter repeat inside it', () => {
  const line = '================\r\n';
  const logs = bytes('start\r\n' + line.repeat(4));
  const live = bytes(line.repeat(3) + 'end\r\n');
  assert.equal(text(liveAfterLogs(logs, live)), 'end\r\n');
});

test('every byte live equal to the end of the scrollback', () => {
  const logs = bytes(boot);
  const live = bytes(boot.slice(-100));
  assert.equal(liveAfterLogs(logs, live).length, 0);
});
