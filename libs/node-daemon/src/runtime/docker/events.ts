/**
 * Container events: the engine's event stream for this node's containers, read line by line and
 * mapped to our RuntimeEvent; it ends when the engine connection drops or the signal aborts.
 */
import type Docker from 'dockerode';
import { LABELS, RuntimeEvent } from '../container-runtime';
import { nodeLabel } from './labels';

export async function* containerEvents(
  docker: Docker,
  nodeId: string,
  signal: AbortSignal,
): AsyncIterable<RuntimeEvent> {
  const stream = (await docker.getEvents({
    filters: JSON.stringify({ type: ['container'], label: [nodeLabel(nodeId)] }),
  })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  const abort = () => stream.destroy();
  signal.addEventListener('abort', abort, { once: true });
  let rest = '';
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      rest += chunk.toString('utf8');
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (!line) continue;
        yield toRuntimeEvent(JSON.parse(line));
      }
    }
  } catch (e) {
    if (!signal.aborted) throw e;
  } finally {
    signal.removeEventListener('abort', abort);
    stream.destroy();
  }
}

function toRuntimeEvent(e: {
  Action?: string;
  id?: string;
  Actor?: { ID: string; Attributes?: Record<string, string> };
  timeNano?: number;
}): RuntimeEvent {
  const action = (e.Action ?? '').split(':')[0];
  const type =
    (['start', 'die', 'oom', 'stop', 'destroy'] as const).find((t) => t === action) ??
    (action === 'health_status' ? 'health' : 'other');
  return {
    type,
    containerId: e.Actor?.ID ?? e.id ?? '',
    slotId: e.Actor?.Attributes?.[LABELS.slot],
    atMs: e.timeNano ? Math.floor(e.timeNano / 1e6) : Date.now(),
  };
}
