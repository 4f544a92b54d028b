// Per-key promise lock: operations on one sandbox id run one after another, so concurrent
// get-or-create calls for a new id make exactly one sandbox, and sleep never races a wake.
export class KeyedLock {
  private tails = new Map<string, Promise<unknown>>();

  busy(key: string): boolean {
    return this.tails.has(key);
  }

  /** Resolves when every operation queued so far has finished. */
  async drain(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
