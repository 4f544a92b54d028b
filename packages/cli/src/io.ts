// Output helpers: aligned tables and relative times, written to the command's streams.
export interface IO {
  out: (s: string) => void;
  err: (s: string) => void;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export const processIO: IO = {
  out: (s) => process.stdout.write(s + "\n"),
  err: (s) => process.stderr.write(s + "\n"),
  stdout: process.stdout,
  stderr: process.stderr,
};

/** Prints rows as columns padded to the widest cell. */
export function table(io: IO, header: string[], rows: (string | number | undefined)[][]): void {
  const all = [header, ...rows.map((r) => r.map((c) => (c === undefined ? "-" : String(c))))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  for (const r of all) io.out(r.map((c, i) => (i === r.length - 1 ? c : (c ?? "").padEnd(widths[i]!))).join("  ").trimEnd());
}

export function ago(iso: string | undefined): string {
  if (!iso) return "-";
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(s)) return "-";
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}
