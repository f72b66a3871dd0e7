import { isTransientEngineError, retryTransientEngineError } from './errors';

/** An error shaped like docker-modem's: statusCode, message, and the engine's JSON body. */
const engineError = (statusCode: number, message: string) =>
  Object.assign(new Error(`(HTTP code ${statusCode}) server error - ${message}`), { statusCode, json: { message } });

const RACE = 'unable to remove jump to DOCKER-ISOLATION-STAGE-1 rule in FORWARD chain: (iptables failed: iptables --wait -D FORWARD -j DOCKER-ISOLATION-STAGE-1: iptables: No chain/target/match by that name.)';

describe('Docker errors worth another try', () => {
  it("are the engine's 500s about the host's packet filter, nothing else", () => {
    expect(isTransientEngineError(engineError(500, RACE))).toBe(true);
    expect(isTransientEngineError(engineError(500, 'Another app is currently holding the xtables lock. Perhaps you want to use the -w option?'))).toBe(true);
    expect(isTransientEngineError(engineError(500, 'driver failed programming external connectivity: iptables: Resource temporarily unavailable.'))).toBe(true);
    expect(isTransientEngineError(engineError(500, 'failed to create endpoint: Bind for 127.0.0.1:20001 failed: port is already allocated'))).toBe(false);
    expect(isTransientEngineError(engineError(404, 'no such image'))).toBe(false);
    expect(isTransientEngineError(engineError(409, 'iptables'))).toBe(false);
    expect(isTransientEngineError(new Error('connect ENOENT /var/run/docker.sock'))).toBe(false);
    expect(isTransientEngineError(undefined)).toBe(false);
  });

  it('a call that meets the race is made again until it succeeds; any other error is thrown at once', async () => {
    let calls = 0;
    const flaky = async () => {
      if (++calls < 3) throw engineError(500, RACE);
      return 'created';
    };
    await expect(retryTransientEngineError(flaky, 5, 1)).resolves.toBe('created');
    expect(calls).toBe(3);

    calls = 0;
    const refused = async () => {
      calls++;
      throw engineError(500, 'Bind for 127.0.0.1:20001 failed: port is already allocated');
    };
    await expect(retryTransientEngineError(refused, 5, 1)).rejects.toThrow(/port is already allocated/);
    expect(calls).toBe(1);
  });

  it('gives up after the attempts it was given, with the last error', async () => {
    let calls = 0;
    const always = async () => {
      calls++;
      throw engineError(500, RACE);
    };
    await expect(retryTransientEngineError(always, 3, 1)).rejects.toThrow(/DOCKER-ISOLATION-STAGE-1/);
    expect(calls).toBe(3);
  });
});
