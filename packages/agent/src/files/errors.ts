// Turns fs errno errors into coded AtollErrors with readable "Cannot X: Y" messages.
import { AtollError, codeForErrno } from "@atoll/protocol";

export function fsError(err: unknown, verb: string, p: string): unknown {
  if (err instanceof AtollError) return err;
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e.code !== "string") return err;
  // Node messages look like "ENOENT: no such file or directory, open '/x'".
  const m = /^[A-Z0-9]+: ([^,]+)/.exec(e.message ?? "");
  const why = m ? m[1] : e.code;
  return new AtollError(codeForErrno(e.code), `Cannot ${verb} ${p}: ${why}`, { path: p, errno: e.code, operation: verb });
}

/** Runs an fs operation and maps its errno failure. */
export async function withFs<T>(verb: string, p: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fsError(err, verb, p);
  }
}
