/**
 * The engine pulls behind one image pull (image.service.ts): attempts with backoff inside the retry
 * window while failures are transient, each attempt cut off when it stalls, outgrows what is left
 * of the image budget or passes the deploy's size limit.
 */
import type { ImageRef } from '@berth/domain';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, Logger } from '../logger';
import { ImagePullFailure, ImageRuntime } from '../runtime/container-runtime';
import { ImagePullError, overLimit, PullContext, pullError, redact, retriesExhausted, tooLarge } from './image-errors';
import type { ImageServiceOptions } from './image.service';
import { engineRef } from './image-refs';
import { ProgressThrottle, PullProgressAggregator } from './pull-progress';

export class PullAttempts {
  constructor(
    private readonly runtime: ImageRuntime,
    private readonly opts: ImageServiceOptions,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** Attempts until one succeeds, a failure is permanent, or the retry window is over. */
  async pull(
    ref: ImageRef,
    c: PullContext,
    leftBytes: number,
    throttle: ProgressThrottle,
    maxBytes: number | undefined,
  ): Promise<void> {
    const started = this.now();
    let delay = this.opts.backoffMs ?? 1000;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(ref, c, leftBytes, throttle, maxBytes);
      } catch (e) {
        if (e instanceof ImagePullError) throw e;
        const f = asFailure(e);
        if (f.kind !== 'transient') throw pullError(f, c);
        const elapsed = this.now() - started;
        if (elapsed + delay > this.opts.retryWindowMs) throw retriesExhausted(f, c, attempt, elapsed);
        this.log.warn('image pull failed; retrying', {
          image: c.image,
          attempt,
          retryInMs: delay,
          error: redact(f.detail, c.auth),
        });
        await sleep(delay);
        delay = Math.min(delay * 2, this.opts.maxBackoffMs ?? 15_000);
      }
    }
  }

  /** One engine pull, cut off when it stalls, outgrows the budget or passes the deploy's size limit. */
  private async attempt(
    ref: ImageRef,
    c: PullContext,
    leftBytes: number,
    throttle: ProgressThrottle,
    maxBytes: number | undefined,
  ): Promise<void> {
    const agg = new PullProgressAggregator();
    const abort = new AbortController();
    const { stallMs } = this.opts;
    let stall: NodeJS.Timeout | undefined;
    const watchStall = () => {
      if (!stallMs) return;
      clearTimeout(stall);
      stall = setTimeout(
        () => abort.abort(new ImagePullFailure('transient', `no pull progress for ${stallMs / 1000} s`)),
        stallMs,
      );
    };
    watchStall();
    try {
      await this.runtime.pullImage(engineRef(ref), {
        auth: c.auth,
        signal: abort.signal,
        onLayer: (p) => {
          if (abort.signal.aborted) return;
          watchStall();
          const completed = agg.apply(p);
          const now = agg.snapshot();
          // The layers' (compressed) sizes are a lower bound of the unpacked image.
          if (maxBytes && now.bytesTotal > maxBytes)
            abort.abort(overLimit(c.image, now.bytesTotal, maxBytes, { atLeast: true }));
          else if (now.bytesTotal > leftBytes)
            abort.abort(tooLarge(c, now.bytesTotal, leftBytes, this.opts.budgetBytes));
          else throttle.offer(now, completed);
        },
      });
    } catch (e) {
      throw abort.signal.aborted ? abort.signal.reason : e;
    } finally {
      clearTimeout(stall);
      throttle.flush();
    }
  }
}

export function asFailure(e: unknown): ImagePullFailure {
  return e instanceof ImagePullFailure ? e : new ImagePullFailure('failed', errorMessage(e));
}
