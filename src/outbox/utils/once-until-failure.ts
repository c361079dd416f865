/**
 * Runs `task` once and remembers its success; a failure is forgotten, so the next call tries
 * again. `reset()` forgets a success too (the broker side may have changed).
 */
export class OnceUntilFailure {
  private done: Promise<void> | undefined;

  constructor(private readonly task: () => Promise<void>) {}

  run(): Promise<void> {
    this.done ??= this.task().catch((error: unknown) => {
      this.done = undefined;
      throw error;
    });
    return this.done;
  }

  reset(): void {
    this.done = undefined;
  }
}
