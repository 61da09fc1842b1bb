/**
 * The LVS side of the import: virtual_server_group, virtual_server and real_server blocks;
 * checker settings given on a server are copied into its checkers.
 *
 * @module
 */
import { formatIp, parseIp, parseIpv4 } from "../../net/ip.ts";
import { SCHEDULERS as SCHEDULER_NAMES } from "../schema.ts";
import {
  applyInherited,
  CHECK_TYPES,
  convertCheck,
  INHERITED,
  inheritedTable,
  orderedCheck,
} from "./checks.ts";
import {
  type Ctx,
  formatMs,
  type Handler,
  hostPort,
  IGNORED,
  type Obj,
  ordered,
  set,
} from "./context.ts";
import { dispatch, keyOrder, SECTIONS } from "./mapping.ts";
import type { KaNode } from "./parser.ts";

const SCHEDULERS: ReadonlySet<string> = new Set(SCHEDULER_NAMES);

/** The result of converting the LVS side. */
export interface LvsOut {
  groups: Map<string, unknown[]>;
  servers: Obj[];
  serverNodes: KaNode[];
  handled: Set<KaNode>;
}

/** Converts virtual_server_group and virtual_server blocks. */
export function convertLvs(
  nodes: KaNode[],
  ctx: Ctx,
  trackFiles: Map<string, { path: string; weight: number }>,
): LvsOut {
  const r: LvsOut = { groups: new Map(), servers: [], serverNodes: [], handled: new Set() };
  for (const n of nodes) {
    if (n.keyword !== "virtual_server_group") continue;
    r.handled.add(n);
    const name = ctx.arg(n);
    if (name !== null) r.groups.set(name, convertGroup(n, ctx));
  }
  for (const n of nodes) {
    if (n.keyword !== "virtual_server") continue;
    r.handled.add(n);
    const vs = convertVirtualServer(n, ctx, r, trackFiles);
    if (vs !== null) {
      r.servers.push(vs);
      r.serverNodes.push(n);
    }
  }
  return r;
}

/**
 * `ADDR PORT` -> `ADDR:PORT` (IPv6 in brackets), or null after a report. A port of 0 (or none,
 * where `portRequired` is false) is written as the bare address: the port of the service, as
 * keepalived has it (fwmark services have none).
 */
function endpoint(n: KaNode, ctx: Ctx, addrAt: number, portRequired: boolean): string | null {
  const v = ctx.arg(n, addrAt);
  if (v === null) return null;
  const a = ctx.ip(n, v);
  if (a === null) return null;
  if (n.args[addrAt + 1] === undefined) {
    if (portRequired) {
      ctx.error(n, `${n.keyword}: missing port after "${v}"`);
      return null;
    }
    return formatIp(a.bytes);
  }
  const port = ctx.int(n, 0, 65535, addrAt + 1);
  if (port === null) return null;
  return port === 0 ? formatIp(a.bytes) : hostPort(a, port);
}

function convertGroup(n: KaNode, ctx: Ctx): unknown[] {
  const out: unknown[] = [];
  for (const e of ctx.block(n)) {
    if (e.keyword === "fwmark") {
      const m = ctx.int(e, 1, 4_294_967_295);
      if (m !== null) out.push({ fwmark: m });
      continue;
    }
    const range = /^(.+)-([0-9a-fA-F]+)$/.exec(e.keyword);
    const base = range === null ? null : parseIp(range[1]!);
    if (range !== null && base !== null) {
      const end = base.family === "ipv4" ? Number(range[2]) : parseInt(range[2]!, 16);
      const first = base.family === "ipv4"
        ? base.bytes[3]!
        : (base.bytes[14]! << 8) | base.bytes[15]!;
      const max = base.family === "ipv4" ? 255 : 0xffff;
      if (base.family === "ipv4" && !/^[0-9]+$/.test(range[2]!) || end < first || end > max) {
        ctx.error(e, `virtual_server_group: range "${e.keyword}" does not end above its start`);
        continue;
      }
      if (e.args[0] === undefined) {
        ctx.error(e, `virtual_server_group: missing port after "${e.keyword}"`);
        continue;
      }
      const port = ctx.int(e, 0, 65535, 0);
      if (port !== null) {
        out.push({ range: `${formatIp(base.bytes)}-${range[2]}`, port });
      }
      ctx.extra(e, 1);
      continue;
    }
    const a = ctx.ip(e, e.keyword);
    if (a === null) continue;
    if (e.args[0] === undefined) {
      ctx.error(e, `virtual_server_group: missing port after "${e.keyword}"`);
      continue;
    }
    const port = ctx.int(e, 0, 65535, 0);
    if (port !== null) out.push(port === 0 ? formatIp(a.bytes) : hostPort(a, port));
    ctx.extra(e, 1);
  }
  return out;
}

function lvsMethod(c: KaNode, ctx: Ctx, o: Obj): void {
  ctx.noBlock(c);
  const v = ctx.arg(c);
  if (v === null) return;
  if (v !== "NAT" && v !== "DR" && v !== "TUN") {
    ctx.warn(c, `${c.keyword}: "${v}" is not NAT, DR or TUN; ${IGNORED}`);
    return;
  }
  o.forwarding = v;
  if (v === "TUN" && c.args[1] === "type") {
    ctx.useAll(c);
    const t = c.args[2];
    if (t === "ipip" || t === "gue" || t === "gre") o.tunnel_type = t;
    else ctx.warn(c, `${c.keyword}: tunnel type "${t ?? ""}" is not ipip, gue or gre; ${IGNORED}`);
    let used = 3;
    if (t === "gue" && c.args[3] === "port") {
      const port = ctx.int(c, 1, 65535, 4);
      if (port !== null) o.tunnel_port = port;
      used = 5;
    }
    if (c.args.length > used) {
      ctx.warn(
        c,
        `${c.keyword}: tunnel options "${
          c.args.slice(used).join(" ")
        }" are not supported and were dropped`,
      );
    }
  }
}

function convertVirtualServer(
  n: KaNode,
  ctx: Ctx,
  r: LvsOut,
  trackFiles: ReadonlyMap<string, { path: string; weight: number }>,
): Obj | null {
  const o: Obj = {};
  if (n.args[0] === "fwmark") {
    ctx.use(n, 1);
    const m = ctx.int(n, 1, 4_294_967_295, 1);
    if (m === null) return null;
    o.fwmark = m;
  } else if (n.args[0] === "group") {
    ctx.use(n, 1);
    const g = ctx.arg(n, 1);
    if (g === null) return null;
    if (!r.groups.has(g)) {
      ctx.error(n, `virtual_server: no virtual_server_group named "${g}"`);
      return null;
    }
    o.group = g;
  } else {
    const ep = endpoint(n, ctx, 0, true);
    if (ep === null) return null;
    o.address = ep;
  }
  ctx.leftover(n);
  const flag = (name: string): Handler<Obj> => (c) => {
    ctx.noBlock(c);
    // check_parser.c lbflags_handler: sh-* / mh-* count only if the scheduler set so far is
    // sh / mh; flag-N always.
    const need = name.slice(0, 2);
    if ((need === "sh" || need === "mh") && o.scheduler !== need) {
      ctx.warn(
        c,
        `${name}: the scheduler set before it is ${String(o.scheduler ?? "none")}, not ${need}; ` +
          "keepalived ignores the flag, and so does the import",
      );
      return;
    }
    const flags = (o.scheduler_flags as string[] | undefined) ?? [];
    if (!flags.includes(name)) flags.push(name);
    o.scheduler_flags = flags;
  };
  const realServers: Obj[] = [];
  let rsWeight: number | null = null;
  const sched: Handler<Obj> = (c) => {
    ctx.noBlock(c);
    const v = ctx.arg(c);
    if (v === null) return;
    if (SCHEDULERS.has(v)) o.scheduler = v;
    else {
      ctx.warn(
        c,
        `${c.keyword}: "${v}" is not an IPVS scheduler (${[...SCHEDULERS].join(" ")}); ` +
          `${IGNORED} (the scheduler stays ${String(o.scheduler ?? "wlc")})`,
      );
    }
  };
  // alpha and delay_loop are the virtual server's own keys too (alpha a flag there).
  const { alpha: _a, delay_loop: _d, ...inherited } = inheritedTable(ctx);
  const table: Record<string, Handler<Obj>> = {
    ...inherited,
    lb_algo: sched,
    lvs_sched: sched,
    "sh-port": flag("sh-port"),
    "sh-fallback": flag("sh-fallback"),
    "mh-port": flag("mh-port"),
    "mh-fallback": flag("mh-fallback"),
    "flag-1": flag("flag-1"),
    "flag-2": flag("flag-2"),
    "flag-3": flag("flag-3"),
    ip_family: set("family", (c) => {
      const v = ctx.arg(c);
      if (v === "inet") return "ipv4";
      if (v === "inet6") return "ipv6";
      if (v !== null) ctx.warn(c, `ip_family: "${v}" is not inet or inet6; ${IGNORED}`);
      return null;
    }, ctx),
    lb_kind: (c, out) => lvsMethod(c, ctx, out),
    lvs_method: (c, out) => lvsMethod(c, ctx, out),
    persistence_timeout: set("persistence_timeout", (c) => {
      // check_parser.c pto_handler: no value is 360 s; the value must be 1 to 2678400.
      if (c.args.length === 0) return "360s";
      const v = c.args[0]!;
      ctx.use(c, 1);
      if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 2_678_400) {
        ctx.warn(
          c,
          `persistence_timeout: "${v}" is not 1-2678400 seconds; ${IGNORED} (no persistence)`,
        );
        return null;
      }
      return formatMs(Number(v) * 1000);
    }, ctx),
    persistence_granularity: set("persistence_granularity", (c) => {
      const v = ctx.arg(c);
      if (v === null) return null;
      if (parseIpv4(v) !== null || /^[0-9]+$/.test(v) && Number(v) <= 128) return v;
      ctx.warn(
        c,
        `persistence_granularity: "${v}" is not a netmask or IPv6 prefix length; ${IGNORED}`,
      );
      return null;
    }, ctx),
    weight: (c) => {
      // check_parser.c vs_weight_handler: the weight of real servers that set none.
      ctx.noBlock(c);
      rsWeight = ctx.int(c, 1, 65535) ?? rsWeight;
    },
    ops: (c, out) => {
      ctx.noBlock(c);
      out.ops = true;
    },
    sorry_server: set("sorry_server", (c) => endpoint(c, ctx, 0, false), ctx),
    real_server: (c) => {
      const rs = convertRealServer(c, ctx, trackFiles);
      if (rs !== null) realServers.push(rs);
    },
  };
  dispatch(ctx, ctx.block(n), table, o, SECTIONS.virtualServer);
  finishVirtualServer(n, o, ctx, r);
  // Checker settings given on the virtual server are defaults for every checker below it;
  // delay_loop and alpha also mean something on the virtual server itself and stay there.
  const inherit = takeInherited(o, ["delay_loop", "alpha"]);
  for (const rs of realServers) {
    if (rs.weight === undefined) rs.weight = rsWeight ?? 1;
    const checks = rs.checks as Obj[];
    for (const chk of checks) applyInherited(chk, inherit);
    if (checks.length > 0) rs.checks = checks.map(orderedCheck);
    else delete rs.checks;
  }
  if (realServers.length > 0) {
    o.real_servers = realServers.map((rs) => ordered(rs, keyOrder(SECTIONS.realServer)));
  } else ctx.warn(n, `virtual_server ${n.args.join(" ")}: no real_server given`);
  return ordered(o, keyOrder(SECTIONS.virtualServer));
}

/** keepalived's checks of a complete virtual server (check_data.c validate_check_config). */
function finishVirtualServer(n: KaNode, o: Obj, ctx: Ctx, r: LvsOut): void {
  const groupEntries = o.group === undefined ? [] : r.groups.get(o.group as string) ?? [];
  const byAddress = o.address !== undefined ||
    groupEntries.some((e) => typeof e === "string" || "range" in (e as Obj));
  if (byAddress && o.protocol === undefined) {
    // The kernel takes protocol 0 as UDP, so keepalived sets UDP; haagent's default is TCP.
    o.protocol = "UDP";
    ctx.warn(
      n,
      "virtual_server: no protocol given; keepalived 2.2.7 uses UDP then, written as UDP",
    );
  }
  if (byAddress && o.ops === true && o.protocol !== "UDP") {
    ctx.warn(
      n,
      "virtual_server: ops (one-packet scheduling) needs UDP; keepalived resets it, and so does the import",
    );
    delete o.ops;
  }
  const portless = (typeof o.address === "string" && !/:[0-9]+$/.test(o.address)) ||
    groupEntries.some((e) => (e as Obj).port === 0 || (typeof e === "string" && /:0$/.test(e)));
  if (byAddress && portless && o.persistence_timeout === undefined) {
    ctx.warn(
      n,
      "virtual_server: port 0 is valid for persistent services only; keepalived makes it " +
        "persistent for 360 s, written as persistence_timeout: 360s",
    );
    o.persistence_timeout = "360s";
  }
  // wlc and NAT are the defaults of both; written out for the reader.
  o.scheduler ??= "wlc";
  o.forwarding ??= "NAT";
}

/** Moves the inherited checker settings out of `o` (except `keep`, which are copied). */
function takeInherited(o: Obj, keep: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of INHERITED) {
    if (o[k] === undefined) continue;
    out[k] = o[k];
    if (!keep.includes(k)) delete o[k];
  }
  for (const k of keep) delete out[k];
  return out;
}

function convertRealServer(
  n: KaNode,
  ctx: Ctx,
  trackFiles: ReadonlyMap<string, { path: string; weight: number }>,
): Obj | null {
  const address = endpoint(n, ctx, 0, false);
  if (address === null) return null;
  ctx.leftover(n);
  const o: Obj = { address };
  const checks: Obj[] = [];
  const checker = (type: string): Handler<Obj> => (c) => {
    checks.push(...convertCheck(c, type, ctx, trackFiles));
  };
  const table: Record<string, Handler<Obj>> = {
    ...inheritedTable(ctx),
    lvs_method: (c, out) => lvsMethod(c, ctx, out),
    lb_kind: (c, out) => lvsMethod(c, ctx, out),
  };
  for (const t of CHECK_TYPES) table[t] = checker(t);
  dispatch(ctx, ctx.block(n), table, o, SECTIONS.realServer);
  const inherit = takeInherited(o, []);
  for (const chk of checks) applyInherited(chk, inherit);
  o.checks = checks;
  return o;
}
