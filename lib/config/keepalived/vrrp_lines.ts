/**
 * The one-line entries of an instance's address and route blocks: `virtual_ipaddress` and
 * `virtual_routes` lines with their options.
 *
 * @module
 */
import { formatIp, parsePrefix } from "../../net/ip.ts";
import { type Ctx, type Obj, ordered } from "./context.ts";
import type { KaNode } from "./parser.ts";

const SCOPES = new Set(["global", "site", "link", "host", "nowhere"]);

/** One `virtual_ipaddress` line: `ADDR[/LEN] [dev IF] [label L] [scope S] [brd B] ...`. */
export function convertVip(v: KaNode, ctx: Ctx): { value: unknown; family: string } | null {
  const p = parsePrefix(v.keyword);
  if (p === null) {
    ctx.error(v, `virtual_ipaddress: "${v.keyword}" is not an address or ADDRESS/PREFIX`);
    return null;
  }
  const address = `${formatIp(p.bytes)}/${p.prefix}`;
  const o: Obj = { address };
  const a = v.args;
  for (let i = 0; i < a.length; i++) {
    const k = a[i]!;
    const takesValue = [
      "dev",
      "label",
      "scope",
      "brd",
      "broadcast",
      "peer",
      "preferred_lft",
      "track_group",
    ];
    if (takesValue.includes(k) && a[i + 1] === undefined) {
      ctx.error(v, `virtual_ipaddress: "${k}" needs a value`);
      break;
    }
    if (k === "dev") o.device = a[++i];
    else if (k === "label") o.label = a[++i];
    else if (k === "scope") {
      const s = a[++i]!;
      if (SCOPES.has(s) || /^[0-9]+$/.test(s) && Number(s) <= 255) o.scope = s;
      else {ctx.error(
          v,
          `virtual_ipaddress: scope "${s}" is not global|site|link|host|nowhere|0-255`,
        );}
    } else if (["brd", "broadcast", "peer", "preferred_lft", "track_group"].includes(k)) {
      ctx.warn(v, `virtual_ipaddress: option "${k} ${a[++i]}" is not supported and was dropped`);
    } else if (
      ["home", "-nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track"].includes(k)
    ) {
      ctx.warn(v, `virtual_ipaddress: option "${k}" is not supported and was dropped`);
    } else {
      ctx.error(v, `virtual_ipaddress: unknown option "${k}"`);
    }
  }
  return { value: Object.keys(o).length === 1 ? address : o, family: p.family };
}

const ROUTE_TABLES: Record<string, number> = { local: 255, main: 254, default: 253 };
const ROUTE_TYPES = new Set(["blackhole", "unreachable", "prohibit", "throw"]);

/** One `virtual_routes` line: `[TYPE] [src A] [to] PREFIX [via|gw A] [dev IF] [table T] ...`. */
export function convertRoute(rt: KaNode, ctx: Ctx): Obj | null {
  const words = [rt.keyword, ...rt.args];
  const o: Obj = {};
  const prefix = (w: string): string | null => {
    const x = w === "default" ? "0.0.0.0/0" : w === "default6" ? "::/0" : w;
    const p = parsePrefix(x);
    if (p === null) {
      ctx.error(rt, `virtual_routes: "${w}" is not an address or ADDRESS/PREFIX`);
      return null;
    }
    return `${formatIp(p.bytes)}/${p.prefix}`;
  };
  const addr = (w: string | undefined): string | null => {
    if (w === undefined) {
      ctx.error(rt, "virtual_routes: missing address");
      return null;
    }
    const a = ctx.ip(rt, w);
    return a === null ? null : formatIp(a.bytes);
  };
  for (let i = 0; i < words.length; i++) {
    const k = words[i]!;
    if (i === 0 && k === "blackhole") o.blackhole = true;
    else if (i === 0 && ROUTE_TYPES.has(k)) {
      ctx.warn(rt, `virtual_routes: "${k}" routes are not supported; the route was dropped`);
      return null;
    } else if (k === "src") o.src = addr(words[++i]) ?? undefined;
    else if (k === "to") o.to = prefix(words[++i] ?? "") ?? undefined;
    else if (k === "via" || k === "gw") o.via = addr(words[++i]) ?? undefined;
    else if (k === "dev") o.device = words[++i];
    else if (k === "table") {
      const t = words[++i] ?? "";
      const id = /^[0-9]+$/.test(t) ? Number(t) : ROUTE_TABLES[t];
      if (id === undefined || id < 1 || id > 4294967295) {
        ctx.error(rt, `virtual_routes: table "${t}" is not 1-4294967295, local, main or default`);
      } else o.table = id;
    } else if (k === "metric" || k === "preference" || k === "priority") {
      const m = words[++i] ?? "";
      if (/^[0-9]+$/.test(m)) o.metric = Number(m);
      else ctx.error(rt, `virtual_routes: metric "${m}" is not a number`);
    } else if (k === "scope") {
      ctx.warn(rt, `virtual_routes: option "scope ${words[++i]}" is not supported and was dropped`);
    } else if (o.to === undefined && !k.match(/^[a-z_]+$/)) o.to = prefix(k) ?? undefined;
    else if (k === "no_track" || k === "onlink") {
      ctx.warn(rt, `virtual_routes: option "${k}" is not supported and was dropped`);
    } else {
      ctx.warn(
        rt,
        `virtual_routes: option "${k}${
          words[i + 1] === undefined ? "" : " " + words[i + 1]
        }" is not supported and was dropped`,
      );
      i++;
    }
  }
  if (o.to === undefined) {
    ctx.error(rt, "virtual_routes: no destination given");
    return null;
  }
  return ordered(o, ["to", "via", "src", "device", "table", "metric", "blackhole"]);
}
