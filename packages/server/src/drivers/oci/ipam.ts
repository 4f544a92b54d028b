// Host-global, race-free IPv4 allocator for sandboxes on one bridge. Each address is a lock file
// created with O_EXCL under <runDir>/ipam/<bridge>/, so several control planes (different data
// dirs, even different processes) never hand out the same address.
import { mkdirSync, openSync, closeSync, writeSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import path from "node:path";

export interface Subnet {
  network: number;
  prefix: number;
  size: number;
  /** Host (gateway) address on the bridge: network + 1. */
  gateway: string;
}

export function ipToInt(ip: string): number {
  const p = ip.split(".").map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`Cannot parse IPv4 address: ${ip}`);
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function parseSubnet(cidr: string): Subnet {
  const [addr, pre] = cidr.split("/");
  const prefix = Number(pre);
  if (!addr || !Number.isInteger(prefix) || prefix < 8 || prefix > 29) throw new Error(`Cannot parse subnet ${cidr}: expected a.b.c.d/8..29`);
  const size = 2 ** (32 - prefix);
  const network = (ipToInt(addr) & ~(size - 1)) >>> 0;
  return { network, prefix, size, gateway: intToIp(network + 1) };
}

export class Ipam {
  private readonly dir: string;
  private next = 2;
  constructor(runDir: string, bridge: string, private readonly subnet: Subnet) {
    this.dir = path.join(runDir, "ipam", bridge);
    mkdirSync(this.dir, { recursive: true });
  }

  /** Reserves a free address for owner (a free-form label kept in the lock file). */
  allocate(owner: string): string {
    const { network, size } = this.subnet;
    const used = new Set(readdirSync(this.dir));
    const span = size - 3; // offsets 2 .. size-2 (skip network, gateway, broadcast)
    for (let i = 0; i < span; i++) {
      const off = 2 + ((this.next - 2 + i) % span);
      const ip = intToIp(network + off);
      if (used.has(ip)) continue;
      try {
        const fd = openSync(path.join(this.dir, ip), "wx", 0o644);
        writeSync(fd, owner);
        closeSync(fd);
        this.next = off + 1;
        return ip;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
    }
    throw new Error(`Cannot allocate an address: subnet ${intToIp(network)}/${this.subnet.prefix} is full`);
  }

  /** Frees an address; only if owner still holds it (idempotent). */
  release(ip: string, owner: string): void {
    const file = path.join(this.dir, ip);
    try {
      if (readFileSync(file, "utf8") === owner) unlinkSync(file);
    } catch {
      /* already free */
    }
  }

  /** Who holds an address (the label given to allocate), or undefined when it is free. */
  owner(ip: string): string | undefined {
    try {
      return readFileSync(path.join(this.dir, ip), "utf8");
    } catch {
      return undefined;
    }
  }

  /** Addresses held by owners whose label starts with prefix (for cleaning up after a crash). */
  heldBy(prefix: string): { ip: string; owner: string }[] {
    const out: { ip: string; owner: string }[] = [];
    for (const ip of readdirSync(this.dir)) {
      try {
        const owner = readFileSync(path.join(this.dir, ip), "utf8");
        if (owner.startsWith(prefix)) out.push({ ip, owner });
      } catch { /* raced */ }
    }
    return out;
  }
}
