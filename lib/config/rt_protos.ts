/**
 * Route protocol numbers that the kernel and routing daemons reserve: iproute2's `rt_protos`
 * format (one `NUMBER NAME` per line, `#` comments) and a built-in list for hosts without the
 * file, read when a configuration is checked or loaded. `global.announce.protocol` must not be
 * one of them, or a speaker filtering on the
 * protocol would take another daemon's routes for haagent's (or haagent would delete them).
 *
 * @module
 */

/** Protocol numbers reserved whatever any file says: unspec, redirect, kernel, boot, static. */
export const ALWAYS_RESERVED: ReadonlyMap<number, string> = new Map([
  [0, "unspec"],
  [1, "redirect"],
  [2, "kernel"],
  [3, "boot"],
  [4, "static"],
]);

/** The kernel's RTPROT_* names (linux/rtnetlink.h), used when no rt_protos file is found. */
export const BUILTIN_RESERVED: ReadonlyMap<number, string> = new Map([
  ...ALWAYS_RESERVED,
  [8, "gated"],
  [9, "ra"],
  [10, "mrt"],
  [11, "zebra"],
  [12, "bird"],
  [13, "dnrouted"],
  [14, "xorp"],
  [15, "ntk"],
  [16, "dhcp"],
  [17, "mrouted"],
  [18, "keepalived"],
  [42, "babel"],
  [99, "openr"],
  [186, "bgp"],
  [187, "isis"],
  [188, "ospf"],
  [189, "rip"],
  [192, "eigrp"],
]);

/** The reserved protocol numbers and where the list came from (for messages). */
export interface ReservedProtocols {
  numbers: ReadonlyMap<number, string>;
  /** `/etc/iproute2/rt_protos`, or `the kernel's list` for the built-in one. */
  source: string;
}

/**
 * Parses rt_protos text: `NUMBER NAME` lines (decimal or 0x hex), comments and blank lines
 * skipped, malformed lines ignored as iproute2 does. An entry named `haagent` is the operator
 * naming our own protocol and is not a reservation. The always-reserved numbers are added.
 */
export function parseRtProtos(text: string): Map<number, string> {
  const out = new Map<number, string>(ALWAYS_RESERVED);
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    const m = /^(0x[0-9a-fA-F]+|\d+)\s+(\S+)/.exec(line);
    if (m === null) continue;
    const n = Number(m[1]);
    if (!Number.isInteger(n) || n < 0 || n > 255 || m[2] === "haagent") continue;
    out.set(n, m[2]!);
  }
  return out;
}

/** Where iproute2 keeps the protocol names: the admin's copy, then the distribution's. */
export const RT_PROTOS_FILES = ["/etc/iproute2/rt_protos", "/usr/share/iproute2/rt_protos"];

/** The route protocols this host reserves (its rt_protos), or the kernel's list without one. */
export function readReservedProtocols(
  files: readonly string[] = RT_PROTOS_FILES,
): ReservedProtocols {
  for (const file of files) {
    try {
      return { numbers: parseRtProtos(Deno.readTextFileSync(file)), source: file };
    } catch { /* absent or unreadable: the next one */ }
  }
  return { numbers: BUILTIN_RESERVED, source: "the kernel's list" };
}
