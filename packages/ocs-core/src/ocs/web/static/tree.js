// session.data (any JSON value) as a readable, foldable tree.
import { html } from './lib.js';

const TIME_KEY = /(^|_)(time|timestamp|last_updated|time_expired|start_time|end_time)$/;

function number(v) {
  if (Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 1e6) return v.toFixed(3);
  return String(Number(v.toPrecision(6)));
}

function leaf(v, key) {
  if (v === null) return html`<span class="null">null</span>`;
  if (typeof v === 'number') {
    const when = typeof key === 'string' && TIME_KEY.test(key) && v > 1e9 && v < 1e10
      ? html` <span class="muted">(${new Date(v * 1000).toLocaleString([], { hour12: false })})</span>` : '';
    return html`<span class="num">${number(v)}</span>${when}`;
  }
  if (typeof v === 'boolean') return html`<span class="bool">${String(v)}</span>`;
  return html`<span class="str">${JSON.stringify(v)}</span>`;
}

const NAME_KEYS = ['instance_id', 'agent_address', 'op_name', 'name', 'block_name'];

function summary(v) {
  if (Array.isArray(v)) return `[${v.length}]`;
  const key = NAME_KEYS.find((k) => typeof v[k] === 'string');
  return `{${Object.keys(v).length}}${key ? ` ${v[key]}` : ''}`;
}

/** Show `value`; objects and lists fold when they are deep or long. */
export function DataTree({ value, depth = 0 }) {
  if (value === null || typeof value !== 'object') return html`<div class="tree">${leaf(value)}</div>`;
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  if (entries.length === 0) return html`<div class="tree muted">${Array.isArray(value) ? '[]' : '{}'}</div>`;
  return html`<ul class=${depth === 0 ? 'tree' : ''}>
    ${entries.map(([k, v]) => (v !== null && typeof v === 'object' && Object.keys(v).length
      ? html`<li key=${k}><details open=${depth < 1 && Object.keys(v).length <= 20}>
          <summary><span class="k">${k}</span> <span class="muted">${summary(v)}</span></summary>
          <${DataTree} value=${v} depth=${depth + 1} /></details></li>`
      : html`<li key=${k}><span class="k">${k}</span>: ${typeof v === 'object' && v !== null ? summary(v) : leaf(v, k)}</li>`))}
  </ul>`;
}
