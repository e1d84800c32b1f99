// A VM's host CPU use over the last minute, drawn on a small canvas. 100% is one host core,
// so a VM with several busy vCPUs goes past 100: the scale grows in whole cores.

const kWindowMs = 60_000;
const kWidth = 160;
const kHeight = 36;
const kOvershoot = 5;

export class CpuGraph {
  constructor() {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'cpu-graph';
    this.canvas.style.width = `${kWidth}px`;
    this.canvas.style.height = `${kHeight}px`;
    // Samples are {t: ms, v: percent or null}; null leaves a gap (no figure that second).
    this.samples = [];
  }

  add(percent, now = performance.now()) {
    this.samples.push({ t: now, v: Number.isFinite(percent) ? Math.max(0, percent) : null });
    while (this.samples.length > 0 && this.samples[0].t < now - kWindowMs) this.samples.shift();
    this.draw(now);
  }

  draw(now) {
    const ratio = window.devicePixelRatio || 1;
    const canvas = this.canvas;
    canvas.width = Math.round(kWidth * ratio);
    canvas.height = Math.round(kHeight * ratio);
    const g = canvas.getContext('2d');
    g.scale(ratio, ratio);
    const style = getComputedStyle(canvas);
    const color = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
    g.fillStyle = color('--graph-bg', '#f4f4f4');
    g.fillRect(0, 0, kWidth, kHeight);

    const values = this.samples.filter((s) => s.v !== null).map((s) => s.v);
    const peak = values.length > 0 ? Math.max(...values) : 0;
    // A VM busy on one vCPU measures a little over 100% (its I/O thread): that much is drawn
    // flat at the top rather than halving the graph for it.
    const scale = Math.max(100, Math.ceil((peak - kOvershoot) / 100) * 100);
    const x = (t) => kWidth - ((now - t) / kWindowMs) * kWidth;
    const y = (v) => kHeight - 1 - (Math.min(v, scale) / scale) * (kHeight - 2);

    // One faint line per whole core.
    g.strokeStyle = color('--graph-grid', '#ddd');
    g.lineWidth = 1;
    for (let core = 100; core < scale; core += 100) {
      g.beginPath();
      g.moveTo(0, Math.round(y(core)) + 0.5);
      g.lineTo(kWidth, Math.round(y(core)) + 0.5);
      g.stroke();
    }

    // Runs of consecutive samples, each filled down to zero.
    g.fillStyle = color('--graph-fill', 'rgba(40, 110, 200, 0.25)');
    g.strokeStyle = color('--graph-line', '#286ec8');
    g.lineWidth = 1.5;
    let run = [];
    const flush = () => {
      if (run.length > 1) {
        g.beginPath();
        g.moveTo(x(run[0].t), y(run[0].v));
        for (const s of run) g.lineTo(x(s.t), y(s.v));
        g.stroke();
        g.lineTo(x(run[run.length - 1].t), kHeight);
        g.lineTo(x(run[0].t), kHeight);
        g.closePath();
        g.fill();
      }
      run = [];
    };
    for (const s of this.samples) {
      if (s.v === null) flush();
      else run.push(s);
    }
    flush();

    // The scale's label on a backing of its own, readable over the curve.
    const label = `${scale}%`;
    g.font = '10px sans-serif';
    g.textBaseline = 'top';
    g.fillStyle = color('--graph-label-bg', 'rgba(255, 255, 255, 0.8)');
    g.fillRect(1, 1, g.measureText(label).width + 2, 11);
    g.fillStyle = color('--graph-text', '#555');
    g.fillText(label, 2, 1);
    const last = values.length > 0 ? values[values.length - 1] : null;
    canvas.dataset.samples = String(this.samples.length);
    canvas.title = last === null ? 'no figures yet' : `now ${last.toFixed(1)}%, scale ${scale}%`;
  }
}
