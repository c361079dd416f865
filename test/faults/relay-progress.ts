import type { OutboxRelayService } from '../../src/outbox/index.js';

/** The longest time between two consecutive moments in `times` (ms). */
export function longestGap(times: readonly number[]): number {
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i] - times[i - 1]);
  return gap;
}

/**
 * When a relay's published count moved, sampled every 5 ms, so that a fault test can report
 * the relay's longest stall from some moment on.
 */
export class RelayProgress {
  private readonly moments: number[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(relay: OutboxRelayService) {
    let last = relay.getStatus().publishedTotal;
    this.timer = setInterval(() => {
      const total = relay.getStatus().publishedTotal;
      if (total !== last) this.moments.push(Date.now());
      last = total;
    }, 5);
    // Never what keeps the process alive, should the test fail before it stops.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The longest time without progress from `since` on (ms). */
  longestStallSince(since: number): number {
    return longestGap(this.moments.filter((t) => t >= since));
  }
}
