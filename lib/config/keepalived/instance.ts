/**
 * One vrrp_instance: its keywords, then keepalived's derived defaults and checks (vrrp.c
 * vrrp_complete_instance).
 *
 * @module
 */
import { formatIp } from "../../net/ip.ts";
import {
  type Ctx,
  formatMs,
  type Handler,
  MAX_TIMER_SEC,
  msOrNull,
  type Obj,
  set,
} from "./context.ts";
import { dispatch, SECTIONS } from "./mapping.ts";
import type { KaNode } from "./parser.ts";
import { trackEntry, trackRef } from "./tracking.ts";
import { convertVip } from "./vrrp_lines.ts";
import { convertRouteLine, convertRuleLine } from "./routing_lines.ts";

/** The blocks an instance refers to by name, converted before it. */
export interface InstanceRefs {
  scripts: ReadonlyMap<string, unknown>;
  processes: ReadonlyMap<string, unknown>;
  trackFiles: ReadonlyMap<string, { path: string; weight: number }>;
  /** The sync daemon, which lvs_sync_daemon_interface in an instance may set (the first wins). */
  lvsSyncDaemon: { value: Obj | null };
}

/** An instance while it is being converted: the output plus what defaults depend on. */
interface InstanceDraft {
  out: Obj;
  node: KaNode;
  strict: boolean;
  nativeIpv6: boolean;
  vips: { value: unknown; family: string; node: KaNode }[];
  evips: { value: unknown; family: string; node: KaNode }[];
  advertMs: number | null;
  authNode: KaNode | null;
  auth: Obj | null;
  nopreemptNode: KaNode | null;
  /** A unicast_peer set min_ttl / max_ttl (which turns check_unicast_src on in keepalived). */
  peerTtl: boolean;
  stateNode: KaNode | null;
  preemptDelayNode: KaNode | null;
  authTypeNode: KaNode | null;
}

/** One vrrp_instance block -> a vrrp_instances entry (keys in no particular order). */
export function convertInstance(
  n: KaNode,
  name: string,
  ctx: Ctx,
  r: InstanceRefs,
  globalVersion: number,
): Obj {
  const d: InstanceDraft = {
    out: {},
    node: n,
    strict: ctx.strict,
    nativeIpv6: false,
    vips: [],
    evips: [],
    advertMs: null,
    authNode: null,
    auth: null,
    nopreemptNode: null,
    peerTtl: false,
    stateNode: null,
    preemptDelayNode: null,
    authTypeNode: null,
  };
  const o = d.out;
  /** track_script / track_process: entries naming a block defined earlier, with a weight. */
  const trackNamed = (
    c: KaNode,
    key: string,
    defined: ReadonlyMap<string, unknown>,
    block: string,
  ) => {
    const list = (o[key] as unknown[] | undefined) ?? [];
    for (const t of ctx.block(c)) {
      if (!defined.has(t.keyword)) {
        ctx.warn(t, `${c.keyword}: no ${block} named "${t.keyword}"; keepalived ignores it`);
        continue;
      }
      const ref = trackRef(t, ctx, -253, 253, true);
      if (ref !== null) list.push(trackEntry(t.keyword, ref));
    }
    o[key] = list;
  };
  const table: Record<string, Handler<Obj>> = {
    state: (c) => {
      // vrrp_parser.c vrrp_state_handler: anything but MASTER or BACKUP is BACKUP (logged);
      // BACKUP after MASTER is ignored.
      ctx.noBlock(c);
      const v = ctx.arg(c);
      if (v === null) return;
      d.stateNode = c;
      if (v === "MASTER") o.state = "MASTER";
      else if (o.state === "MASTER") {
        ctx.warn(c, `state ${v}: the state was set to MASTER before; keepalived ignores this`);
      } else {
        if (v !== "BACKUP") {
          ctx.warn(
            c,
            `state: "${v}" is not MASTER or BACKUP; keepalived uses BACKUP, written as BACKUP`,
          );
        }
        o.state = "BACKUP";
      }
    },
    interface: set("interface", (c) => {
      const v = ctx.arg(c);
      if (v !== null && (v.length > 15 || v.includes("/") || v.includes(" "))) {
        ctx.error(c, `interface: "${v}" is not a valid interface name`);
        return null;
      }
      return v;
    }, ctx),
    priority: set("priority", (c) => {
      // vrrp_parser.c vrrp_prio_handler: not 1-255 is the default, 100 (logged).
      const v = ctx.arg(c);
      if (v === null) return null;
      if (/^[0-9]+$/.test(v) && Number(v) >= 1 && Number(v) <= 255) return Number(v);
      ctx.warn(c, `priority: "${v}" is not 1-255; keepalived uses 100, written as 100`);
      return 100;
    }, ctx),
    advert_int: (c) => {
      ctx.noBlock(c);
      // vrrp_adv_handler: 0.01-255 s, else logged and ignored (the interval stays 1 s).
      const ms = ctx.secondsMs(c, 255, 0, [0.01, 255]);
      if (ms !== null) d.advertMs = ms;
    },
    vrrp_version: (c) => {
      ctx.useAll(c);
      ctx.warn(
        c,
        `keyword "vrrp_version" is not valid in vrrp_instance (keepalived 2.2.7 accepts it only ` +
          `in global_defs, and "version" here) and was dropped`,
      );
    },
    nopreempt: (c) => {
      ctx.noBlock(c);
      o.preempt = false;
      d.nopreemptNode = c;
    },
    preempt_delay: set("preempt_delay", (c) => {
      d.preemptDelayNode = c;
      return msOrNull(ctx.secondsMs(c, 1000));
    }, ctx),
    authentication: (c) => {
      d.authNode = c;
      d.auth = {};
      dispatch(ctx, ctx.block(c), {
        auth_type: set("type", (a) => {
          d.authTypeNode = a;
          const v = ctx.arg(a);
          if (v === "PASS" || v === "AH" || v === null) return v;
          ctx.warn(a, `auth_type: "${v}" is not PASS or AH; keepalived ignores it`);
          return null;
        }, ctx),
        auth_pass: set("password", (a) => {
          const v = ctx.arg(a);
          if (v !== null && v.length > 8) {
            ctx.warn(
              a,
              `auth_pass: longer than 8 characters; truncated to "${
                v.slice(0, 8)
              }" as keepalived does`,
            );
            return v.slice(0, 8);
          }
          return v;
        }, ctx),
      }, d.auth);
    },
    unicast_peer: (c) => {
      const peers: unknown[] = (o.unicast_peers as unknown[] | undefined) ?? [];
      for (const p of ctx.block(c)) {
        const a = ctx.ip(p, p.keyword);
        if (a === null) continue;
        // vrrp_data.c alloc_vrrp_unicast_peer(): ADDR [min_ttl N] [max_ttl N]
        const peer: Obj = { address: formatIp(a.bytes) };
        ctx.useAll(p);
        for (let i = 0; i < p.args.length; i += 2) {
          const k = p.args[i]!;
          if (k !== "min_ttl" && k !== "max_ttl") {
            ctx.warn(p, `unicast_peer: unknown option "${k}" and what follows were dropped`);
            break;
          }
          const v = ctx.int(p, 0, 255, i + 1);
          if (v !== null) peer[k] = v;
          d.peerTtl = true;
        }
        peers.push(Object.keys(peer).length === 1 ? peer.address : peer);
      }
      o.unicast_peers = peers;
    },
    unicast_ttl: set("unicast_ttl", (c) => {
      const v = ctx.int(c, 0, 255);
      if (v === 0) {
        ctx.warn(c, "unicast_ttl: 0 would keep adverts on this host; written as 1");
        return 1;
      }
      return v;
    }, ctx),
    virtual_ipaddress: (c) => {
      for (const v of ctx.block(c)) {
        const vip = convertVip(v, ctx);
        if (vip !== null) d.vips.push({ ...vip, node: v });
      }
    },
    virtual_ipaddress_excluded: (c) => {
      for (const v of ctx.block(c)) {
        const vip = convertVip(v, ctx);
        if (vip !== null) d.evips.push({ ...vip, node: v });
      }
    },
    virtual_routes: (c) => {
      const routes = (o.virtual_routes as Obj[] | undefined) ?? [];
      for (const rt of ctx.block(c)) {
        const x = convertRouteLine(rt, ctx, "virtual_routes");
        if (x !== null) routes.push(x);
      }
      o.virtual_routes = routes;
    },
    virtual_rules: (c) => {
      const rules = (o.virtual_rules as Obj[] | undefined) ?? [];
      for (const line of ctx.block(c)) {
        const x = convertRuleLine(line, ctx, "virtual_rules");
        if (x !== null) rules.push(x);
      }
      o.virtual_rules = rules;
    },
    track_interface: (c) => {
      const list = (o.track_interfaces as unknown[] | undefined) ?? [];
      for (const t of ctx.block(c)) {
        const ref = trackRef(t, ctx, -253, 253, true);
        if (ref !== null) list.push(trackEntry(t.keyword, ref));
      }
      o.track_interfaces = list;
    },
    track_script: (c) => trackNamed(c, "track_scripts", r.scripts, "vrrp_script"),
    track_process: (c) => trackNamed(c, "track_processes", r.processes, "vrrp_track_process"),
    track_file: (c) => {
      const list = (o.track_files as unknown[] | undefined) ?? [];
      for (const t of ctx.block(c)) {
        const tf = r.trackFiles.get(t.keyword);
        if (tf === undefined) {
          ctx.warn(
            t,
            `track_file: no track_file block named "${t.keyword}"; keepalived ignores it`,
          );
          continue;
        }
        const ref = trackRef(t, ctx, -254, 254, false);
        if (ref !== null) list.push({ path: tf.path, weight: ref.weight ?? tf.weight });
      }
      o.track_files = list;
    },
    use_vmac: (c) => {
      // vrrp_parser.c vrrp_vmac_handler(): use_vmac [NAME] [MAC], in either order.
      ctx.noBlock(c);
      o.use_vmac = true;
      ctx.use(c, 2);
      for (const a of c.args.slice(0, 2)) {
        if (a.includes(":")) {
          ctx.warn(
            c,
            `use_vmac: the MAC address ${a} was dropped; haagent's VMAC is 00:00:5e:00:01:VRID (02:VRID for IPv6)`,
          );
        } else o.vmac_name = a;
      }
    },
    garp_lower_prio_delay: set("garp_lower_prio_delay", (c) => {
      const s = ctx.int(c, 0, MAX_TIMER_SEC);
      return s === null ? null : formatMs(s * 1000);
    }, ctx),
    garp_master_delay: set("garp_master_delay", (c) => {
      const s = ctx.int(c, 0, 255);
      return s === null ? null : formatMs(s * 1000);
    }, ctx),
    garp_master_refresh: set("garp_master_refresh", (c) => {
      const s = ctx.int(c, 0, MAX_TIMER_SEC);
      return s === null ? null : formatMs(s * 1000);
    }, ctx),
    native_ipv6: (c) => {
      ctx.noBlock(c);
      d.nativeIpv6 = true;
    },
    strict_mode: set("strict_mode", (c) => {
      const b = ctx.bool(c);
      if (b !== null) d.strict = b;
      return b;
    }, ctx),
    lvs_sync_daemon_interface: (c) => {
      // vrrp_parser.c vrrp_lvs_syncd_handler: deprecated per-instance form of the global
      // lvs_sync_daemon IFACE INSTANCE; the first one wins.
      ctx.noBlock(c);
      const iface = ctx.arg(c);
      if (iface === null) return;
      if (r.lvsSyncDaemon.value !== null) {
        ctx.warn(
          c,
          `lvs_sync_daemon_interface: the sync daemon is set already; keepalived ignores this`,
        );
        return;
      }
      ctx.warn(
        c,
        `lvs_sync_daemon_interface: keepalived's deprecated form of global lvs_sync_daemon ` +
          `${iface} ${name}; written as global.lvs_sync_daemon`,
      );
      r.lvsSyncDaemon.value = { interface: iface, instance: name };
    },
  };
  dispatch(ctx, ctx.block(n), table, o, SECTIONS.instance);
  finishInstance(d, name, ctx, globalVersion);
  return o;
}

/** Applies keepalived's derived defaults and checks (vrrp.c vrrp_complete_instance). */
function finishInstance(d: InstanceDraft, name: string, ctx: Ctx, globalVersion: number): void {
  const o = d.out;
  const n = d.node;
  // A missing key is reported here; an invalid one was reported where it stands.
  const has = (k: string) => (n.children ?? []).some((c) => c.keyword === k);
  // vrrp.c chk_min_cfg: without both keepalived's VRRP process does not start.
  if (o.interface === undefined) {
    ctx.error(n, `vrrp_instance ${name}: no ${has("interface") ? "valid " : ""}"interface" given`);
  }
  if (o.vrid === undefined) {
    ctx.error(
      n,
      `vrrp_instance ${name}: no ${
        has("virtual_router_id") ? "valid " : ""
      }"virtual_router_id" given`,
    );
  }
  const family = d.nativeIpv6 ? "ipv6" : (d.vips[0]?.family ?? d.evips[0]?.family ?? "ipv4");
  if (d.nativeIpv6 && d.vips[0]?.family !== "ipv6") o.family = "ipv6";
  let version = (o.version as number | undefined) ?? globalVersion;
  if (family === "ipv6" && version === 2) {
    ctx.warn(
      n,
      `vrrp_instance ${name}: IPv6 needs VRRP version 3; written as version 3 as keepalived does`,
    );
    o.version = version = 3;
  }
  // No priority: 255 for state MASTER, else 100. No state: MASTER only for priority 255.
  if (o.priority === undefined) o.priority = o.state === "MASTER" ? 255 : 100;
  if (o.state === undefined) o.state = o.priority === 255 ? "MASTER" : "BACKUP";
  let ms = d.advertMs ?? 1000;
  if (version === 2 && ms % 1000 !== 0) {
    const r = Math.max(1000, Math.round(ms / 1000) * 1000);
    ctx.warn(
      n,
      `vrrp_instance ${name}: VRRPv2 advert_int must be whole seconds; ${formatMs(ms)} rounded to ${
        formatMs(r)
      } as keepalived does`,
    );
    ms = r;
  } else if (version === 3 && ms % 10 !== 0) {
    const r = Math.max(10, Math.round(ms / 10) * 10);
    ctx.warn(
      n,
      `vrrp_instance ${name}: VRRPv3 advert_int must be in units of 10ms; ${
        formatMs(ms)
      } rounded to ${formatMs(r)} as keepalived does`,
    );
    ms = r;
  }
  if (version === 3 && ms > 40950) {
    ctx.error(n, `vrrp_instance ${name}: advert_int ${formatMs(ms)} is more than VRRPv3's 40.95s`);
  }
  o.advert_interval = formatMs(ms);
  // vrrp.c vrrp_complete_instance: nopreempt is reset at priority 255 and with state MASTER,
  // preempt_delay with state MASTER and with nopreempt.
  if (d.nopreemptNode !== null && o.preempt === false && o.priority === 255) {
    ctx.warn(d.nopreemptNode, "nopreempt: ignored with priority 255, as keepalived does");
    delete o.preempt;
  } else if (d.nopreemptNode !== null && o.preempt === false && o.state === "MASTER") {
    ctx.warn(
      d.nopreemptNode,
      "nopreempt: does not work with state MASTER; keepalived clears it, and so does the import",
    );
    delete o.preempt;
  }
  if (d.preemptDelayNode !== null && o.preempt_delay !== undefined) {
    const why = o.state === "MASTER" ? "state MASTER" : o.preempt === false ? "nopreempt" : null;
    if (why !== null) {
      ctx.warn(
        d.preemptDelayNode,
        `preempt_delay: does not work with ${why}; keepalived clears it, and so does the import`,
      );
      delete o.preempt_delay;
    }
  }
  if (d.authNode !== null && d.auth !== null) {
    const a = d.auth;
    const why = d.strict
      ? "strict mode does not allow authentication"
      : version === 3
      ? "VRRP version 3 has no authentication"
      : a.password === undefined
      ? "no auth_pass given"
      : a.type === undefined
      ? "no auth_type given"
      : "";
    if (why !== "") {
      ctx.warn(d.authNode, `authentication: dropped (${why}), as keepalived ignores it too`);
    } else if (a.type === "AH") {
      // keepalived 2.2.7 (built with VRRP_AUTH, as Debian's is) runs IPsec AH (vrrp_ipsecah.c);
      // adverts without it would not be accepted by the peers, so this is no place to drop it.
      ctx.error(
        d.authTypeNode ?? d.authNode,
        "auth_type AH: keepalived authenticates this instance's adverts with IPsec AH, which " +
          "haagent does not implement; use auth_type PASS (or no authentication) on every " +
          "router of this VRID",
      );
    } else o.authentication = { type: a.type, password: a.password };
  }
  const vips: unknown[] = [];
  const evips: unknown[] = d.evips.map((e) => e.value);
  for (const v of d.vips) {
    if (v.family === family) vips.push(v.value);
    else {
      ctx.warn(
        v.node,
        `virtual_ipaddress: ${v.family} address in an ${family} instance; moved to virtual_ipaddresses_excluded as keepalived does`,
      );
      evips.push(v.value);
    }
  }
  if (vips.length > 0) o.virtual_ipaddresses = vips;
  if (evips.length > 0) o.virtual_ipaddresses_excluded = evips;
  if (vips.length === 0) ctx.warn(n, `vrrp_instance ${name}: no virtual_ipaddress given`);
  // keepalived checks a unicast advert's source only with check_unicast_src (instance or
  // global) or a peer's TTL limit; haagent checks by default, so say what keepalived runs.
  const unicast = ((o.unicast_peers as unknown[] | undefined) ?? []).length > 0;
  if (unicast && o.check_unicast_src === undefined && !ctx.checkUnicastSrc && !d.peerTtl) {
    o.check_unicast_src = false;
  }
  if (o.preempt === undefined && o.preempt_delay !== undefined) o.preempt = true;
}
