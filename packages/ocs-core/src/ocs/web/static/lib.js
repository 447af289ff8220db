// Shared helpers of the OCS panel: the view library (preact + htm) and
// small formatting functions. No state lives here.
import { h, render } from './vendor/preact.module.js';
import { useState, useEffect, useRef, useMemo, useCallback, useReducer } from './vendor/hooks.module.js';
import htm from './vendor/htm.module.js';

export const html = htm.bind(h);
export { h, render, useState, useEffect, useRef, useMemo, useCallback, useReducer };

/** Re-render the calling component whenever `store.subscribe` reports a change. */
export function useStore(store) {
  const [, bump] = useReducer((n) => n + 1, 0);
  useEffect(() => store.subscribe(bump), [store]);
  return store;
}

/** Call `fn` every `ms` milliseconds while the component is mounted (and once at once). */
export function useInterval(fn, ms) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (ms == null) return undefined;
    saved.current();
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [ms]);
}

/** "12:03:04" (local time) from a unix timestamp in seconds. */
export function clock(t) {
  if (typeof t !== 'number') return '';
  const d = new Date(t * 1000);
  return d.toLocaleTimeString([], { hour12: false });
}

/** "3.2 s", "4 min", "2.1 h" for a duration in seconds. */
export function duration(s) {
  if (typeof s !== 'number' || !isFinite(s)) return '';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Readable text of anything an agent or autobahn can throw or reply. */
export function errorText(e) {
  if (e == null) return 'unknown error';
  if (typeof e === 'string') return e;
  if (e.error && Array.isArray(e.args)) {       // autobahn.Error: uri + args
    const extra = e.args.filter((a) => a != null).map((a) => (typeof a === 'string' ? a : JSON.stringify(a)));
    return extra.length ? `${e.error}: ${extra.join(' ')}` : e.error;
  }
  return e.message || String(e);
}

/** The hash route: ['agent', address] or [] for the agent list. */
export function route() {
  return location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
}

export function agentHref(address) {
  return `#/agent/${encodeURIComponent(address)}`;
}
