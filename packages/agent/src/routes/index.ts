// Every route module registers here. One file per area under routes/.
import type { Route } from "../http.js";
import { versionRoutes } from "./version.js";
import { fileRoutes } from "./files.js";
import { archiveRoutes } from "./archive.js";
import { watchRoutes } from "./watch.js";
import { gitRoutes } from "./git.js";
import { sessionRoutes } from "./session.js";
import { executeRoutes } from "./execute.js";
import { processRoutes } from "./process.js";
import { envRoutes } from "./env.js";
import { portRoutes } from "./ports.js";
import { interpreterRoutes } from "./interpreter.js";

export function allRoutes(): Route[] {
  return [...versionRoutes(), ...fileRoutes(), ...archiveRoutes(), ...watchRoutes(), ...gitRoutes(), ...sessionRoutes(), ...executeRoutes(), ...processRoutes(), ...envRoutes(), ...portRoutes(), ...interpreterRoutes()];
}
