// The oci driver: createOciDriver(config) is what the control plane wires up.
import { OciDriver } from "./driver.js";
import type { OciDriverConfig } from "./config.js";

export { OciDriver, MIN_LIMITS } from "./driver.js";
export { DEFAULT_LIMITS, type OciDriverConfig } from "./config.js";

export function createOciDriver(config: OciDriverConfig): OciDriver {
  return new OciDriver(config);
}
