/**
 * Announcing to BGP (global.announce, `announce` on instances and virtual servers): a table of
 * its own, a protocol number nobody else uses, and something to announce.
 *
 * @module
 */
import { BUILTIN_RESERVED, type ReservedProtocols } from "./rt_protos.ts";
import type { Walker } from "./walker.ts";
import type { Config } from "./types.ts";

/** Tables that are not dedicated to announced routes. */
const SPECIAL_TABLES: ReadonlyMap<number, string> = new Map([
  [0, "unspec"],
  [253, "default"],
  [254, "main"],
  [255, "local"],
]);

/** global.announce and the announce switches of instances and virtual servers. */
export function announceRules(
  cfg: Config,
  w: Walker,
  reserved: ReservedProtocols | undefined,
): void {
  const g = "global.announce";
  const { table, protocol } = cfg.global.announce;
  const special = SPECIAL_TABLES.get(table);
  if (special !== undefined) {
    w.error(
      w.at(`${g}.table`),
      `${g}.table`,
      `table ${table} is the kernel's ${special} table (expected a table of its own, like 198)`,
    );
  }
  const list = reserved ?? { numbers: BUILTIN_RESERVED, source: "the kernel's list" };
  const owner = list.numbers.get(protocol);
  if (owner !== undefined) {
    w.error(
      w.at(`${g}.protocol`),
      `${g}.protocol`,
      `protocol ${protocol} is reserved for ${owner} (${list.source}) (expected a number ` +
        `no routing daemon uses, like 248)`,
    );
  }
  let announcing = 0;
  for (const inst of cfg.vrrpInstances) {
    if (!inst.announce) continue;
    announcing++;
    if (inst.vips.length + inst.excludedVips.length === 0) {
      const p = `vrrp_instances.${inst.name}.announce`;
      w.error(w.at(p), p, "the instance has no virtual_ipaddresses to announce");
    }
  }
  const vipOf = new Map<string, string>();
  for (const inst of cfg.vrrpInstances) {
    for (const v of [...inst.vips, ...inst.excludedVips]) vipOf.set(v.address, inst.name);
  }
  for (const vs of cfg.virtualServers) {
    if (!vs.announce) continue;
    announcing++;
    const p = `${w.pathOf.get(vs) ?? "virtual_servers"}.announce`;
    const owner = vs.address === undefined ? undefined : vipOf.get(vs.address);
    if (owner !== undefined) {
      w.warn(
        w.at(p),
        p,
        `${vs.address} is a virtual address of ${owner}: announced while the quorum holds, ` +
          `it is announced by the backups too (announce it from ${owner} instead, and let ` +
          `${owner} track the service)`,
      );
    }
    if (vs.fwmark !== undefined) {
      w.error(w.at(p), p, "a fwmark service has no address to announce");
    } else if (
      vs.group !== undefined &&
      (cfg.virtualServerGroups[vs.group] ?? []).every((e) => e.kind === "fwmark")
    ) {
      w.error(w.at(p), p, `group ${vs.group} has no address or range to announce`);
    }
  }
  if (announcing === 0 && w.positions.has(g)) {
    w.warn(
      w.at(g),
      g,
      "no instance or virtual server has announce: true, so nothing is announced",
    );
  }
}
