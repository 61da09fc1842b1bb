/**
 * The loader thread's Web Worker (see `loader_thread.ts`): loads, validates and plans the
 * configuration file off the VRRP thread, diffs it against the plan before (the one it loaded,
 * or the start plan it was seeded with) and posts the result back. It first makes its own thread a helper
 * (SCHED_OTHER at the agent's checker nice: it may have inherited SCHED_RR from the VRRP
 * thread), and only then loads the modules that do the work. An exception becomes a refused
 * load.
 *
 * @module
 */
import { demoteThisThread } from "../../ffi/sched.ts";
import { linkIndex } from "../../ffi/ioctl.ts";
import type { FromLoadWorker, ToLoadWorker } from "./loader_thread.ts";

interface WorkerScope {
  postMessage(m: FromLoadWorker): void;
  addEventListener(type: "message", fn: (e: MessageEvent<ToLoadWorker>) => void): void;
}

/** Whether an interface exists on this host (for warnings only). */
function interfaceExists(name: string): boolean {
  try {
    linkIndex(name);
    return true;
  } catch {
    return false;
  }
}

const scope = globalThis as unknown as WorkerScope;
/** The last plan loaded, numbered: the next one is diffed against it. */
let previous:
  | { seq: number; plan: Extract<FromLoadWorker["result"], { ok: true }>["plan"] }
  | null = null;
// A random start: numbers of a replaced worker never match the running plan by chance.
let seq = Math.floor(Math.random() * 2 ** 30);
scope.addEventListener("message", async (e) => {
  if (e.data.type === "seed") {
    previous = { seq: e.data.seq, plan: e.data.plan };
    seq = e.data.seq;
    return;
  }
  const { id, request, helperNice } = e.data;
  let result: FromLoadWorker["result"];
  try {
    try {
      if (helperNice !== null) demoteThisThread(helperNice);
    } catch { /* the thread keeps its priority: loading still works */ }
    const { loadPlan } = await import("./loader.ts");
    const { readReservedProtocols } = await import("../config/rt_protos.ts");
    const { diffReload } = await import("./reload_diff.ts");
    const r = await loadPlan(request, {
      interfaceExists,
      reservedProtocols: readReservedProtocols(),
    });
    if (r.ok) {
      const diff = previous === null
        ? undefined
        : { from: previous.seq, value: diffReload(previous.plan, r.plan) };
      previous = { seq: ++seq, plan: r.plan };
      result = { ...r, seq, ...(diff !== undefined ? { diff } : {}) };
    } else result = r;
  } catch (err) {
    const why = (err as Error)?.message ?? String(err);
    result = { ok: false, errors: [`${request.file}: cannot load the file: ${why}`] };
  }
  scope.postMessage({ type: "loaded", id, result });
});
