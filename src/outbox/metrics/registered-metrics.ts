import type { Registry } from 'prom-client';

/** What every metric of ours is created with: its full name and our registry. */
export interface MetricIdentity {
  readonly name: string;
  readonly registers: Registry[];
}

/**
 * The metrics one provider registered, so it can free their names at shutdown: a registry
 * refuses a second metric of the same name, and the next application in the same process
 * (a test, a hot reload) registers them again.
 * @internal
 */
export class RegisteredMetrics {
  private readonly names: string[] = [];

  constructor(
    private readonly registry: Registry,
    private readonly prefix = '',
  ) {}

  add<M>(name: string, create: (identity: MetricIdentity) => M): M {
    const fullName = this.prefix + name;
    let metric: M;
    try {
      metric = create({ name: fullName, registers: [this.registry] });
    } catch (error) {
      // Half a set is worse than none: free what this provider took, then fail start-up.
      this.removeAll();
      throw error;
    }
    this.names.push(fullName);
    return metric;
  }

  removeAll(): void {
    for (const name of this.names.splice(0)) this.registry.removeSingleMetric(name);
  }
}
