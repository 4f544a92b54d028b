// Every route module registers here. One file per area under routes/.
import type { Route } from "../http.js";
import { versionRoutes } from "./version.js";

export function allRoutes(): Route[] {
  return [...versionRoutes()];
}
