/**
 * What every converter shares: the issue collector with keepalived's value readers (integers,
 * timers, booleans, addresses), the keyword dispatcher and small output helpers.
 *
 * @module
 */
import { formatIp, type IpAddress, parseIp } from "../../net/ip.ts";
import type { KaIssue, KaNode } from "./parser.ts";

/** Collects issues while converting. */
export class Ctx {
  readonly issues: KaIssue[] = [];
  /** keepalived's vrrp_strict (global) was set. */
  strict = false;
  /** keepalived's vrrp_check_unicast_src (global) was set. */
  checkUnicastSrc = false;

  warn(n: KaNode, message: string): void {
    this.issues.push({ file: n.file, line: n.line, col: n.col, message, severity: "warning" });
  }

  error(n: KaNode, message: string): void {
    this.issues.push({ file: n.file, line: n.line, col: n.col, message, severity: "error" });
  }

  unsupported(n: KaNode, why = ""): void {
    this.warn(n, `keyword "${n.keyword}" is not supported and was dropped${why && `: ${why}`}`);
  }

  /** The argument at `i`, or null with an error naming the keyword. */
  arg(n: KaNode, i = 0): string | null {
    const v = n.args[i];
    if (v === undefined) this.error(n, `${n.keyword}: missing value`);
    return v ?? null;
  }

  /** All arguments joined by spaces (a command line), or null with an error when there are none. */
  command(n: KaNode): string | null {
    if (n.args.length === 0) {
      this.error(n, `${n.keyword}: missing value`);
      return null;
    }
    return n.args.join(" ");
  }

  /**
   * A notify-type script line (`notify_master`, `notify`, `quorum_up`, `notify_up`, ...): as
   * keepalived's notify_script_init reads it, the first (quoted) word is the command line and
   * the next words are a user and group to run it as. haagent runs these as script_user, so a
   * user is reported and left out (never appended to the command).
   */
  script(n: KaNode): string | null {
    const cmd = n.args[0];
    if (cmd === undefined || cmd.trim() === "") {
      this.error(n, `${n.keyword}: missing value`);
      return null;
    }
    if (n.args.length > 1) {
      this.warn(
        n,
        `${n.keyword}: runs as "${n.args.slice(1, 3).join(":")}" in keepalived; haagent runs ` +
          "notify scripts as global.script_user (or its default), so that user is not carried " +
          "over (quote the script if the words were meant as its arguments)",
      );
    }
    return cmd;
  }

  /**
   * A vrrp_script `script` or MISC_CHECK `misc_path` line: keepalived 2.2.7
   * (set_script_params_array) runs the first word, or the quoted string, and ignores the words
   * after it; they are dropped here too, with a warning.
   */
  scriptOnly(n: KaNode): string | null {
    const cmd = n.args[0];
    if (cmd === undefined || cmd.trim() === "") {
      this.error(n, `${n.keyword}: missing value`);
      return null;
    }
    if (n.args.length > 1) {
      this.warn(
        n,
        `${n.keyword}: keepalived 2.2.7 runs "${cmd}" without the words after it ` +
          `("${n.args.slice(1).join(" ")}"), dropped here too; quote the whole command line ` +
          "to pass them as arguments",
      );
    }
    return cmd;
  }

  int(n: KaNode, min: number, max: number, i = 0): number | null {
    const v = this.arg(n, i);
    if (v === null) return null;
    if (!/^-?[0-9]+$/.test(v)) {
      this.error(n, `${n.keyword}: "${v}" is not an integer in ${min}-${max}`);
      return null;
    }
    const x = Number(v);
    if (x < min || x > max) {
      this.error(n, `${n.keyword}: "${v}" is not in ${min}${min < 0 ? ".." : "-"}${max}`);
      return null;
    }
    return x;
  }

  /** A keepalived <TIMER> (decimal seconds, microsecond resolution) in milliseconds. */
  secondsMs(n: KaNode, maxSec: number, i = 0): number | null {
    const v = this.arg(n, i);
    if (v === null) return null;
    if (!/^[0-9]+(\.[0-9]+)?$/.test(v)) {
      this.error(n, `${n.keyword}: "${v}" is not a number of seconds`);
      return null;
    }
    const s = Number(v);
    if (s > maxSec) {
      this.error(n, `${n.keyword}: "${v}" is not in 0-${maxSec} seconds`);
      return null;
    }
    return Math.round(s * 1_000_000) / 1000;
  }

  /** An optional <BOOL> argument (absent means true). */
  bool(n: KaNode, i = 0): boolean | null {
    const v = n.args[i];
    if (v === undefined) return true;
    if (/^(on|true|yes)$/i.test(v)) return true;
    if (/^(off|false|no)$/i.test(v)) return false;
    this.error(n, `${n.keyword}: "${v}" is not one of on|off|true|false|yes|no`);
    return null;
  }

  ip(n: KaNode, v: string): IpAddress | null {
    const a = parseIp(v);
    if (a === null) this.error(n, `${n.keyword}: "${v}" is not an IP address`);
    return a;
  }

  /** Warns about arguments after the `used` ones. */
  extra(n: KaNode, used: number): void {
    if (n.args.length > used) {
      this.warn(n, `${n.keyword}: extra arguments "${n.args.slice(used).join(" ")}" were ignored`);
    }
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

/** Runs the handler for each child keyword; unknown keywords are reported as unsupported. */
export function dispatch<T>(
  ctx: Ctx,
  nodes: KaNode[],
  table: Record<string, Handler<T>>,
  out: T,
): void {
  for (const n of nodes) {
    const h = Object.hasOwn(table, n.keyword) ? table[n.keyword] : undefined;
    if (h === undefined) ctx.unsupported(n);
    else h(n, out);
  }
}

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
