/**
 * What every converter shares: the issue collector with keepalived's value readers (integers,
 * timers, booleans, addresses), the keyword dispatcher and small output helpers.
 *
 * @module
 */
import { formatIp, type IpAddress, parseIp } from "../../net/ip.ts";
import type { KaIssue, KaNode } from "./parser.ts";

/** What the import says after dropping a value keepalived rejects (and then ignores). */
export const IGNORED = "keepalived logs this and ignores the line, and so does the import";

/** Collects issues while converting, and which words of each line were used. */
export class Ctx {
  readonly issues: KaIssue[] = [];
  /** keepalived's vrrp_strict (global) was set. */
  strict = false;
  /** keepalived's vrrp_check_unicast_src (global) was set. */
  checkUnicastSrc = false;
  /** How many arguments of a node the converters read. */
  readonly #used = new Map<KaNode, number>();
  /** Nodes whose unused words were reported already. */
  readonly #reported = new Set<KaNode>();

  warn(n: KaNode, message: string): void {
    this.issues.push({ file: n.file, line: n.line, col: n.col, message, severity: "warning" });
  }

  error(n: KaNode, message: string): void {
    this.issues.push({ file: n.file, line: n.line, col: n.col, message, severity: "error" });
  }

  unsupported(n: KaNode, why = ""): void {
    this.#reported.add(n);
    this.warn(n, `keyword "${n.keyword}" is not supported and was dropped${why && `: ${why}`}`);
  }

  /** Marks the first `count` arguments of `n` as used. */
  use(n: KaNode, count: number): void {
    this.#used.set(n, Math.max(this.#used.get(n) ?? 0, Math.min(count, n.args.length)));
  }

  /** Marks every argument of `n` as used. */
  useAll(n: KaNode): void {
    this.use(n, n.args.length);
  }

  /**
   * Warns once about the words of a line no converter used: keepalived reads one keyword per
   * line and ignores what its handler does not read (`TCP_CHECK { connect_timeout 1 retry 2 }`
   * sets connect_timeout only). `keywords` are the section's, named when a dropped word is one.
   */
  leftover(n: KaNode, keywords: (word: string) => boolean = () => false): void {
    if (this.#reported.has(n)) return;
    const used = this.#used.get(n) ?? 0;
    if (n.args.length <= used) return;
    this.#reported.add(n);
    const rest = n.args.slice(used);
    const lost = rest.filter(keywords);
    this.warn(
      n,
      `${n.keyword}: "${rest.join(" ")}" after ${
        used === 0 ? "the keyword" : "its value"
      } was ignored, as keepalived ignores it${
        lost.length === 0
          ? ""
          : ` (keepalived reads one keyword per line: ${lost.join(", ")} ${
            lost.length === 1 ? "was" : "were"
          } not set; put ${lost.length === 1 ? "it" : "each"} on a line of its own)`
      }`,
    );
  }

  /**
   * The argument at `i`, or null with an error: keepalived 2.2.7 stops reading the file at a
   * line without the value its handler reads (lib/parser.c null_strvec: "missing a parameter",
   * exit), so it does not start.
   */
  arg(n: KaNode, i = 0): string | null {
    this.use(n, i + 1);
    const v = n.args[i];
    if (v === undefined) this.missing(n);
    return v ?? null;
  }

  /** Reports a missing value (see arg). */
  missing(n: KaNode): void {
    this.error(
      n,
      `${n.keyword}: missing value; keepalived 2.2.7 refuses the file at this line ` +
        `("missing a parameter") and does not start`,
    );
  }

  /**
   * A command line as keepalived reads it (lib/notify.c): the first word after the keyword, a
   * quoted string when the command has arguments. After it, `script` (vrrp_script, MISC_CHECK)
   * ignores further words; `notify` (notify and quorum scripts) takes them as the user and group
   * to run as, and drops the script when that user does not exist.
   */
  script(n: KaNode, kind: "script" | "notify"): string | null {
    this.useAll(n);
    const cmd = n.args[0];
    if (cmd === undefined) {
      this.missing(n);
      return null;
    }
    const rest = n.args.slice(1);
    if (rest.length === 0) return cmd;
    if (kind === "script") {
      this.warn(
        n,
        `${n.keyword}: keepalived 2.2.7 runs "${cmd}" without the words after it ` +
          `("${rest.join(" ")}"), dropped here too; quote the whole command line ` +
          "to pass them as arguments",
      );
    } else {
      this.warn(
        n,
        `${n.keyword}: runs as "${rest.slice(0, 2).join(":")}" in keepalived; haagent runs ` +
          "notify scripts as global.script_user (or its default), so that user is not carried " +
          "over (quote the script if the words were meant as its arguments)",
      );
    }
    return cmd;
  }

  /**
   * An integer: not a number is ignored as keepalived does (warning); a number haagent cannot
   * take (outside min-max) is an error.
   */
  int(n: KaNode, min: number, max: number, i = 0): number | null {
    const v = this.arg(n, i);
    if (v === null) return null;
    if (!/^[-+]?[0-9]+$/.test(v)) {
      this.warn(n, `${n.keyword}: "${v}" is not an integer; ${IGNORED}`);
      return null;
    }
    const x = Number(v);
    if (x < min || x > max) {
      this.error(n, `${n.keyword}: "${v}" is not in ${min}${min < 0 ? ".." : "-"}${max}`);
      return null;
    }
    return x;
  }

  /**
   * A keepalived <TIMER> (decimal seconds, microsecond resolution) in milliseconds. `kaRange`
   * is the range keepalived's handler reads (outside it, keepalived logs the line and ignores
   * it: a warning); above `maxSec` (haagent's limit) is an error.
   */
  secondsMs(
    n: KaNode,
    maxSec: number,
    i = 0,
    kaRange?: readonly [minSec: number, maxSec: number],
  ): number | null {
    const v = this.arg(n, i);
    if (v === null) return null;
    if (!/^[0-9]+(\.[0-9]+)?$/.test(v)) {
      this.warn(n, `${n.keyword}: "${v}" is not a number of seconds; ${IGNORED}`);
      return null;
    }
    const s = Number(v);
    if (kaRange !== undefined && (s < kaRange[0] || s > kaRange[1])) {
      this.warn(n, `${n.keyword}: "${v}" is not ${kaRange[0]}-${kaRange[1]} seconds; ${IGNORED}`);
      return null;
    }
    if (s > maxSec) {
      this.error(n, `${n.keyword}: "${v}" is not in 0-${maxSec} seconds`);
      return null;
    }
    return Math.round(s * 1_000_000) / 1000;
  }

  /** An optional <BOOL> argument (absent means true). */
  bool(n: KaNode, i = 0): boolean | null {
    this.use(n, i + 1);
    const v = n.args[i];
    if (v === undefined) return true;
    if (/^(on|true|yes)$/i.test(v)) return true;
    if (/^(off|false|no)$/i.test(v)) return false;
    this.warn(n, `${n.keyword}: "${v}" is not one of on|off|true|false|yes|no; ${IGNORED}`);
    return null;
  }

  /** One of `values` (numbers compared as numbers), or null with a warning. */
  oneOf<V extends string | number>(n: KaNode, values: readonly V[], i = 0): V | null {
    const v = this.arg(n, i);
    if (v === null) return null;
    const hit = values.find((x) => String(x) === v);
    if (hit === undefined) {
      this.warn(n, `${n.keyword}: "${v}" is not one of ${values.join(", ")}; ${IGNORED}`);
      return null;
    }
    return hit;
  }

  /** An address; not one is ignored as keepalived does (warning). */
  ip(n: KaNode, v: string): IpAddress | null {
    const a = parseIp(v);
    if (a === null) this.warn(n, `${n.keyword}: "${v}" is not an IP address; ${IGNORED}`);
    return a;
  }

  /** Warns about arguments after the `used` ones. */
  extra(n: KaNode, used: number): void {
    this.use(n, used);
    this.leftover(n);
  }

  /** Warns when a keyword that takes no block has one. */
  noBlock(n: KaNode): void {
    if (n.children !== null) this.warn(n, `${n.keyword}: the block after it was ignored`);
  }

  /** The block's children; an error when the keyword needs a block and has none. */
  block(n: KaNode): KaNode[] {
    if (n.children === null) {
      this.error(n, `${n.keyword}: expected a "{ ... }" block`);
      return [];
    }
    return n.children;
  }
}

export type Handler<T> = (n: KaNode, out: T) => void;

export type Obj = Record<string, unknown>;

/** Returns `o` with keys in `order` first (as listed), then any others. */
export function ordered(o: Obj, order: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of order) if (o[k] !== undefined) out[k] = o[k];
  for (const [k, v] of Object.entries(o)) if (!(k in out) && v !== undefined) out[k] = v;
  return out;
}

/** Formats milliseconds as a duration string: "1s", "100ms", "1.5s", "300s". */
export function formatMs(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  if (ms < 1000) return `${ms}ms`;
  return `${ms / 1000}s`;
}

/** `ADDR:PORT`, with brackets for IPv6. */
export function hostPort(a: IpAddress, port: number): string {
  const t = formatIp(a.bytes);
  return a.family === "ipv6" ? `[${t}]:${port}` : `${t}:${port}`;
}

/** Simple setter handler: `out[key] = value(n)` when the value is valid. */
export function set<T extends Obj>(
  key: string,
  value: (n: KaNode) => unknown,
  ctx: Ctx,
): Handler<T> {
  return (n, out) => {
    ctx.noBlock(n);
    const v = value(n);
    if (v !== null && v !== undefined) (out as Obj)[key] = v;
  };
}

/** keepalived's largest timer, in seconds (TIMER_MAX_SEC). */
export const MAX_TIMER_SEC = 2_147_483;

/** A duration in milliseconds as YAML text, or null. */
export function msOrNull(ms: number | null): string | null {
  return ms === null ? null : formatMs(ms);
}

/** `user NAME [GROUP]`: the group is dropped with a warning (haagent takes the user's). */
export function userOnly(c: KaNode, ctx: Ctx): string | null {
  if (c.args.length > 1) {
    ctx.use(c, 2);
    ctx.warn(c, `user: group "${c.args[1]}" was dropped (haagent takes the user's group)`);
  }
  return ctx.arg(c);
}
