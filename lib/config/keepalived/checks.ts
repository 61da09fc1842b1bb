/**
 * Checker blocks of a real server (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, SMTP_CHECK,
 * DNS_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK) with their url blocks. What a keyword becomes is
 * the schema's (mapping.ts); the code here is for the keywords whose value needs more than
 * reading words.
 *
 * @module
 */
import type { Ctx, Handler, Obj } from "./context.ts";
import { ordered, set, userOnly } from "./context.ts";
import {
  checkFields,
  dispatch,
  genericHandler,
  keyOrder,
  keywordTable,
  SECTIONS,
} from "./mapping.ts";
import type { KaNode } from "./parser.ts";

/** The checker blocks keepalived 2.2.7 has and haagent runs. */
export const CHECK_TYPES = [
  "TCP_CHECK",
  "HTTP_GET",
  "SSL_GET",
  "MISC_CHECK",
  "SMTP_CHECK",
  "DNS_CHECK",
  "UDP_CHECK",
  "PING_CHECK",
  "FILE_CHECK",
] as const;

/** The checker settings a virtual or real server may give for the checkers below it. */
export const INHERITED = [
  "connect_timeout",
  "retry",
  "delay_before_retry",
  "warmup",
  "delay_loop",
  "alpha",
  "virtualhost",
] as const;

/**
 * Handlers for the checker settings given on a virtual or real server (keepalived copies them
 * into its checkers, check_data.c): they are converted as a checker's would be and kept under
 * the checker key until the checkers are known.
 */
export function inheritedTable(ctx: Ctx): Record<string, Handler<Obj>> {
  const fields = keywordTable(checkFields("HTTP_GET"));
  const out: Record<string, Handler<Obj>> = {};
  for (const key of INHERITED) {
    const h = genericHandler(ctx, fields.get(key)!);
    if (h !== null) out[key] = h;
  }
  return out;
}

/** Fills a checker's unset settings from its real or virtual server's. */
export function applyInherited(chk: Obj, from: Obj): void {
  for (const k of INHERITED) {
    if (from[k] === undefined || chk.type === "FILE_CHECK") continue;
    if (k === "connect_timeout" && chk.type === "MISC_CHECK") continue;
    if (k === "virtualhost") {
      for (const u of (chk.urls as Obj[] | undefined) ?? []) u.virtualhost ??= from[k];
    } else if (chk[k] === undefined) chk[k] = from[k];
  }
}

/** A checker's keys in the schema's order, `type` first. */
export function orderedCheck(o: Obj): Obj {
  return ordered(o, ["type", ...keyOrder(checkFields(String(o.type)))]);
}

/** One checker block -> haagent checks (SMTP_CHECK with several `host` blocks -> several). */
export function convertCheck(
  n: KaNode,
  type: string,
  ctx: Ctx,
  trackFiles: ReadonlyMap<string, { path: string; weight: number }>,
): Obj[] {
  const o: Obj = { type };
  const hosts: Obj[] = [];
  const fields = checkFields(type);
  const table: Record<string, Handler<Obj>> = {};
  if (type === "HTTP_GET" || type === "SSL_GET") {
    // keepalived's older spelling of retry, HTTP checkers only (check_http.c).
    table.nb_get_retry = set("retry", (c) => ctx.int(c, 0, 1000), ctx);
    table.url = (c, out) => {
      const urls = (out.urls as Obj[] | undefined) ?? [];
      const u = convertUrl(c, ctx);
      if (u !== null) urls.push(u);
      out.urls = urls;
    };
    table.http_protocol = set("http_protocol", (c) => {
      const v = ctx.arg(c);
      if (v === "1.0" || v === "1.1" || v === null) return v;
      if (/^1\.0[cC]$/.test(v)) return "1.0C";
      ctx.warn(c, `http_protocol: "${v}" is not 1.0, 1.0C or 1.1; keepalived ignores it`);
      return null;
    }, ctx);
  } else if (type === "MISC_CHECK") {
    table.user = set("user", (c) => userOnly(c, ctx), ctx);
  } else if (type === "SMTP_CHECK") {
    table.host = (c) => {
      const h: Obj = {};
      const connect = Object.fromEntries(
        ["connect_ip", "connect_port", "bindto", "bind_port", "bind_if", "fwmark"].map((
          k,
        ) => [k, fields[k]!]),
      );
      dispatch(ctx, ctx.block(c), {}, h, connect);
      hosts.push(h);
    };
  } else if (type === "DNS_CHECK") {
    table.type = set("dns_type", (c) => {
      const v = ctx.arg(c)?.toUpperCase() ?? null;
      if (v === null || ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"].includes(v)) return v;
      ctx.warn(
        c,
        `type: "${c.args[0]}" is not A, NS, CNAME, SOA, MX, TXT or AAAA; keepalived ignores it`,
      );
      return null;
    }, ctx);
  } else if (type === "UDP_CHECK") {
    table.payload = set("payload", (c) => hexPayload(c, ctx), ctx);
    table.require_reply = (c, out) => {
      // check_udp.c: require_reply [HEX]: a reply is needed, and it must start with HEX
      // (read_hex_str: hex digits, x for any nibble, spaces ignored).
      ctx.noBlock(c);
      ctx.useAll(c);
      out.require_reply = true;
      if (c.args.length === 0) return;
      const data = c.args.join(" ");
      if (/^[ ]*([0-9a-fA-FxX]{1,2}[ ]*)+$/.test(data)) out.reply_data = data;
      else ctx.error(c, `require_reply: "${data}" is not a hex string (keepalived refuses it)`);
    };
  } else if (type === "FILE_CHECK") {
    table.track_file = set("file", (c) => {
      const name = ctx.arg(c);
      if (name === null) return null;
      const tf = trackFiles.get(name);
      if (tf === undefined) ctx.error(c, `track_file: no track_file block named "${name}"`);
      return tf?.path ?? null;
    }, ctx);
    table.weight = set("weight_multiplier", (c) => {
      if (c.args[1] === "reverse") {
        ctx.use(c, 2);
        ctx.warn(c, `weight: "reverse" is not supported and was dropped`);
      }
      return ctx.int(c, -2_147_483_647, 2_147_483_647);
    }, ctx);
  }
  dispatch(ctx, ctx.block(n), table, o, fields);
  if (type === "FILE_CHECK" && o.file === undefined) {
    ctx.warn(
      n,
      `FILE_CHECK: no "track_file" given; keepalived drops the checker, and so does the import`,
    );
    return [];
  }
  if (type === "MISC_CHECK" && o.misc_path === undefined) {
    ctx.warn(
      n,
      `MISC_CHECK: no "misc_path" given; keepalived drops the checker, and so does the import`,
    );
    return [];
  }
  if ((type === "HTTP_GET" || type === "SSL_GET") && o.urls === undefined) {
    ctx.warn(n, `${type}: no "url" given; keepalived drops the checker, and so does the import`);
    return [];
  }
  if (o.virtualhost !== undefined) {
    for (const u of (o.urls as Obj[] | undefined) ?? []) u.virtualhost ??= o.virtualhost;
    delete o.virtualhost;
  }
  if (hosts.length === 0) return [o];
  return hosts.map((h) => ({ ...o, ...h }));
}

function convertUrl(n: KaNode, ctx: Ctx): Obj | null {
  const u: Obj = {};
  dispatch(
    ctx,
    ctx.block(n),
    {
      digest: set("digest", (c) => {
        const v = ctx.arg(c);
        if (v === null || /^[0-9a-fA-F]{32}$/.test(v)) return v?.toLowerCase() ?? null;
        ctx.warn(c, `digest: "${v}" is not an MD5 digest (32 hex digits); keepalived ignores it`);
        return null;
      }, ctx),
      status_code: (c, out) => {
        ctx.useAll(c);
        const codes: (number | string)[] = (out.status_code as (number | string)[] | undefined) ??
          [];
        for (const v of c.args) {
          const m = /^([0-9]{3})(?:-([0-9]{3}))?$/.exec(v);
          if (m === null || Number(m[1]) < 100 || Number(m[2] ?? m[1]) < Number(m[1])) {
            ctx.warn(
              c,
              `status_code: "${v}" is not a status code or range (100-599); ignored as keepalived does`,
            );
          } else codes.push(m[2] === undefined ? Number(v) : v);
        }
        if (c.args.length === 0) {
          ctx.warn(
            c,
            "status_code: missing value; ignored as keepalived does",
          );
        }
        if (codes.length > 0) out.status_code = codes;
      },
    },
    u,
    SECTIONS.url,
  );
  if (u.path === undefined) {
    ctx.warn(n, `url: no "path" given; keepalived drops the url, and so does the import`);
    return null;
  }
  return ordered(u, keyOrder(SECTIONS.url));
}

/** keepalived's free-form HEX_STR ("Ab12f 3 456") -> "hex:ab120f0345 06". */
function hexPayload(n: KaNode, ctx: Ctx): string | null {
  ctx.useAll(n);
  let out = "";
  for (const w of n.args) {
    if (!/^[0-9a-fA-F]+$/.test(w)) {
      ctx.warn(n, `${n.keyword}: "${w}" is not hex digits; keepalived ignores the payload`);
      return null;
    }
    for (let i = 0; i < w.length; i += 2) {
      out += (w.length - i === 1 ? "0" : "") + w.slice(i, i + 2);
    }
  }
  if (out === "") {
    ctx.missing(n);
    return null;
  }
  return `hex:${out.toLowerCase()}`;
}
