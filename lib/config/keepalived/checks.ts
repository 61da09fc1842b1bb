/**
 * Checker blocks of a real server (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, SMTP_CHECK,
 * DNS_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK) with their url blocks.
 *
 * @module
 */
import { formatIp } from "../../net/ip.ts";
import {
  type Ctx,
  dispatch,
  type Handler,
  MAX_TIMER_SEC,
  msOrNull,
  type Obj,
  ordered,
  set,
} from "./context.ts";
import type { KaNode } from "./parser.ts";

export const CHECK_ORDER = [
  "type",
  "connect_ip",
  "connect_port",
  "bindto",
  "connect_timeout",
  "retry",
  "delay_before_retry",
  "delay_loop",
  "warmup",
  "alpha",
  "bind_port",
  "bind_if",
  "fwmark",
  "log_all_failures",
  "urls",
  "http_protocol",
  "fast_recovery",
  "enable_sni",
  "misc_path",
  "misc_timeout",
  "misc_dynamic",
  "user",
  "helo_name",
  "dns_type",
  "dns_name",
  "payload",
  "require_reply",
  "reply_data",
  "min_reply_length",
  "max_reply_length",
  "file",
  "weight_multiplier",
] as const;

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

/** Handlers for the checker settings shared by virtual_server, real_server and checkers. */
export function commonCheckTable(ctx: Ctx): Record<string, Handler<Obj>> {
  return {
    connect_timeout: set("connect_timeout", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    retry: set("retry", (c) => ctx.int(c, 0, 1000), ctx),
    delay_before_retry: set(
      "delay_before_retry",
      (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)),
      ctx,
    ),
    warmup: set("warmup", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    delay_loop: set("delay_loop", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    alpha: set("alpha", (c) => ctx.bool(c), ctx),
    virtualhost: set("virtualhost", (c) => ctx.arg(c), ctx),
  };
}

export function convertCheck(
  n: KaNode,
  type: string,
  ctx: Ctx,
  trackFiles: Map<string, { path: string; weight: number }>,
): Obj[] {
  const o: Obj = { type };
  const hosts: Obj[] = [];
  const timing = commonCheckTable(ctx);
  delete timing.virtualhost;
  timing.log_all_failures = set("log_all_failures", (c) => ctx.bool(c), ctx);
  const base: Record<string, Handler<Obj>> = {
    ...timing,
    bind_port: set("bind_port", (c) => ctx.int(c, 1, 65535), ctx),
    bind_if: set("bind_if", (c) => ctx.arg(c), ctx),
    fwmark: set("fwmark", (c) => ctx.int(c, 1, 4_294_967_295), ctx),
    connect_ip: set("connect_ip", (c) => {
      const v = ctx.arg(c);
      const a = v === null ? null : ctx.ip(c, v);
      return a === null ? null : formatIp(a.bytes);
    }, ctx),
    connect_port: set("connect_port", (c) => ctx.int(c, 1, 65535), ctx),
    bindto: set("bindto", (c) => {
      const v = ctx.arg(c);
      const a = v === null ? null : ctx.ip(c, v);
      return a === null ? null : formatIp(a.bytes);
    }, ctx),
  };
  const table: Record<string, Handler<Obj>> = type === "FILE_CHECK"
    ? {}
    : type === "MISC_CHECK"
    ? { ...timing }
    : { ...base };
  if (type === "HTTP_GET" || type === "SSL_GET") {
    table.nb_get_retry = set("retry", (c) => ctx.int(c, 0, 1000), ctx);
    table.virtualhost = set("virtualhost", (c) => ctx.arg(c), ctx);
    table.fast_recovery = set("fast_recovery", (c) => ctx.bool(c), ctx);
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
      ctx.error(c, `http_protocol: "${v}" is not 1.0, 1.0C or 1.1`);
      return null;
    }, ctx);
    if (type === "SSL_GET") table.enable_sni = set("enable_sni", (c) => ctx.bool(c), ctx);
  } else if (type === "MISC_CHECK") {
    delete table.connect_timeout;
    table.misc_path = set("misc_path", (c) => ctx.scriptOnly(c), ctx);
    table.misc_timeout = set("misc_timeout", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx);
    table.misc_dynamic = set("misc_dynamic", (c) => ctx.bool(c), ctx);
    table.user = set("user", (c) => {
      if (c.args.length > 1) ctx.warn(c, `user: group "${c.args[1]}" was dropped`);
      return ctx.arg(c);
    }, ctx);
  } else if (type === "SMTP_CHECK") {
    table.helo_name = set("helo_name", (c) => ctx.arg(c), ctx);
    table.host = (c) => {
      const h: Obj = {};
      dispatch(ctx, ctx.block(c), base, h);
      hosts.push(h);
    };
  } else if (type === "DNS_CHECK") {
    table.type = set("dns_type", (c) => {
      const v = ctx.arg(c)?.toUpperCase() ?? null;
      if (v === null || ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"].includes(v)) return v;
      ctx.error(c, `type: "${c.args[0]}" is not A, NS, CNAME, SOA, MX, TXT or AAAA`);
      return null;
    }, ctx);
    table.name = set("dns_name", (c) => ctx.arg(c), ctx);
  } else if (type === "UDP_CHECK") {
    table.payload = set("payload", (c) => hexPayload(c, ctx), ctx);
    table.require_reply = (c, out) => {
      out.require_reply = true;
      if (c.args.length === 0) return;
      // keepalived's read_hex_str: hex digits, x for any nibble, spaces ignored.
      const data = c.args.join(" ");
      if (/^[ ]*([0-9a-fA-FxX]{1,2}[ ]*)+$/.test(data)) out.reply_data = data;
      else ctx.error(c, `require_reply: "${data}" is not a hex string (keepalived refuses it)`);
    };
    table.min_reply_length = set("min_reply_length", (c) => ctx.int(c, 0, 65535), ctx);
    table.max_reply_length = set("max_reply_length", (c) => ctx.int(c, 0, 65535), ctx);
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
        ctx.warn(c, `weight: "reverse" is not supported and was dropped`);
      }
      return ctx.int(c, -2_147_483_647, 2_147_483_647);
    }, ctx);
  }
  dispatch(ctx, ctx.block(n), table, o);
  if (type === "FILE_CHECK" && o.file === undefined) {
    ctx.error(n, `FILE_CHECK: no "track_file" given`);
    return [];
  }
  if (type === "MISC_CHECK" && o.misc_path === undefined) {
    ctx.error(n, `MISC_CHECK: no "misc_path" given`);
    return [];
  }
  if ((type === "HTTP_GET" || type === "SSL_GET") && o.urls === undefined) {
    ctx.error(n, `${type}: no "url" given`);
    return [];
  }
  if (o.virtualhost !== undefined) {
    for (const u of (o.urls as Obj[] | undefined) ?? []) u.virtualhost ??= o.virtualhost;
    delete o.virtualhost;
  }
  if (hosts.length === 0) return [ordered(o, CHECK_ORDER)];
  return hosts.map((h) => ordered({ ...o, ...h }, CHECK_ORDER));
}

function convertUrl(n: KaNode, ctx: Ctx): Obj | null {
  const u: Obj = {};
  dispatch(ctx, ctx.block(n), {
    path: set("path", (c) => ctx.arg(c), ctx),
    digest: set("digest", (c) => {
      const v = ctx.arg(c);
      if (v === null || /^[0-9a-fA-F]{32}$/.test(v)) return v?.toLowerCase() ?? null;
      ctx.error(c, `digest: "${v}" is not an MD5 digest (32 hex digits)`);
      return null;
    }, ctx),
    status_code: (c, out) => {
      const codes: (number | string)[] = (out.status_code as (number | string)[] | undefined) ?? [];
      for (const v of c.args) {
        const m = /^([0-9]{3})(?:-([0-9]{3}))?$/.exec(v);
        if (m === null || Number(m[1]) < 100 || Number(m[2] ?? m[1]) < Number(m[1])) {
          ctx.error(c, `status_code: "${v}" is not a status code or range (100-599)`);
        } else codes.push(m[2] === undefined ? Number(v) : v);
      }
      if (c.args.length === 0) ctx.error(c, "status_code: missing value");
      if (codes.length > 0) out.status_code = codes;
    },
    regex: set("regex", (c) => ctx.arg(c), ctx),
    regex_no_match: set("regex_no_match", (c) => ctx.bool(c), ctx),
    virtualhost: set("virtualhost", (c) => ctx.arg(c), ctx),
  }, u);
  if (u.path === undefined) {
    ctx.error(n, `url: no "path" given`);
    return null;
  }
  return ordered(u, ["path", "status_code", "digest", "regex", "regex_no_match", "virtualhost"]);
}

/** keepalived's free-form HEX_STR ("Ab12f 3 456") -> "hex:ab120f0345 06". */
function hexPayload(n: KaNode, ctx: Ctx): string | null {
  let out = "";
  for (const w of n.args) {
    if (!/^[0-9a-fA-F]+$/.test(w)) {
      ctx.error(n, `${n.keyword}: "${w}" is not hex digits`);
      return null;
    }
    for (let i = 0; i < w.length; i += 2) {
      out += (w.length - i === 1 ? "0" : "") + w.slice(i, i + 2);
    }
  }
  if (out === "") {
    ctx.error(n, `${n.keyword}: missing value`);
    return null;
  }
  return `hex:${out.toLowerCase()}`;
}
