// The one version number of every Atoll package, the `atoll` command and GET /v1/health.
// Bump it here; the packages' package.json versions are checked against it (protocol test) and
// the packed package.json files are stamped with it (scripts/pack.mjs).
export const VERSION = "0.1.0";
