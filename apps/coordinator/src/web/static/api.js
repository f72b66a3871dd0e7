/* global fetch, sessionStorage, window, TextDecoder, CustomEvent */
// The coordinator's REST API. The bearer token lives in sessionStorage only: it is sent in the
// Authorization header, never put in a URL, never logged.

const TOKEN_KEY = 'berth.token';

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
  remember(key, value) {
    if (value === null || value === undefined) sessionStorage.removeItem(`berth.${key}`);
    else sessionStorage.setItem(`berth.${key}`, String(value));
  },
  recall(key) {
    return sessionStorage.getItem(`berth.${key}`);
  },
};

/** A non-2xx answer: `status`, the server's `error` message and its per-field `fields`. */
export class ApiError extends Error {
  constructor(status, body) {
    super(
      (body && typeof body.error === 'string' && body.error) ||
        (typeof body === 'string' && body) ||
        `request failed (HTTP ${status})`,
    );
    this.status = status;
    this.fields = body && typeof body.fields === 'object' && body.fields ? body.fields : {};
  }
}

function headers(extra = {}) {
  const h = { ...extra };
  const t = session.token;
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

async function failure(res) {
  let body;
  const text = await res.text().catch(() => '');
  try {
    body = JSON.parse(text);
  } catch {
    body = text.slice(0, 300);
  }
  if (res.status === 401 && session.token) {
    // The token expired or was revoked: forget it and tell the app.
    session.clear();
    window.dispatchEvent(new CustomEvent('berth:signed-out'));
  }
  return new ApiError(res.status, body);
}

/** JSON in, JSON (or text) out. `as: 'text' | 'blob' | 'response'` for other answers. */
export async function api(method, path, body, { as } = {}) {
  const init = {
    method,
    headers: headers({ Accept: as === 'text' ? 'text/plain' : 'application/json' }),
    cache: 'no-store',
    credentials: 'same-origin',
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (!res.ok) throw await failure(res);
  if (as === 'response') return res;
  if (as === 'blob') return res.blob();
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') ?? '';
  if (as === 'text' || !type.includes('json')) return res.text();
  return res.json();
}

/**
 * Follows a deployment's server-sent events. EventSource cannot send an Authorization
 * header, so this reads the stream with fetch and parses `event:`/`data:`/`id:` lines itself.
 * Calls onEvent({ type, id, data }) per event; resolves when the server ends the stream
 * (the deployment finished) or `signal` aborts it.
 */
export async function followEvents(path, onEvent, signal) {
  const res = await fetch(path, {
    headers: headers({ Accept: 'text/event-stream' }),
    cache: 'no-store',
    signal,
  });
  if (!res.ok) throw await failure(res);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let ev = { type: 'message', id: null, data: [] };
  const dispatch = () => {
    if (ev.data.length) {
      const raw = ev.data.join('\n');
      let data = raw;
      try {
        data = JSON.parse(raw);
      } catch {
        /* plain text data */
      }
      onEvent({ type: ev.type, id: ev.id, data });
    }
    ev = { type: 'message', id: null, data: [] };
  };
  const line = (l) => {
    if (l === '') return dispatch();
    if (l.startsWith(':')) return; // comment / keep-alive
    const i = l.indexOf(':');
    const field = i < 0 ? l : l.slice(0, i);
    let value = i < 0 ? '' : l.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') ev.type = value;
    else if (field === 'data') ev.data.push(value);
    else if (field === 'id') ev.id = value;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        line(buffer.slice(0, nl).replace(/\r$/, ''));
        buffer = buffer.slice(nl + 1);
      }
    }
    buffer += decoder.decode();
    if (buffer) line(buffer.replace(/\r$/, ''));
    dispatch();
  } finally {
    reader.releaseLock?.();
  }
}
