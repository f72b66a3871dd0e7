/**
 * Docker API errors: the engine's status codes that mean an operation had nothing left to do
 * (304 not modified, 404 gone, 409 exists already), and the 500s worth one more try.
 */

/** A catch handler that accepts Docker's answer `statusCode` and rethrows any other error. */
export function unlessStatus(statusCode: number): (e: { statusCode?: number }) => void {
  return (e) => {
    if (e.statusCode !== statusCode) throw e;
  };
}

/**
 * Docker answers 500 when the host's packet filter changed under it while it set up a network or
 * a container's published ports: another Docker engine on the same host, or firewalld, or a
 * tool holding the xtables lock, rebuilt the same chains at the same moment. Seen in CI with two
 * engines on one host ("unable to remove jump to DOCKER-ISOLATION-STAGE-1 rule in FORWARD
 * chain"). Nothing is wrong with the request: the same call a moment later succeeds.
 */
const FIREWALL_RACE = /iptables|ip6tables|xtables|nftables|DOCKER-ISOLATION|Resource temporarily unavailable/i;

export function isTransientEngineError(e: unknown): boolean {
  const err = e as { statusCode?: number; message?: string; json?: { message?: string } };
  return err?.statusCode === 500 && FIREWALL_RACE.test(`${err.json?.message ?? ''} ${err.message ?? ''}`);
}

/** Runs `call`, again after a short growing pause while Docker answers with a transient firewall race (see isTransientEngineError). */
export async function retryTransientEngineError<T>(call: () => Promise<T>, attempts = 5, firstPauseMs = 200): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (attempt >= attempts || !isTransientEngineError(e)) throw e;
      await new Promise((r) => setTimeout(r, firstPauseMs * 2 ** (attempt - 1)));
    }
  }
}
