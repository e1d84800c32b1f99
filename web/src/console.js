// One VM's serial console in the page: xterm.js over the daemon's WebSocket, binary frames
// both ways (the guest's bytes are not necessarily UTF-8, and the terminal decodes them).

import { Terminal } from '/ui/vendor/xterm.mjs';
import { FitAddon } from '/ui/vendor/addon-fit.mjs';
import { callBytes, consoleUrl, vmPath } from '/ui/api.js';
import { liveAfterLogs } from '/ui/scrollback.js';

// How much scrollback to show when a console opens, so the boot messages are not lost.
const kScrollbackBytes = 65536;

export class ConsoleView {
  constructor(section) {
    this.section = section;
    this.nameLabel = section.querySelector('#console-name');
    this.statusLabel = section.querySelector('#console-status');
    this.host = section.querySelector('#terminal');
    section.querySelector('#console-close').addEventListener('click', () => this.close());
    this.onResize = () => this.fit?.fit();
    window.addEventListener('resize', this.onResize);
    this.encoder = new TextEncoder();
  }

  async open(name) {
    this.close();
    this.vm = name;
    this.section.hidden = false;
    this.nameLabel.textContent = name;
    this.setStatus('connecting');

    const term = new Terminal({ scrollback: 5000, convertEol: false, cursorBlink: true });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(this.host);
    fit.fit();
    this.term = term;
    this.fit = fit;

    const ws = new WebSocket(consoleUrl(name));
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    // Live bytes wait until the scrollback is written, so they come after it.
    let pending = [];
    ws.addEventListener('message', (event) => {
      const bytes = new Uint8Array(event.data instanceof ArrayBuffer ? event.data : this.encoder.encode(event.data));
      if (pending) pending.push(bytes);
      else term.write(bytes);
    });
    let opened = false;
    ws.addEventListener('open', async () => {
      if (this.ws !== ws) return;
      opened = true;
      this.setStatus('connected');
      let logs = new Uint8Array();
      try {
        logs = await fetchLogs(name);
      } catch (e) {
        term.write(`[scrollback unavailable: ${e.message}]\r\n`);
      }
      if (this.ws !== ws) return;
      term.write(logs);
      term.write(liveAfterLogs(logs, concat(pending)));
      pending = null;
      term.focus();
    });
    ws.addEventListener('close', (event) => {
      if (this.ws !== ws) return;
      // A refused upgrade (the VM not running, say) reaches a browser only as code 1006.
      const why = opened
        ? event.reason || (event.code === 1000 ? 'closed by the daemon' : `code ${event.code}`)
        : 'the daemon refused the console; is the VM running?';
      this.setStatus(`disconnected (${why})`);
      term.write(`\r\n[console closed: ${why}]\r\n`);
    });
    term.onData((data) => this.send(this.encoder.encode(data)));
    // Some keys (e.g. Alt with meta-sends-escape off) arrive as a binary string of bytes.
    term.onBinary((data) => this.send(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff)));
  }

  send(bytes) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  setStatus(text) {
    this.statusLabel.textContent = text;
    this.section.dataset.state = text.split(' ')[0];
  }

  close() {
    const ws = this.ws;
    this.ws = null;
    ws?.close();
    this.term?.dispose();
    this.term = null;
    this.fit = null;
    this.vm = null;
    this.section.hidden = true;
  }
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function fetchLogs(name) {
  return callBytes('GET', `${vmPath(name)}/logs?bytes=${kScrollbackBytes}`);
}
