import { classifyPullError } from './images';

/**
 * Docker's pull error messages, as Docker 20.10 answered them against a distribution registry (and
 * a few it gives for Docker Hub and the network), and the kind each is classified as.
 */
describe('classifyPullError', () => {
  it.each([
    ['manifest for 127.0.0.1:33773/team/agent:9.9 not found: manifest unknown: manifest unknown', 404, 'not_found'],
    ['manifest for 127.0.0.1:33773/nope/nope:1.0 not found: manifest unknown: manifest unknown', 404, 'not_found'],
    ["pull access denied for nope/nope, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", 500, 'not_found'],
    ['unauthorized: authentication required', 500, 'unauthorized'],
    ['Head "http://127.0.0.1:33773/v2/team/agent/manifests/1.0": no basic auth credentials', 500, 'unauthorized'],
    ['Get "https://registry-1.docker.io/v2/": unauthorized: incorrect username or password', 500, 'unauthorized'],
    ['Get "http://127.0.0.1:33773/v2/": dial tcp 127.0.0.1:33773: connect: connection refused', 500, 'unreachable'],
    ['Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io on 10.255.255.53:53: no such host', 500, 'unreachable'],
    ['Get "https://10.1.2.3:5000/v2/": dial tcp 10.1.2.3:5000: connect: no route to host', 500, 'unreachable'],
    ['Get "https://10.255.255.1:5000/v2/": x509: cannot validate certificate for 10.255.255.1 because it doesn\'t contain any IP SANs', 500, 'unreachable'],
    ['Get "https://10.1.2.3:5000/v2/": dial tcp 10.1.2.3:5000: i/o timeout', 500, 'transient'],
    ['Get "https://reg.example/v2/": net/http: TLS handshake timeout', 500, 'transient'],
    ['read tcp 10.0.0.2:51234->10.1.2.3:443: read: connection reset by peer', undefined, 'transient'],
    ['received unexpected HTTP status: 503 Service Unavailable', 500, 'transient'],
    ['error parsing HTTP 502 response body: invalid character', 500, 'transient'],
    ['unexpected EOF', undefined, 'transient'],
    ['toomanyrequests: You have reached your pull rate limit.', 500, 'transient'],
    ['failed to register layer: no space left on device', undefined, 'failed'],
  ])('%s -> %s', (message, status, kind) => {
    const f = classifyPullError(message, status as number | undefined);
    expect(f.kind).toBe(kind);
    expect(f.detail).toBe(message);
  });
});
