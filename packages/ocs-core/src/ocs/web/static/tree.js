// session.data (any JSON value) as a readable, foldable tree.
import { html } from './lib.js';

function leaf(v) {
  if (v === null) return html`<span class="null">null</span>`;
  if (typeof v === 'number') return html`<span class="num">${Number.isInteger(v) ? v : v.toPrecision(6).replace(/\.?0+$/, '')}</span>`;
  if (typeof v === 'boolean') return html`<span class="bool">${String(v)}</span>`;
  return html`<span class="str">${JSON.stringify(v)}</span>`;
}

function summary(v) {
  return Array.isArray(v) ? `[${v.length}]` : `{${Object.keys(v).length}}`;
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
      : html`<li key=${k}><span class="k">${k}</span>: ${typeof v === 'object' && v !== null ? summary(v) : leaf(v)}</li>`))}
  </ul>`;
}
