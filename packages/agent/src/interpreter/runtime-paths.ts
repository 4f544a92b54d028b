// Where the executors live and how they are started. In the bundle the runtime files sit next to
// agent.mjs (dist/, bind-mounted at /opt/atoll/agent); from source (tsx) they are found in
// packages/agent/dist after `node scripts/build.mjs`, the Python runner also in packages/agent/runtime.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export type ExecutorKind = "python" | "node";

function candidates(file: string): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return [
    path.join(here, file), // bundled: dist/agent.mjs → dist/<file>
    path.resolve(here, "../../dist", file), // source: src/interpreter → dist
    path.resolve(here, "../../runtime", file), // source: src/interpreter → runtime
  ];
}

export function runtimeFile(file: string): string {
  const found = candidates(file).find((p) => existsSync(p));
  if (!found) throw new Error(`Cannot find interpreter runtime file ${file}: run node scripts/build.mjs`);
  return found;
}

/** argv of an executor. Overrides (JSON arrays) let tests run Python inside the image rootfs via chroot. */
export function executorArgv(kind: ExecutorKind): string[] {
  if (kind === "python") {
    const prefix = process.env.ATOLL_INTERPRETER_PYTHON ? (JSON.parse(process.env.ATOLL_INTERPRETER_PYTHON) as string[]) : ["python3"];
    const runner = process.env.ATOLL_INTERPRETER_PYTHON_RUNNER ?? runtimeFile("python_runner.py");
    return [...prefix, "-u", runner];
  }
  const runner = process.env.ATOLL_INTERPRETER_JS_RUNNER ?? runtimeFile("js_runner.mjs");
  return [process.execPath, runner];
}
