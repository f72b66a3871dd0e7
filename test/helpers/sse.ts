/**
 * Server-sent events as a customer's browser reads them: GET with a bearer token, the
 * `text/event-stream` body parsed into events until the server ends the stream.
 */
export interface SseEvent {
  /** `event:` field; 'message' when the server gave none. */
  event: string;
  id?: string;
  /** The `data:` lines joined with newlines. */
  data: string;
}

/** Parses a complete or partial event-stream text; returns the events and the unparsed rest. */
export function parseSse(text: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const normalised = text.replace(/\r\n?/g, '\n');
  const blocks = normalised.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length || event !== 'message') events.push({ event, id, data: data.join('\n') });
  }
  return { events, rest };
}

export interface ReadSseOptions {
  headers?: Record<string, string>;
  /** Gives up (rejects, naming what was read so far) after this long. Default 120 s. */
  timeoutMs?: number;
  /** Called with each event as it arrives. */
  onEvent?: (e: SseEvent) => void;
}

/** Reads `url` as server-sent events until the server closes the stream; rejects on a non-2xx answer. */
export async function readSse(url: string, opts: ReadSseOptions = {}): Promise<SseEvent[]> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const abort = new AbortController();
  const events: SseEvent[] = [];
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...opts.headers }, signal: abort.signal });
    if (!res.ok || !res.body) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
    const type = res.headers.get('content-type') ?? '';
    if (!type.startsWith('text/event-stream')) throw new Error(`GET ${url}: content-type ${type}, not text/event-stream`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      const parsed = parseSse(buffer);
      buffer = parsed.rest;
      for (const e of parsed.events) {
        events.push(e);
        opts.onEvent?.(e);
      }
    }
    const tail = parseSse(buffer + '\n\n').events;
    events.push(...tail);
    return events;
  } catch (e) {
    if (abort.signal.aborted) {
      throw new Error(`GET ${url}: the stream did not end within ${timeoutMs} ms; events so far: ${events.map((x) => x.event).join(', ')}`, { cause: e });
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
