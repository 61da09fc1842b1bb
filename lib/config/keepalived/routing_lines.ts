/**
 * keepalived's route and rule lines (virtual_routes, virtual_rules, static_routes,
 * static_rules) and the static_ipaddress block, read as keepalived 2.2.7's alloc_route and
 * alloc_rule read them (vrrp_iproute.c, vrrp_iprule.c). What keepalived refuses is an error;
 * what haagent does not carry is a warning at the line.
 *
 * @module
 */
import { formatIp, parsePrefix } from "../../net/ip.ts";
import { type Ctx, type Obj, ordered } from "./context.ts";
import type { KaNode } from "./parser.ts";
import { convertVip } from "./vrrp_lines.ts";

const TABLES: Record<string, number> = { local: 255, main: 254, default: 253 };
const ROUTE_TYPES = new Set(["unicast", "blackhole", "unreachable", "prohibit", "throw"]);
const RULE_ACTIONS = new Set(["nop", "blackhole", "unreachable", "prohibit"]);
const SCOPES: Record<string, string> = {
  global: "global",
  universe: "global",
  site: "site",
  link: "link",
  host: "host",
  nowhere: "nowhere",
  "0": "global",
  "200": "site",
  "253": "link",
  "254": "host",
  "255": "nowhere",
};
const PROTOS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, ipv6_icmp: 58, sctp: 132 };

function table(ctx: Ctx, n: KaNode, what: string, t: string | undefined): number | null {
  const id = t === undefined ? undefined : /^[0-9]+$/.test(t) ? Number(t) : TABLES[t];
  if (id === undefined || id < 1 || id > 4294967295) {
    ctx.warn(
      n,
      `${what}: table "${
        t ?? ""
      }" is not 1-4294967295, local, main or default; keepalived drops the line, and so does the import`,
    );
    return null;
  }
  return id;
}

/** keepalived's parse_route: a prefix, or default / any / all for the whole family. */
function prefix(w: string | undefined, family: string | null): string | null {
  if (w === undefined) return null;
  if (w === "default" || w === "any" || w === "all") {
    return family === "ipv6" ? "::/0" : "0.0.0.0/0";
  }
  const p = parsePrefix(w);
  return p === null ? null : `${formatIp(p.bytes)}/${p.prefix}`;
}

function familyOfPrefix(p: string): string {
  return p.includes(":") ? "ipv6" : "ipv4";
}

/** strtoul(x, 0): decimal, 0x hexadecimal or 0 octal; null when not a number. */
function cNumber(t: string | undefined): number | null {
  if (t === undefined) return null;
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t, 16);
  if (/^0[0-7]+$/.test(t)) return parseInt(t, 8);
  return /^[0-9]+$/.test(t) ? Number(t) : null;
}

/** The words of each `nexthop` group of `words` (which starts with "nexthop"). */
function nexthops(words: readonly string[]): string[][] {
  const hops: string[][] = [];
  for (const w of words) {
    if (w === "nexthop") hops.push([]);
    else hops[hops.length - 1]!.push(w);
  }
  return hops;
}

/** One route line: `[TYPE] [to] PREFIX [via|gw A] [src A] [dev IF] [table T] [metric M] ...`. */
export function convertRouteLine(rt: KaNode, ctx: Ctx, what: string): Obj | null {
  const words = [rt.keyword, ...rt.args];
  const o: Obj = {};
  let family: string | null = null;
  let anyDest = false;
  /** keepalived drops a route with any bad word (vrrp_iproute.c alloc_route: goto err). */
  let dropped = false;
  const addr = (w: string | undefined): string | null => {
    if (w === undefined) {
      ctx.warn(rt, `${what}: missing address; keepalived drops the line, and so does the import`);
      dropped = true;
      return null;
    }
    const a = ctx.ip(rt, w);
    if (a === null) dropped = true;
    return a === null ? null : formatIp(a.bytes);
  };
  for (let i = 0; i < words.length; i++) {
    const k = words[i]!;
    if (k === "inet") family = "ipv4";
    else if (k === "inet6") family = "ipv6";
    else if (k === "src") o.src = addr(words[++i]) ?? undefined;
    else if (k === "via" || k === "gw") {
      let w = words[++i];
      if (w === "inet" || w === "inet6") w = words[++i];
      o.via = addr(w) ?? undefined;
    } else if (k === "dev" || k === "oif") o.device = words[++i];
    else if (k === "table") {
      const t = table(ctx, rt, what, words[++i]);
      if (t === null) dropped = true;
      else o.table = t;
    } else if (k === "metric" || k === "preference" || k === "priority") {
      const m = cNumber(words[++i]);
      if (m === null) {
        ctx.warn(
          rt,
          `${what}: metric "${
            words[i] ?? ""
          }" is not a number; keepalived drops the line, and so does the import`,
        );
        dropped = true;
      } else o.metric = m;
    } else if (k === "scope") {
      const s = SCOPES[words[++i] ?? ""];
      if (s === undefined) {
        ctx.warn(
          rt,
          `${what}: scope "${
            words[i] ?? ""
          }" is not global|site|link|host|nowhere; keepalived drops the line, and so does the import`,
        );
        dropped = true;
      } else o.scope = s;
    } else if (k === "onlink") o.onlink = true;
    else if (k === "or") {
      // Deprecated two-gateway multipath form (parse_route): via A or B.
      ctx.warn(
        rt,
        `${what}: "or ${words[++i] ?? ""}" makes keepalived's route multipath; haagent has no ` +
          `multipath routes, so the route keeps only its first gateway`,
      );
    } else if (k === "nexthop") {
      // parse_nexthops: every word after the first "nexthop" belongs to the nexthops.
      const hops = nexthops(words.slice(i));
      const first = hops[0] ?? [];
      for (let j = 0; j < first.length; j++) {
        const h = first[j]!;
        if (h === "via") {
          let w = first[++j];
          if (w === "inet" || w === "inet6") w = first[++j];
          o.via = addr(w) ?? undefined;
        } else if (h === "dev") o.device = first[++j];
        else if (h === "onlink") o.onlink = true;
        else if (h === "weight" || h === "realms") j++;
      }
      if (hops.length > 1) {
        ctx.warn(
          rt,
          `${what}: ${hops.length} nexthops make keepalived's route multipath; haagent has no ` +
            `multipath routes, so the route goes via the first nexthop only`,
        );
      }
      break;
    } else if (k === "no_track") {
      // keepalived's route tracking (restoring a route deleted by hand) is not carried over.
    } else if (k === "protocol") {
      ctx.warn(rt, `${what}: "protocol ${words[++i]}" dropped: routes carry proto keepalived`);
    } else if (
      o.to === undefined &&
      (k === "to" || ROUTE_TYPES.has(k) || prefix(k, family) !== null)
    ) {
      let w: string | undefined = k;
      if (w === "to") w = words[++i];
      if (w !== undefined && ROUTE_TYPES.has(w)) {
        if (w !== "unicast") o.type = w;
        w = words[++i];
      }
      const p = prefix(w, family);
      if (p === null) {
        ctx.warn(
          rt,
          `${what}: "${
            w ?? ""
          }" is not an address or ADDRESS/PREFIX; keepalived drops the line, and so does the import`,
        );
        return null;
      }
      anyDest = family === null && (w === "default" || w === "any" || w === "all");
      o.to = p;
    } else {
      const v = words[i + 1];
      ctx.warn(
        rt,
        `${what}: option "${k}${v === undefined ? "" : ` ${v}`}" is not supported and was dropped`,
      );
      i++;
    }
  }
  if (dropped) return null;
  if (o.to === undefined) {
    ctx.warn(
      rt,
      `${what}: no destination given; keepalived drops the line, and so does the import`,
    );
    return null;
  }
  // parse_route: default / any / all have no family of their own (AF_UNSPEC); the gateway or
  // source gives it, as the kernel does.
  if (anyDest) {
    const by = [o.via, o.src].find((a) => typeof a === "string");
    if (typeof by === "string" && by.includes(":")) o.to = "::/0";
  }
  return ordered(o, ["to", "type", "via", "src", "device", "table", "metric", "scope", "onlink"]);
}

/** One rule line: `[from P] [to P] [table T | goto N | nop | blackhole ...] [priority N] ...`. */
export function convertRuleLine(n: KaNode, ctx: Ctx, what: string): Obj | null {
  const words = [n.keyword, ...n.args];
  const o: Obj = {};
  let family: string | null = null;
  const range = (k: string, v: string | undefined): string | null => {
    // keepalived 2.2.7 reads "%hu-%hu" and refuses a lone port (ret != 2): dropped there too.
    if (v !== undefined && /^[0-9]{1,5}-[0-9]{1,5}$/.test(v)) return v;
    ctx.warn(
      n,
      `${what}: "${k} ${v ?? ""}" dropped: keepalived 2.2.7 accepts only FIRST-LAST here and ` +
        "ignores anything else",
    );
    return null;
  };
  for (let i = 0; i < words.length; i++) {
    const k = words[i]!;
    if (k === "inet") family = "ipv4";
    else if (k === "inet6") family = "ipv6";
    else if (k === "from" || k === "to") {
      const w = words[++i];
      const p = prefix(w, family);
      if (p === null) {
        ctx.warn(
          n,
          `${what}: invalid rule ${k} address "${
            w ?? ""
          }"; keepalived drops the line, and so does the import`,
        );
        return null;
      }
      if (w !== "all" && w !== "any" && w !== "default") {
        o[k] = p;
        family ??= familyOfPrefix(p);
      }
    } else if (k === "table" || k === "lookup") {
      const t = table(ctx, n, what, words[++i]);
      if (t === null) return null;
      o.table = t;
    } else if (k === "not") o.invert = true;
    else if (k === "preference" || k === "order" || k === "priority") {
      const v = cNumber(words[++i]);
      if (v === null || v > 4294967295) {
        ctx.warn(
          n,
          `${what}: invalid rule preference "${
            words[i] ?? ""
          }"; keepalived drops the line, and so does the import`,
        );
        return null;
      }
      o.priority = v;
    } else if (k === "tos" || k === "dsfield") {
      const v = cNumber(words[++i]);
      if (v === null || v > 255) {
        ctx.warn(
          n,
          `${what}: TOS value "${
            words[i] ?? ""
          }" is invalid; keepalived drops the line, and so does the import`,
        );
        return null;
      }
      o.tos = v;
    } else if (k === "fwmark") {
      const [m, mask] = (words[++i] ?? "").split("/");
      const mv = cNumber(m), kv = mask === undefined ? undefined : cNumber(mask);
      if (mv === null || mv > 4294967295 || kv === null || (kv ?? 0) > 4294967295) {
        ctx.warn(
          n,
          `${what}: invalid rule fwmark "${
            words[i] ?? ""
          }"; keepalived drops the line, and so does the import`,
        );
        return null;
      }
      o.fwmark = mv;
      if (kv !== undefined) o.fwmask = kv;
    } else if (k === "suppress_prefixlength" || k === "sup_pl") {
      const v = cNumber(words[++i]);
      if (v === null || v > 128) {
        ctx.warn(
          n,
          `${what}: invalid suppress_prefixlength "${
            words[i] ?? ""
          }"; keepalived drops the line, and so does the import`,
        );
        return null;
      }
      o.suppress_prefixlength = v;
    } else if (k === "dev" || k === "iif") o.iif = words[++i];
    else if (k === "oif") o.oif = words[++i];
    else if (k === "uidrange") {
      const v = words[++i];
      if (v === undefined || !/^[0-9]+-[0-9]+$/.test(v)) {
        ctx.warn(
          n,
          `${what}: invalid uidrange "${
            v ?? ""
          }"; keepalived drops the line, and so does the import`,
        );
        return null;
      }
      o.uid_range = v;
    } else if (k === "ipproto") {
      const v = words[++i] ?? "";
      const p = /^[0-9]+$/.test(v) ? Number(v) : PROTOS[v.replace("-", "_")];
      if (p === undefined || p > 255) {
        ctx.warn(
          n,
          `${what}: invalid ipproto "${v}"; keepalived drops the line, and so does the import`,
        );
        return null;
      }
      o.ip_proto = p;
    } else if (k === "sport" || k === "dport") {
      const v = range(k, words[++i]);
      if (v !== null) o[k] = v;
    } else if (k === "no_track") {
      // Rule tracking (restoring a rule deleted by hand) is not carried over.
    } else if (k === "protocol") {
      ctx.warn(n, `${what}: "protocol ${words[++i]}" dropped: rules carry proto keepalived`);
    } else if (
      ["realms", "suppress_ifgroup", "sup_group", "tunnel-id", "track_group"].includes(k)
    ) {
      ctx.warn(n, `${what}: option "${k} ${words[++i] ?? ""}" is not supported and was dropped`);
    } else if (k === "l3mdev") {
      ctx.warn(n, `${what}: option "l3mdev" is not supported; the rule was dropped`);
      return null;
    } else {
      const a = k === "type" ? words[++i] ?? "" : k;
      if (a === "goto") {
        const v = cNumber(words[++i]);
        if (v === null) {
          ctx.warn(
            n,
            `${what}: invalid goto target "${
              words[i] ?? ""
            }"; keepalived drops the line, and so does the import`,
          );
          return null;
        }
        o.action = "goto";
        o.goto = v;
      } else if (RULE_ACTIONS.has(a)) o.action = a;
      else {
        ctx.warn(
          n,
          `${what}: unknown rule option "${a}"; keepalived drops the line, and so does the import`,
        );
        return null;
      }
    }
  }
  if (o.action === undefined && o.table === undefined) {
    ctx.warn(
      n,
      `${what}: no action specified for rule; keepalived drops the line, and so does the import`,
    );
    return null;
  }
  if (family === "ipv6" && o.from === undefined && o.to === undefined) o.family = "ipv6";
  return ordered(o, [
    "from",
    "to",
    "family",
    "action",
    "table",
    "goto",
    "priority",
    "invert",
    "tos",
    "fwmark",
    "fwmask",
    "iif",
    "oif",
    "uid_range",
    "ip_proto",
    "sport",
    "dport",
    "suppress_prefixlength",
  ]);
}

/** The top-level static_ipaddress, static_routes and static_rules blocks. */
export interface Statics {
  handled: Set<KaNode>;
  addresses: unknown[];
  routes: Obj[];
  rules: Obj[];
}

/** Converts every static block among the top-level `nodes`. */
export function convertStatics(nodes: KaNode[], ctx: Ctx): Statics {
  const s: Statics = { handled: new Set(), addresses: [], routes: [], rules: [] };
  for (const n of nodes) {
    if (n.keyword === "static_ipaddress") {
      s.handled.add(n);
      for (const line of ctx.block(n)) {
        const v = convertVip(line, ctx);
        if (v === null) continue;
        if (typeof v.value === "string" || (v.value as Obj).device === undefined) {
          ctx.error(line, "static_ipaddress: no dev given (a static address needs its interface)");
          continue;
        }
        s.addresses.push(v.value);
      }
    } else if (n.keyword === "static_routes") {
      s.handled.add(n);
      for (const line of ctx.block(n)) {
        const r = convertRouteLine(line, ctx, "static_routes");
        if (r !== null) s.routes.push(r);
      }
    } else if (n.keyword === "static_rules") {
      s.handled.add(n);
      for (const line of ctx.block(n)) {
        const r = convertRuleLine(line, ctx, "static_rules");
        if (r !== null) s.rules.push(r);
      }
    }
  }
  return s;
}
