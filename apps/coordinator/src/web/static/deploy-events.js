// A deployment's events as a list: one row per event, and an image pull as a single row with a
// <progress> bar (bytes) and layers in words, redrawn in place by each report. Text-only DOM.
import { fmtTime, h } from './dom.js';

const mb = (n) => `${(Number(n) / 1e6).toFixed(1)} MB`;

function pullRow(d) {
  const p = d.data ?? {};
  const known = Number(p.bytes_total) > 0;
  return h(
    'li',
    { class: 'ev ev-image_pull' },
    h('time', {}, fmtTime(d.at)),
    h('span', { class: 'ev-type' }, 'image pull'),
    h(
      'span',
      { class: 'ev-msg' },
      // max before value: a value above the default max of 1 would be clamped.
      h('progress', known ? { max: p.bytes_total, value: p.bytes_done, 'aria-label': 'image pull' } : { 'aria-label': 'image pull' }),
      ` ${p.layers_done ?? 0}/${p.layers_total ?? '?'} layers` + (known ? `, ${mb(p.bytes_done)} of ${mb(p.bytes_total)}` : ''),
    ),
  );
}

function eventRow(type, d) {
  return h(
    'li',
    { class: `ev ev-${type}` },
    h('time', {}, fmtTime(d.at)),
    h('span', { class: 'ev-type' }, type.replace(/_/g, ' ')),
    h('span', { class: 'ev-msg' }, d.message ?? ''),
  );
}

/** Appends events to `list` (a <ul>); returns whether the event was a new row (not a pull redraw). */
export function eventList(list) {
  let pulling = null;
  return function add(type, d) {
    if (type === 'image_pull') {
      const r = pullRow(d);
      if (pulling) pulling.replaceWith(r);
      else list.append(r);
      pulling = r;
      return false;
    }
    list.append(eventRow(type, d));
    list.lastElementChild.scrollIntoView?.({ block: 'nearest' });
    return true;
  };
}
