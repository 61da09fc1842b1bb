/**
 * The LVS side of the import: virtual_server_group, virtual_server and real_server blocks;
 * checker settings given on a server are copied into its checkers.
 *
 * @module
 */
import { formatIp, parseIp, parseIpv4 } from "../../net/ip.ts";
import { SCHEDULERS as SCHEDULER_NAMES } from "../schema.ts";
import { CHECK_ORDER, CHECK_TYPES, commonCheckTable, convertCheck } from "./checks.ts";
import {
  type Ctx,
  dispatch,
  formatMs,
  type Handler,
  hostPort,
  type Obj,
  ordered,
  set,
} from "./context.ts";
import type { KaNode } from "./parser.ts";

const SCHEDULERS: ReadonlySet<string> = new Set(SCHEDULER_NAMES);

const VS_ORDER = [
  "address",
  "fwmark",
  "group",
  "family",
  "protocol",
  "scheduler",
  "scheduler_flags",
  "forwarding",
  "tunnel_type",
  "tunnel_port",
  "persistence_timeout",
  "persistence_granularity",
  "delay_loop",
  "inhibit_on_failure",
  "quorum",
  "hysteresis",
  "quorum_up",
  "quorum_down",
  "smtp_alert",
  "alpha",
  "omega",
  "ops",
  "sorry_server",
  "real_servers",
] as const;

const RS_ORDER = [
  "address",
  "weight",
  "forwarding",
  "upper_threshold",
  "lower_threshold",
  "inhibit_on_failure",
  "notify_up",
  "notify_down",
  "smtp_alert",
  "checks",
] as const;

/** Checker settings a virtual or real server passes down to its checkers. */
const INHERITED = [
  "connect_timeout",
  "retry",
  "delay_before_retry",
  "warmup",
  "delay_loop",
  "alpha",
  "virtualhost",
] as const;

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

/** `ADDR PORT` -> `ADDR:PORT` (IPv6 in brackets), or null with an error. */
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
  return port === null ? null : hostPort(a, port);
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
    if (port !== null) out.push(hostPort(a, port));
    ctx.extra(e, 1);
  }
  return out;
}

function lvsMethod(c: KaNode, ctx: Ctx, o: Obj): void {
  ctx.noBlock(c);
  const v = ctx.arg(c);
  if (v === null) return;
  if (v !== "NAT" && v !== "DR" && v !== "TUN") {
    ctx.error(c, `${c.keyword}: "${v}" is not NAT, DR or TUN`);
    return;
  }
  o.forwarding = v;
  if (v === "TUN" && c.args[1] === "type") {
    const t = c.args[2];
    if (t === "ipip" || t === "gue" || t === "gre") o.tunnel_type = t;
    else ctx.error(c, `${c.keyword}: tunnel type "${t ?? ""}" is not ipip, gue or gre`);
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
  } else ctx.extra(c, 1);
}

function convertVirtualServer(
  n: KaNode,
  ctx: Ctx,
  r: LvsOut,
  trackFiles: Map<string, { path: string; weight: number }>,
): Obj | null {
  const o: Obj = {};
  if (n.args[0] === "fwmark") {
    const m = ctx.int(n, 1, 4_294_967_295, 1);
    if (m === null) return null;
    o.fwmark = m;
  } else if (n.args[0] === "group") {
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
  const flag = (name: string): Handler<Obj> => (c) => {
    ctx.noBlock(c);
    const flags = (o.scheduler_flags as string[] | undefined) ?? [];
    if (!flags.includes(name)) flags.push(name);
    o.scheduler_flags = flags;
  };
  const realServers: Obj[] = [];
  const sched: Handler<Obj> = (c) => {
    ctx.noBlock(c);
    const v = ctx.arg(c);
    if (v === null) return;
    if (SCHEDULERS.has(v)) o.scheduler = v;
    else ctx.error(c, `${c.keyword}: "${v}" is not one of ${[...SCHEDULERS].join(" ")}`);
  };
  const table: Record<string, Handler<Obj>> = {
    ...commonCheckTable(ctx),
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
      if (v !== null) ctx.error(c, `ip_family: "${v}" is not inet or inet6`);
      return null;
    }, ctx),
    lb_kind: (c, out) => lvsMethod(c, ctx, out),
    lvs_method: (c, out) => lvsMethod(c, ctx, out),
    protocol: set("protocol", (c) => {
      const v = ctx.arg(c);
      if (v === null || v === "TCP" || v === "UDP" || v === "SCTP") return v;
      ctx.error(c, `protocol: "${v}" is not TCP, UDP or SCTP`);
      return null;
    }, ctx),
    persistence_timeout: set("persistence_timeout", (c) => {
      if (c.args.length === 0) return "360s";
      const s = ctx.int(c, 1, 2_678_400);
      return s === null ? null : formatMs(s * 1000);
    }, ctx),
    persistence_granularity: set("persistence_granularity", (c) => {
      const v = ctx.arg(c);
      if (v === null) return null;
      if (parseIpv4(v) !== null || /^[0-9]+$/.test(v) && Number(v) <= 128) return v;
      ctx.error(c, `persistence_granularity: "${v}" is not a netmask or IPv6 prefix length`);
      return null;
    }, ctx),
    inhibit_on_failure: set("inhibit_on_failure", (c) => ctx.bool(c), ctx),
    quorum: set("quorum", (c) => ctx.int(c, 1, 2_147_483_647), ctx),
    hysteresis: set("hysteresis", (c) => ctx.int(c, 0, 2_147_483_647), ctx),
    quorum_up: set("quorum_up", (c) => ctx.script(c), ctx),
    quorum_down: set("quorum_down", (c) => ctx.script(c), ctx),
    smtp_alert: set("smtp_alert", (c) => ctx.bool(c), ctx),
    omega: set("omega", (c) => ctx.bool(c), ctx),
    ops: set("ops", (c) => (ctx.extra(c, 0), true), ctx),
    sorry_server: set("sorry_server", (c) => endpoint(c, ctx, 0, false), ctx),
    real_server: (c) => {
      const rs = convertRealServer(c, ctx, trackFiles);
      if (rs !== null) realServers.push(rs);
    },
  };
  dispatch(ctx, ctx.block(n), table, o);
  // keepalived 2.2.7 sets UDP (with a config error) when a service by address has no
  // protocol (check_data.c); haagent's default is TCP, so UDP is written out.
  const byAddress = o.address !== undefined ||
    (o.group !== undefined &&
      (r.groups.get(o.group as string) ?? []).some((e) =>
        typeof e === "string" || "range" in (e as Obj)
      ));
  if (byAddress && o.protocol === undefined) {
    o.protocol = "UDP";
    ctx.warn(
      n,
      "virtual_server: no protocol given; keepalived 2.2.7 uses UDP then, written as UDP",
    );
  }
  // wlc and NAT are the defaults of both; written out for the reader.
  o.scheduler ??= "wlc";
  o.forwarding ??= "NAT";
  // Checker settings given on the virtual server are defaults for every checker below it;
  // delay_loop and alpha also mean something on the virtual server itself and stay there.
  const inherit = takeInherited(o, ["delay_loop", "alpha"]);
  for (const rs of realServers) {
    const checks = rs.checks as Obj[];
    for (const chk of checks) applyInherited(chk, inherit);
    if (checks.length > 0) rs.checks = checks.map((c) => ordered(c, CHECK_ORDER));
    else delete rs.checks;
  }
  if (realServers.length > 0) o.real_servers = realServers;
  else ctx.warn(n, `virtual_server ${n.args.join(" ")}: no real_server given`);
  return ordered(o, VS_ORDER);
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

/** Fills a checker's unset settings from its real or virtual server's. */
function applyInherited(chk: Obj, from: Obj): void {
  for (const k of INHERITED) {
    if (from[k] === undefined || chk.type === "FILE_CHECK") continue;
    if (k === "connect_timeout" && chk.type === "MISC_CHECK") continue;
    if (k === "virtualhost") {
      for (const u of (chk.urls as Obj[] | undefined) ?? []) u.virtualhost ??= from[k];
    } else if (chk[k] === undefined) chk[k] = from[k];
  }
}

function convertRealServer(
  n: KaNode,
  ctx: Ctx,
  trackFiles: Map<string, { path: string; weight: number }>,
): Obj | null {
  const address = endpoint(n, ctx, 0, false);
  if (address === null) return null;
  const o: Obj = { address };
  const checks: Obj[] = [];
  const checker = (type: string): Handler<Obj> => (c) => {
    checks.push(...convertCheck(c, type, ctx, trackFiles));
  };
  const table: Record<string, Handler<Obj>> = {
    ...commonCheckTable(ctx),
    weight: set("weight", (c) => ctx.int(c, 0, 65535), ctx),
    lvs_method: (c, out) => lvsMethod(c, ctx, out),
    lb_kind: (c, out) => lvsMethod(c, ctx, out),
    uthreshold: set("upper_threshold", (c) => ctx.int(c, 0, 2_147_483_647), ctx),
    lthreshold: set("lower_threshold", (c) => ctx.int(c, 0, 2_147_483_647), ctx),
    inhibit_on_failure: set("inhibit_on_failure", (c) => ctx.bool(c), ctx),
    notify_up: set("notify_up", (c) => ctx.script(c), ctx),
    notify_down: set("notify_down", (c) => ctx.script(c), ctx),
    smtp_alert: set("smtp_alert", (c) => ctx.bool(c), ctx),
  };
  for (const t of CHECK_TYPES) table[t] = checker(t);
  dispatch(ctx, ctx.block(n), table, o);
  const inherit = takeInherited(o, []);
  for (const chk of checks) applyInherited(chk, inherit);
  o.weight ??= 1;
  if (checks.length > 0) o.checks = checks;
  o.checks = checks;
  return ordered(o, RS_ORDER);
}

/** One checker block -> haagent checks (SMTP_CHECK with several `host` blocks -> several). */
