/**
 * The VRRP side of the import: global_defs, then the blocks instances refer to (vrrp_script,
 * vrrp_track_process, track_file), the instances (instance.ts) and the sync groups.
 *
 * @module
 */
import { parseIp } from "../../net/ip.ts";
import {
  type Ctx,
  formatMs,
  type Handler,
  hostPort,
  MAX_TIMER_SEC,
  type Obj,
  ordered,
  set,
} from "./context.ts";
import { convertInstance } from "./instance.ts";
import { dispatch, keyOrder, keywordTable, SECTIONS } from "./mapping.ts";
import { normalizeScalar } from "../scalars.ts";
import type { KaNode } from "./parser.ts";
import { convertProcess, convertScript, convertTrackFile } from "./tracking.ts";

/** The range keepalived reads vrrp_garp_interval and vrrp_gna_interval in (1 us to UINT_MAX us). */
const GAP_RANGE = [0.000001, 4294.967295] as const;

/** The result of converting the VRRP side. */
export interface VrrpOut {
  global: Obj;
  scripts: Map<string, Obj>;
  processes: Map<string, Obj>;
  instances: Map<string, Obj>;
  instanceNodes: Map<string, KaNode>;
  syncGroups: Map<string, Obj>;
  trackFiles: Map<string, { path: string; weight: number }>;
  /** global.lvs_sync_daemon, also set by an instance's lvs_sync_daemon_interface. */
  lvsSyncDaemon: { value: Obj | null };
  handled: Set<KaNode>;
}

/** An instance while it is being converted: the output plus what defaults depend on. */
/** Converts global_defs, vrrp_script, vrrp_track_process, track_file, vrrp_instance and vrrp_sync_group. */
export function convertVrrp(nodes: KaNode[], ctx: Ctx): VrrpOut {
  const r: VrrpOut = {
    global: {},
    scripts: new Map(),
    processes: new Map(),
    instances: new Map(),
    instanceNodes: new Map(),
    syncGroups: new Map(),
    trackFiles: new Map(),
    lvsSyncDaemon: { value: null },
    handled: new Set(),
  };
  let globalVersion = 2;
  let globalVersionNode: KaNode | null = null;
  let notifyFifo: string | null = null;

  const globalTable: Record<string, Handler<Obj>> = {
    smtp_server: set("smtp_server", (n) => {
      const host = ctx.arg(n);
      if (host === null) return null;
      const port = n.args.length > 1 ? ctx.int(n, 1, 65535, 1) : 25;
      if (port === null) return null;
      const a = parseIp(host);
      return a === null ? `${host}:${port}` : hostPort(a, port);
    }, ctx),
    smtp_connect_timeout: set("smtp_connect_timeout", (n) => {
      const s = ctx.int(n, 1, MAX_TIMER_SEC);
      return s === null ? null : formatMs(s * 1000);
    }, ctx),
    vrrp_version: (n) => {
      ctx.noBlock(n);
      globalVersionNode = n;
      const v = ctx.int(n, 2, 3);
      if (v !== null) globalVersion = v;
    },
    script_user: set("script_user", (n) => {
      // global_parser.c: script_user USER [GROUP] -> haagent's "user:group".
      const user = ctx.arg(n);
      const group = n.args[1];
      ctx.use(n, 2);
      return user === null ? null : group === undefined ? user : `${user}:${group}`;
    }, ctx),
    vrrp_garp_master_delay: set("garp_master_delay", (n) => secs(n, 0, 255), ctx),
    lvs_sync_daemon: set("lvs_sync_daemon", (n) => {
      // global_parser.c lvs_syncd_handler: IFACE INSTANCE [id N] [maxlen N] [port N] [ttl N]
      // [group ADDR]; the option words are the schema's (lvs_sync_daemon keepalived: names).
      ctx.useAll(n);
      const [iface, instance, ...rest] = n.args;
      if (iface === undefined || instance === undefined) {
        ctx.error(n, "lvs_sync_daemon: expected an interface and a vrrp_instance name");
        return null;
      }
      const out: Obj = { interface: iface, instance };
      const options = keywordTable(SECTIONS.lvsSyncDaemon);
      for (let i = 0; i < rest.length; i += 2) {
        const k = rest[i]!;
        const t = options.get(k);
        const v = rest[i + 1];
        if (t === undefined || v === undefined) {
          ctx.warn(n, `lvs_sync_daemon: option "${k}" is not supported and was dropped`);
          i--;
          continue;
        }
        const r = normalizeScalar(t.spec, /^[0-9]+$/.test(v) ? Number(v) : v, v);
        if (r.ok) out[t.key] = r.value;
        else ctx.error(n, `lvs_sync_daemon: ${k}: ${r.reason}`);
      }
      return out;
    }, ctx),
    vrrp_garp_master_refresh: set("garp_master_refresh", (n) => secs(n, 0, MAX_TIMER_SEC), ctx),
    // vrrp_garp_interval_handler: 1 us to UINT_MAX us, else logged and ignored (the default,
    // no gap, stays).
    vrrp_garp_interval: set("garp_interval", (n) => timer(n, GAP_RANGE[1], GAP_RANGE), ctx),
    vrrp_gna_interval: set("gna_interval", (n) => timer(n, GAP_RANGE[1], GAP_RANGE), ctx),
    vrrp_strict: set("vrrp_strict", (n) => {
      ctx.extra(n, 0);
      ctx.strict = true;
      return true;
    }, ctx),
    vrrp_check_unicast_src: (n) => {
      // haagent checks by default; keepalived's instances check only with this (see instance.ts).
      ctx.extra(n, 0);
      ctx.checkUnicastSrc = true;
    },
    vrrp_garp_lower_prio_delay: set("garp_lower_prio_delay", (n) => secs(n, 0, MAX_TIMER_SEC), ctx),
    vrrp_lower_prio_no_advert: set("lower_prio_no_advert", (n) => ctx.bool(n), ctx),
    vrrp_higher_prio_send_advert: set("higher_prio_send_advert", (n) => ctx.bool(n), ctx),
    notify_fifo: (n) => fifo(n),
    vrrp_notify_fifo: (n) => fifo(n),
  };

  function fifo(n: KaNode): void {
    const f = ctx.arg(n);
    if (f === null) return;
    notifyFifo = f;
    if (n.args.length > 1) {
      ctx.useAll(n);
      ctx.warn(
        n,
        `${n.keyword}: the fifo reader script "${n.args.slice(1).join(" ")}" was dropped`,
      );
    }
    ctx.warn(n, `${n.keyword}: written as notify_fifo on every vrrp instance`);
  }

  function secs(n: KaNode, min: number, max: number): string | null {
    const s = ctx.int(n, min, max);
    return s === null ? null : formatMs(s * 1000);
  }

  function timer(
    n: KaNode,
    maxSec: number,
    kaRange?: readonly [number, number],
  ): string | null {
    const ms = ctx.secondsMs(n, maxSec, 0, kaRange);
    return ms === null ? null : formatMs(ms);
  }

  // Pass 1: blocks other sections refer to (global_defs, vrrp_script, track_file).
  for (const n of nodes) {
    if (n.keyword === "global_defs") {
      r.handled.add(n);
      dispatch(ctx, ctx.block(n), globalTable, r.global, SECTIONS.global);
    } else if (n.keyword === "vrrp_script") {
      r.handled.add(n);
      const name = ctx.arg(n);
      const script = name === null ? null : convertScript(n, ctx);
      if (name !== null && script !== null) r.scripts.set(name, script);
    } else if (n.keyword === "vrrp_track_process") {
      r.handled.add(n);
      const name = ctx.arg(n);
      if (name !== null) {
        const p = convertProcess(n, ctx);
        if (p !== null) r.processes.set(name, p);
      }
    } else if (n.keyword === "track_file" || n.keyword === "vrrp_track_file") {
      r.handled.add(n);
      const name = ctx.arg(n);
      if (name !== null) {
        const tf = convertTrackFile(n, ctx);
        if (tf !== null) r.trackFiles.set(name, tf);
      }
    }
  }
  if (globalVersionNode !== null || nodes.some((n) => n.keyword === "vrrp_instance")) {
    r.global.vrrp_version = globalVersion;
  }

  // Pass 2: instances, then sync groups (which refer to instances). An instance without
  // interface or vrid (an error) is left out so that the rest still loads.
  r.lvsSyncDaemon.value = (r.global.lvs_sync_daemon as Obj | undefined) ?? null;
  const declared = new Set<string>();
  for (const n of nodes) {
    if (n.keyword !== "vrrp_instance") continue;
    r.handled.add(n);
    const name = ctx.arg(n);
    if (name === null) continue;
    if (r.instances.has(name)) {
      ctx.error(n, `vrrp_instance: "${name}" is defined twice`);
      continue;
    }
    declared.add(name);
    const inst = convertInstance(n, name, ctx, r, globalVersion);
    if (inst.interface === undefined || inst.vrid === undefined) continue;
    if (notifyFifo !== null && inst.notify_fifo === undefined) inst.notify_fifo = notifyFifo;
    r.instances.set(name, ordered(inst, keyOrder(SECTIONS.instance)));
    r.instanceNodes.set(name, n);
  }
  for (const n of nodes) {
    if (n.keyword !== "vrrp_sync_group") continue;
    r.handled.add(n);
    const name = ctx.arg(n);
    if (name === null) continue;
    const g = convertSyncGroup(n, ctx, r, declared);
    if (Array.isArray(g.members) && g.members.length > 0) r.syncGroups.set(name, g);
  }
  const usesV3 = [...r.instances.values()].some((i) => (i.version ?? globalVersion) === 3);
  if (usesV3) r.global.v3_checksum = "keepalived";
  if (r.lvsSyncDaemon.value !== null) r.global.lvs_sync_daemon = r.lvsSyncDaemon.value;
  r.global = ordered(r.global, keyOrder(SECTIONS.global));
  return r;
}

function convertSyncGroup(n: KaNode, ctx: Ctx, r: VrrpOut, declared: Set<string>): Obj {
  const out: Obj = {};
  dispatch(
    ctx,
    ctx.block(n),
    {
      group: (c) => {
        const members: string[] = [];
        for (const m of ctx.block(c)) {
          ctx.useAll(m);
          for (const name of [m.keyword, ...m.args]) {
            if (r.instances.has(name)) members.push(name);
            else if (!declared.has(name)) {
              // vrrp_parser.c: a member that does not exist is logged and left out.
              ctx.warn(m, `group: no vrrp_instance named "${name}"; keepalived leaves it out`);
            }
          }
        }
        out.members = members;
      },
    },
    out,
    SECTIONS.syncGroup,
  );
  if (out.members === undefined) {
    ctx.error(n, `vrrp_sync_group ${n.args[0] ?? ""}: no "group" given`);
  }
  return ordered(out, keyOrder(SECTIONS.syncGroup));
}
