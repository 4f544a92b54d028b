// The code interpreter: per-context Python / JavaScript / TypeScript executors (see docs/interpreter.md).
import { InterpreterManager } from "./manager.js";

export { InterpreterManager } from "./manager.js";

/** The agent's one manager. */
export const interpreter = new InterpreterManager();
