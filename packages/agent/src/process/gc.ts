// Prompt collection of read buffers. Each pipe read gives the agent a fresh 64 KiB Buffer outside
// the JS heap; the log ring copies it and drops it at once, so almost nothing is allocated on the
// heap and V8 only collects when ~64 MiB of such garbage has piled up (its external-memory
// trigger). A process printing at full speed would thus grow the agent by tens of MiB. After every
// GC_EVERY_BYTES read, the agent runs a young-generation collection (a scavenge: ~1 ms), which
// frees those buffers. V8's gc() is reached through --expose-gc set at run time; without it,
// nothing happens (memory is then bounded by V8's own trigger).
import v8 from "node:v8";
import vm from "node:vm";

const GC_EVERY_BYTES = 4 * 1024 * 1024;
let gc: ((o?: { type: string }) => void) | null | undefined;
let readSinceGc = 0;

function gcFn(): ((o?: { type: string }) => void) | null {
  if (gc !== undefined) return gc;
  try {
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as (o?: { type: string }) => void;
  } catch {
    gc = null;
  }
  return gc;
}

/** Counts `n` bytes read from a child's pipe; collects the young generation every GC_EVERY_BYTES. */
export function noteBytesRead(n: number): void {
  readSinceGc += n;
  if (readSinceGc < GC_EVERY_BYTES) return;
  readSinceGc = 0;
  gcFn()?.({ type: "minor" });
}
