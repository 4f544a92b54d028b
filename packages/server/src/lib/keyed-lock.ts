// Per-key promise lock: operations on one key (a sandbox id) run one after another, different keys
// in parallel. Used by the manager (get-or-create makes exactly one sandbox; sleep never races a
// wake) and by the oci driver (start/stop/destroy of one sandbox never interleave).
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
