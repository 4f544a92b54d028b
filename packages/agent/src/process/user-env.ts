// The environment user code starts from: the agent's own, minus Atoll's configuration.
// Every ATOLL_* variable the agent inherits (ATOLL_WORKDIR, ATOLL_STARTUP, ATOLL_AGENT_NODE set by
// the driver; ATOLL_AGENT_*, ATOLL_PROCESS_*, ATOLL_INTERPRETER_* ... tuning) is internal: names
// starting with ATOLL_ are reserved. The agent then adds the per-command ones users may rely on
// (ATOLL_EXEC_ID, ATOLL_PROCESS_ID, ATOLL_PROCESS_KEY) itself.

export function isInternalEnvName(name: string): boolean {
  return name.startsWith("ATOLL_");
}

export function userBaseEnv(src: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(src)) {
    if (v !== undefined && !isInternalEnvName(k)) env[k] = v;
  }
  return env;
}
