/**
 * Connections through a virtual service, counted, for the restart tests (run inside namespaces):
 *
 * - `echo PORT`: echoes every byte back on every connection, and keeps it open.
 * - `hold HOST PORT N STOPFILE`: opens N connections and, on each, sends a byte every 100 ms
 *   and waits for it to come back, until STOPFILE exists; prints JSON `{opened, broken, reasons,
 *   maxEchoMs}`. A connection is broken when a read or write fails (a reset), the peer closes it,
 *   or no echo comes back within 30 s (a slow echo is not a break: under qemu's TCG the guest's
 *   two emulated CPUs can be busy for seconds with a starting agent; the slowest is reported).
 * - `probe HOST PORT EVERY_MS STOPFILE`: a new connection every EVERY_MS until STOPFILE exists,
 *   each sending a byte and expecting it back, connect and echo within 10 s each; prints JSON
 *   `{tried, failed, failures, maxMs}` with the offset (ms from the start) and reason of each
 *   failure, and the slowest success.
 *
 * Both print "ready" on stderr once their first round trip worked.
 *
 * @module
 */

const [mode, ...args] = Deno.args;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether the stop file exists. */
function told(stopFile: string): boolean {
  try {
    Deno.statSync(stopFile);
    return true;
  } catch {
    return false;
  }
}

/** Sends one byte and reads it back within `timeoutMs`; throws with a reason otherwise. */
async function roundTrip(conn: Deno.Conn, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  await conn.write(new Uint8Array([120]));
  const buf = new Uint8Array(1);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, no) => {
    timer = setTimeout(() => no(new Error(`no echo within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const n = await Promise.race([conn.read(buf), timeout]);
    if (n === null) throw new Error("closed by the peer");
  } finally {
    clearTimeout(timer);
  }
  return performance.now() - t0;
}

if (mode === "echo") {
  const listener = Deno.listen({ hostname: "0.0.0.0", port: Number(args[0]) });
  console.log("listening");
  for await (const conn of listener) {
    (async () => {
      const buf = new Uint8Array(4096);
      try {
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          await conn.write(buf.subarray(0, n));
        }
      } catch { /* reset */ }
      try {
        conn.close();
      } catch { /* closed */ }
    })();
  }
} else if (mode === "hold") {
  const [host, port, n, stopFile] = [args[0]!, Number(args[1]), Number(args[2]), args[3]!];
  const reasons: string[] = [];
  let opened = 0;
  let ready = 0;
  let maxEchoMs = 0;
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    let conn: Deno.Conn;
    try {
      conn = await Deno.connect({ hostname: host, port });
      opened++;
    } catch (e) {
      reasons.push(`#${i} connect: ${(e as Error).message}`);
      return;
    }
    try {
      let first = true;
      while (!told(stopFile)) {
        maxEchoMs = Math.max(maxEchoMs, await roundTrip(conn, 30_000));
        if (first && ++ready === n) console.error("ready");
        first = false;
        await sleep(100);
      }
    } catch (e) {
      reasons.push(`#${i}: ${(e as Error).message}`);
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }));
  console.log(
    JSON.stringify({ opened, broken: reasons.length, reasons, maxEchoMs: Math.round(maxEchoMs) }),
  );
} else if (mode === "probe") {
  const [host, port, every, stopFile] = [args[0]!, Number(args[1]), Number(args[2]), args[3]!];
  const t0 = performance.now();
  const failures: { atMs: number; reason: string }[] = [];
  let tried = 0;
  let maxMs = 0;
  const running: Promise<void>[] = [];
  let readySaid = false;
  while (!told(stopFile)) {
    const at = performance.now() - t0;
    tried++;
    running.push((async () => {
      let conn: Deno.Conn | null = null;
      const t1 = performance.now();
      try {
        conn = await Promise.race([
          Deno.connect({ hostname: host, port }),
          sleep(10_000).then(() => {
            throw new Error("connect took longer than 10 s");
          }),
        ]);
        await roundTrip(conn, 10_000);
        maxMs = Math.max(maxMs, performance.now() - t1);
        if (!readySaid) {
          readySaid = true;
          console.error("ready");
        }
      } catch (e) {
        failures.push({ atMs: Math.round(at), reason: (e as Error).message });
      } finally {
        try {
          conn?.close();
        } catch { /* closed */ }
      }
    })());
    await sleep(every);
  }
  await Promise.all(running);
  console.log(
    JSON.stringify({ tried, failed: failures.length, failures, maxMs: Math.round(maxMs) }),
  );
} else {
  console.error("usage: echo PORT | hold HOST PORT N STOPFILE | probe HOST PORT EVERY_MS STOPFILE");
  Deno.exit(2);
}
