// Minimal leveled logger: one line per event on stderr, "[atoll] level message {json}".
export type LogLevel = "debug" | "info" | "warn" | "error";
export interface Logger {
  debug(msg: string, extra?: Record<string, unknown>): void;
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function makeLogger(level: LogLevel = "info"): Logger {
  const min = ORDER[level] ?? 20;
  const out = (l: LogLevel) => (msg: string, extra?: Record<string, unknown>) => {
    if (ORDER[l] < min) return;
    process.stderr.write(`${new Date().toISOString()} [atoll] ${l} ${msg}${extra ? " " + JSON.stringify(extra) : ""}\n`);
  };
  return { debug: out("debug"), info: out("info"), warn: out("warn"), error: out("error") };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
