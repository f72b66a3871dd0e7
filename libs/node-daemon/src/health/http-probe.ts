import * as http from 'node:http';

export interface ProbeResult {
  ok: boolean;
  status?: number;
  error?: string;
  durationMs: number;
}

/** One HTTP GET; 2xx (and 3xx, as Kubernetes) counts as healthy. Never follows redirects. */
export function httpProbe(host: string, port: number, path: string, timeoutMs: number): Promise<ProbeResult> {
  const started = process.hrtime.bigint();
  const took = () => Number(process.hrtime.bigint() - started) / 1e6;
  return new Promise((resolve) => {
    const req = http.get(
      { host, port, path, timeout: timeoutMs, agent: false, headers: { 'user-agent': 'berth-node-probe' } },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 400, status, durationMs: took() });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ ok: false, error: e.message, durationMs: took() }));
  });
}
