// Live plots (uPlot) of a recorded feed's numeric fields, from the feed's
// topic `<address>.feeds.<name>`. One plot per block (the fields of a block
// share timestamps); the last N minutes are kept. Drag to zoom, double-click
// or "Reset zoom" to go back; "Pause" freezes the picture (data still comes).
import uPlot from './vendor/uPlot.esm.js';
import { html, useState, useEffect, useRef } from './lib.js';
import { unpackEvent } from './wamp.js';

export const WINDOWS_MIN = [1, 5, 15, 60];
const REDRAW_MS = 1000;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** Samples of one feed, by block: {t: [...], fields: {name: [...]}}; non-numbers become null. */
export class FeedBuffer {
  constructor() { this.blocks = new Map(); this.skipped = new Set(); this.events = 0; }

  add(message) {
    if (!message || typeof message !== 'object') return;
    this.events += 1;
    for (const [key, block] of Object.entries(message)) {
      if (!block || !Array.isArray(block.timestamps) || !block.data) continue;
      const name = block.block_name || key;
      let b = this.blocks.get(name);
      if (!b) { b = { t: [], fields: {} }; this.blocks.set(name, b); }
      const n = b.t.length;
      for (const [field, values] of Object.entries(block.data)) {
        if (!Array.isArray(values)) continue;
        if (!(field in b.fields)) {
          if (!values.some((v) => typeof v === 'number')) { this.skipped.add(field); continue; }
          b.fields[field] = new Array(n).fill(null);
        }
      }
      for (const [field, col] of Object.entries(b.fields)) {
        const values = block.data[field] || [];
        for (let i = 0; i < block.timestamps.length; i++) {
          const v = values[i];
          col.push(typeof v === 'number' && isFinite(v) ? v : null);
        }
      }
      for (const t of block.timestamps) b.t.push(t);
    }
  }

  /** Drop samples older than `seconds` before the newest one. */
  trim(seconds) {
    for (const b of this.blocks.values()) {
      if (!b.t.length) continue;
      const cut = b.t[b.t.length - 1] - seconds;
      let i = 0;
      while (i < b.t.length && b.t[i] < cut) i++;
      if (i > 0) {
        b.t.splice(0, i);
        for (const col of Object.values(b.fields)) col.splice(0, i);
      }
    }
  }
}

function BlockPlot({ name, block, paused, resetKey, version }) {
  const box = useRef(null);
  const plot = useRef(null);
  const zoomed = useRef(false);
  const fields = Object.keys(block.fields);
  const shape = fields.join(',');

  useEffect(() => {
    const width = Math.max(300, (box.current.clientWidth || 600) - 10);
    const opts = {
      width, height: 200,
      scales: { x: { time: true } },
      series: [{}, ...fields.map((f, i) => ({ label: f, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false }))],
      cursor: { drag: { x: true, y: false } },
      hooks: { setSelect: [() => { zoomed.current = true; }] },
    };
    plot.current = new uPlot(opts, [block.t.slice(), ...fields.map((f) => block.fields[f].slice())], box.current);
    const ro = new ResizeObserver(() => {
      const w = Math.max(300, box.current.clientWidth - 10);
      if (plot.current && Math.abs(plot.current.width - w) > 4) plot.current.setSize({ width: w, height: 200 });
    });
    ro.observe(box.current);
    return () => { ro.disconnect(); plot.current.destroy(); plot.current = null; };
  }, [shape]);

  useEffect(() => {
    zoomed.current = false;
    if (plot.current) plot.current.setData([block.t.slice(), ...fields.map((f) => block.fields[f].slice())], true);
  }, [resetKey]);

  useEffect(() => {           // new data: redraw (not while paused; keep a zoom)
    if (!plot.current || paused) return;
    plot.current.setData([block.t.slice(), ...fields.map((f) => block.fields[f].slice())], !zoomed.current);
  }, [version, paused]);

  return html`<div class="block" data-block=${name} data-points=${block.t.length}>
    <div class="muted small">block <b>${name}</b> · <span class="points">${block.t.length}</span> points</div>
    <div ref=${box} onDblClick=${() => { zoomed.current = false; }}></div>
  </div>`;
}

/** Plots of one recorded feed. */
export function FeedPlot({ wamp, feed }) {
  const buffer = useRef(new FeedBuffer());
  const [tick, setTick] = useState(0);
  const [minutes, setMinutes] = useState(5);
  const [paused, setPaused] = useState(false);
  const [resetKey, setResetKey] = useState(0);
  const topic = feed.address;

  useEffect(() => {
    buffer.current = new FeedBuffer();
    const off = wamp.subscribe(topic, (args) => buffer.current.add(unpackEvent(args)[0]));
    return off;
  }, [topic]);
  useEffect(() => {
    const id = setInterval(() => { buffer.current.trim(minutes * 60); setTick((n) => n + 1); }, REDRAW_MS);
    return () => clearInterval(id);
  }, [minutes]);

  const buf = buffer.current;
  return html`<section class="plot" data-feed=${feed.feed_name}>
    <div class="bar">
      <b>${feed.feed_name}</b>
      <label>last <select value=${String(minutes)} onChange=${(e) => setMinutes(Number(e.target.value))}>
        ${WINDOWS_MIN.map((m) => html`<option value=${String(m)}>${m} min</option>`)}</select></label>
      <button class="pause" onClick=${() => setPaused(!paused)}>${paused ? 'Resume' : 'Pause'}</button>
      <button class="reset-zoom" onClick=${() => setResetKey(resetKey + 1)}>Reset zoom</button>
      <span class="muted small">drag to zoom · ${buf.events} messages</span>
    </div>
    ${buf.blocks.size === 0 && html`<p class="muted">Waiting for data on ${topic} ...</p>`}
    ${[...buf.blocks.entries()].map(([name, block]) => html`<${BlockPlot} key=${name} name=${name}
      block=${block} paused=${paused} resetKey=${resetKey} version=${tick} />`)}
    ${buf.skipped.size > 0 && html`<p class="muted small">Not plotted (not numbers): ${[...buf.skipped].join(', ')}</p>`}
  </section>`;
}

/** Plots of every recorded feed in an agent's get_api `feeds`. */
export function FeedPlots({ wamp, feeds }) {
  const recorded = (feeds || []).map(([, f]) => f).filter((f) => f && f.record && f.address);
  if (!recorded.length) return null;
  return html`<div class="plots"><h2>Feeds</h2>
    ${recorded.map((f) => html`<${FeedPlot} key=${f.address} wamp=${wamp} feed=${f} />`)}</div>`;
}
