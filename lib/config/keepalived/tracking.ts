/**
 * Tracked objects: vrrp_script, vrrp_track_process and track_file blocks, and the
 * `NAME [weight W [reverse]]` lines that refer to them from an instance.
 *
 * @module
 */
import {
  type Ctx,
  formatMs,
  type Handler,
  MAX_TIMER_SEC,
  type Obj,
  ordered,
  set,
  userOnly,
} from "./context.ts";
import { dispatch, keyOrder, SECTIONS } from "./mapping.ts";
import type { KaNode } from "./parser.ts";

/** `weight W [reverse]` in a vrrp_script / vrrp_track_process / track_file block. */
function weight(ctx: Ctx, min: number, max: number, what: string): Handler<Obj> {
  return set("weight", (c) => {
    if (c.args[1] === "reverse") {
      ctx.use(c, 2);
      ctx.warn(c, `weight: "reverse" on a ${what} is not supported and was dropped`);
    } else if (c.args[1] === "noreverse") ctx.use(c, 2);
    return ctx.int(c, min, max);
  }, ctx);
}

/** vrrp_script NAME { ... } -> a scripts entry, or null when keepalived removes it. */
export function convertScript(n: KaNode, ctx: Ctx): Obj | null {
  const out: Obj = {};
  dispatch(
    ctx,
    ctx.block(n),
    {
      weight: weight(ctx, -253, 253, "vrrp_script"),
      user: set("user", (c) => userOnly(c, ctx), ctx),
    },
    out,
    SECTIONS.script,
  );
  if (out.command === undefined) {
    ctx.warn(
      n,
      `vrrp_script ${n.args[0] ?? ""}: no "script" given; keepalived removes it (and the ` +
        "tracking of it), and so does the import",
    );
    return null;
  }
  return ordered(out, keyOrder(SECTIONS.script));
}

/** vrrp_track_process NAME { ... } -> a processes entry. */
export function convertProcess(n: KaNode, ctx: Ctx): Obj | null {
  const out: Obj = {};
  dispatch(
    ctx,
    ctx.block(n),
    {
      process: (c) => {
        const name = ctx.arg(c);
        if (name === null) return;
        out.process = name;
        ctx.useAll(c);
        if (c.args.length > 1) out.parameters = c.args.slice(1).join(" ");
      },
      weight: weight(ctx, -253, 253, "vrrp_track_process"),
      delay: (c) => {
        const ms = ctx.secondsMs(c, MAX_TIMER_SEC);
        if (ms === null) return;
        out.fork_delay ??= formatMs(ms);
        out.terminate_delay ??= formatMs(ms);
      },
    },
    out,
    SECTIONS.process,
  );
  if (typeof out.process !== "string") {
    ctx.error(n, `vrrp_track_process ${n.args[0] ?? ""}: no "process" given`);
    return null;
  }
  return ordered(out, keyOrder(SECTIONS.process));
}

/** track_file NAME { file PATH; weight W } -> what instances and FILE_CHECKs refer to. */
export function convertTrackFile(n: KaNode, ctx: Ctx): { path: string; weight: number } | null {
  const out: Obj = {};
  dispatch(ctx, ctx.block(n), {
    file: set("path", (c) => ctx.arg(c), ctx),
    weight: weight(ctx, -2_147_483_647, 2_147_483_647, "track_file"),
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

/**
 * Parses a track_* line as vrrp_track.c alloc_track_script does: an unknown option or a weight
 * without value drops the entry, an invalid weight keeps the default, +/-254 is +/-253 (all
 * logged by keepalived, warned here).
 */
export function trackRef(
  t: KaNode,
  ctx: Ctx,
  min: number,
  max: number,
  reverseOk: boolean,
): TrackRef | null {
  ctx.useAll(t);
  if (t.args.length === 0) return { reverse: false };
  if (t.args[0] !== "weight") {
    ctx.warn(
      t,
      `${t.keyword}: unknown option "${
        t.args[0]
      }"; keepalived drops the entry, and so does the import`,
    );
    return null;
  }
  if (t.args[1] === undefined) {
    ctx.warn(
      t,
      `${t.keyword}: weight without value; keepalived drops the entry, and so does the import`,
    );
    return null;
  }
  let w: number | undefined = /^[-+]?[0-9]+$/.test(t.args[1]) ? Number(t.args[1]) : undefined;
  if (w !== undefined && max === 253 && Math.abs(w) === 254) {
    ctx.warn(
      t,
      `${t.keyword}: weight ${w} is written as ${w < 0 ? -253 : 253}, as keepalived does`,
    );
    w = w < 0 ? -253 : 253;
  }
  if (w === undefined || w < min || w > max) {
    ctx.warn(
      t,
      `${t.keyword}: weight "${t.args[1]}" is not in ${min}..${max}; keepalived keeps the ` +
        "default weight, and so does the import",
    );
    w = undefined;
  }
  const option = t.args[2];
  const reverse = option === "reverse";
  if (reverse && !reverseOk) {
    ctx.warn(t, `${t.keyword}: "reverse" is not supported and was dropped`);
  } else if (option !== undefined && option !== "reverse" && option !== "noreverse") {
    ctx.warn(t, `${t.keyword}: unknown weight option "${option}"; ignored as keepalived does`);
  }
  if (t.args.length > 3) {
    ctx.warn(t, `${t.keyword}: "${t.args.slice(3).join(" ")}" ignored, as keepalived ignores it`);
  }
  return w === undefined
    ? { reverse: reverse && reverseOk }
    : { weight: w, reverse: reverse && reverseOk };
}

/** A track list entry: the bare name when there is nothing else to say. */
export function trackEntry(name: string, ref: TrackRef): unknown {
  if (ref.weight === undefined) return ref.reverse ? { name, reverse: true } : name;
  return ref.reverse ? { name, weight: ref.weight, reverse: true } : { name, weight: ref.weight };
}
