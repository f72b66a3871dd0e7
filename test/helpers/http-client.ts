/** A small JSON client for driving the coordinator over real HTTP, like a customer or an admin. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked by the tests
export type Json = any;

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  body: Json;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    /** The bearer token sent with every request (unless one is given per request). */
    readonly token?: string,
  ) {}

  /** The same server with another bearer token. */
  as(token: string): ApiClient {
    return new ApiClient(this.baseUrl, token);
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const token = opts.token ?? this.token;
    const headers: Record<string, string> = { ...opts.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let body: Json = undefined;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
    return { status: res.status, headers: res.headers, text, body };
  }

  get = (path: string, opts?: RequestOptions) => this.request('GET', path, opts);
  post = (path: string, body?: unknown, opts?: RequestOptions) => this.request('POST', path, { ...opts, body });
  put = (path: string, body?: unknown, opts?: RequestOptions) => this.request('PUT', path, { ...opts, body });
  patch = (path: string, body?: unknown, opts?: RequestOptions) => this.request('PATCH', path, { ...opts, body });
  delete = (path: string, opts?: RequestOptions) => this.request('DELETE', path, opts);
}

/** Throws with the answer's text unless the status is the expected one (a readable failure). */
export function expectStatus(r: ApiResponse, status: number, what = ''): ApiResponse {
  if (r.status !== status) throw new Error(`${what ? what + ': ' : ''}expected HTTP ${status}, got ${r.status}: ${r.text.slice(0, 2000)}`);
  return r;
}
