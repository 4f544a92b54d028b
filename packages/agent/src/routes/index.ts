// Every route module registers here. One file per area under routes/.
import type { Route } from "../http.js";
import { versionRoutes } from "./version.js";
import { fileRoutes } from "./files.js";
import { archiveRoutes } from "./archive.js";
import { watchRoutes } from "./watch.js";
import { gitRoutes } from "./git.js";
import { interpreterRoutes } from "./interpreter.js";

export function allRoutes(): Route[] {
  return [...versionRoutes(), ...fileRoutes(), ...archiveRoutes(), ...watchRoutes(), ...gitRoutes(), ...interpreterRoutes()];
}
