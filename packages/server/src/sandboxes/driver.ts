// Picks the sandbox backend from config (ATOLL_DRIVER). oci is the default and only one so far.
import { AtollError, ErrorCode } from "@atoll/protocol";
import type { ServerConfig } from "../config.js";
import { createOciDriver } from "../drivers/oci/index.js";
import type { Driver } from "../drivers/types.js";

export function createDriver(config: ServerConfig): Driver {
  switch (config.driver) {
    case "oci":
      return createOciDriver({
        dataDir: config.dataDir,
        baseImage: config.baseImage,
        runtime: config.runtime,
        bridge: config.bridge,
        subnet: config.subnet,
        group: config.group,
        poolSize: config.poolSize,
        defaults: config.defaultLimits,
        trace: config.ociTrace,
        diskReserveMiB: config.diskReserveMiB,
        diskOvercommit: config.diskOvercommit,
        agentDir: config.agentDir,
      });
    default:
      throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot use ATOLL_DRIVER=${config.driver}: supported drivers are: oci`);
  }
}
