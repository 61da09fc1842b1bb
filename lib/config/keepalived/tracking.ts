/**
 * Tracked objects: vrrp_script, vrrp_track_process and track_file blocks, and the
 * `NAME [weight W [reverse]]` lines that refer to them from an instance.
 *
 * @module
 */
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

const SCRIPT_ORDER = [
  "command",
  "interval",
  "timeout",
  "weight",
  "rise",
  "fall",
  "user",
  "init_fail",
] as const;

/** vrrp_script NAME { ... } -> a scripts entry. */
export function convertScript(n: KaNode, ctx: Ctx): Obj {
  const out: Obj = {};
  const table: Record<string, Handler<Obj>> = {
    script: set("command", (c) => ctx.scriptOnly(c), ctx),
    interval: set("interval", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    timeout: set("timeout", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    weight: set("weight", (c) => {
      if (c.args[1] === "reverse") {
        ctx.warn(c, `weight: "reverse" is not supported and was dropped`);
      }
      return ctx.int(c, -253, 253);
    }, ctx),
    rise: set("rise", (c) => ctx.int(c, 1, 2_147_483_647), ctx),
    fall: set("fall", (c) => ctx.int(c, 1, 2_147_483_647), ctx),
    user: set("user", (c) => {
      if (c.args.length > 1) ctx.warn(c, `user: group "${c.args[1]}" was dropped`);
      return ctx.arg(c);
    }, ctx),
    init_fail: set("init_fail", (c) => (ctx.extra(c, 0), true), ctx),
  };
  dispatch(ctx, ctx.block(n), table, out);
  if (out.command === undefined) ctx.error(n, `vrrp_script ${n.args[0] ?? ""}: no "script" given`);
  return ordered(out, SCRIPT_ORDER);
}

const PROCESS_ORDER = [
  "process",
  "parameters",
  "param_match",
  "full_command",
  "quorum",
  "quorum_max",
  "weight",
  "fork_delay",
  "terminate_delay",
] as const;

export function convertProcess(n: KaNode, ctx: Ctx): Obj | null {
  const out: Obj = {};
  dispatch(ctx, ctx.block(n), {
    process: (c) => {
      const name = ctx.arg(c);
      if (name === null) return;
      out.process = name;
      if (c.args.length > 1) out.parameters = c.args.slice(1).join(" ");
    },
    param_match: set("param_match", (c) => {
      const v = ctx.arg(c);
      if (v === null || ["exact", "initial", "partial"].includes(v)) return v;
      ctx.error(c, `param_match: "${v}" is not exact, initial or partial`);
      return null;
    }, ctx),
    full_command: set("full_command", (c) => (ctx.extra(c, 0), true), ctx),
    quorum: set("quorum", (c) => ctx.int(c, 1, 65535), ctx),
    quorum_max: set("quorum_max", (c) => ctx.int(c, 1, 65535), ctx),
    weight: set("weight", (c) => {
      if (c.args[1] === "reverse") {
        ctx.warn(c, `weight: "reverse" is not supported here and was dropped`);
      }
      return ctx.int(c, -253, 253);
    }, ctx),
    fork_delay: set("fork_delay", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    terminate_delay: set("terminate_delay", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    delay: (c) => {
      const ms = msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC));
      if (ms === null) return;
      out.fork_delay ??= ms;
      out.terminate_delay ??= ms;
    },
  }, out);
  if (typeof out.process !== "string") {
    ctx.error(n, `vrrp_track_process ${n.args[0] ?? ""}: no "process" given`);
    return null;
  }
  return ordered(out, PROCESS_ORDER);
}

export function convertTrackFile(n: KaNode, ctx: Ctx): { path: string; weight: number } | null {
  const out: Obj = {};
  dispatch(ctx, ctx.block(n), {
    file: set("path", (c) => ctx.arg(c), ctx),
    weight: set("weight", (c) => {
      if (c.args[1] === "reverse") {
        ctx.warn(c, `weight: "reverse" is not supported and was dropped`);
      }
      return ctx.int(c, -2_147_483_647, 2_147_483_647);
    }, ctx),
  }, out);
  if (typeof out.path !== "string") {
    ctx.error(n, `${n.keyword} ${n.args[0] ?? ""}: no "file" given`);
    return null;
  }
  return { path: out.path, weight: typeof out.weight === "number" ? out.weight : 1 };
}

/** A parsed `NAME [weight W [reverse|noreverse]]` line of a track_* block. */
export interface TrackRef {
  weight?: number;
  reverse: boolean;
}

/** Parses a track_* line; null (with an error) when it is malformed. */
export function trackRef(
  t: KaNode,
  ctx: Ctx,
  min: number,
  max: number,
  reverseOk: boolean,
): TrackRef | null {
  if (t.args.length === 0) return { reverse: false };
  if (t.args[0] !== "weight") {
    ctx.error(t, `${t.keyword}: expected "weight N", got "${t.args.join(" ")}"`);
    return null;
  }
  const w = ctx.int(t, min, max, 1);
  if (w === null) return null;
  const reverse = t.args[2] === "reverse";
  if (reverse && !reverseOk) {
    ctx.warn(t, `${t.keyword}: "reverse" is not supported and was dropped`);
  }
  if (t.args[2] !== "reverse" && t.args[2] !== "noreverse") ctx.extra(t, 2);
  return { weight: w, reverse: reverse && reverseOk };
}

/** A track list entry: the bare name when there is nothing else to say. */
export function trackEntry(name: string, ref: TrackRef): unknown {
  if (ref.weight === undefined) return name;
  return ref.reverse ? { name, weight: ref.weight, reverse: true } : { name, weight: ref.weight };
}
