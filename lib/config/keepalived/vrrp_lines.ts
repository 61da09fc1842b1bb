/**
 * The one-line entries of an instance's address blocks: `virtual_ipaddress` lines with their
 * options (route and rule lines are in routing_lines.ts).
 *
 * @module
 */
import { formatIp, parsePrefix } from "../../net/ip.ts";
import type { Ctx, Obj } from "./context.ts";
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
