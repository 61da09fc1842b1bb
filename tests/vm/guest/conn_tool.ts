/**
 * Connections through a virtual service, counted, for the restart tests (run inside namespaces):
 *
 * - `echo PORT`: echoes every byte back on every connection, and keeps it open.
 * - `hold HOST PORT N SECONDS`: opens N connections and, on each, sends a byte every 100 ms
 *   and expects it back within 2 s, for SECONDS; prints JSON `{opened, broken, reasons}` (a
 *   connection is broken when a read or write fails, the peer closes, or an echo is late).
 * - `probe HOST PORT SECONDS EVERY_MS`: a new connection every EVERY_MS for SECONDS, each
 *   sending a byte and expecting it back within 1 s; prints JSON `{tried, failed, failures}`
 *   with the offset (ms from the start) and reason of each failure.
 *
 * @module
 */

const [mode, ...args] = Deno.args;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends one byte and reads it back within `timeoutMs`; throws with a reason otherwise. */
async function roundTrip(conn: Deno.Conn, timeoutMs: number): Promise<void> {
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
  const [host, port, n, seconds] = [args[0]!, Number(args[1]), Number(args[2]), Number(args[3])];
  const end = performance.now() + seconds * 1000;
  const reasons: string[] = [];
  let opened = 0;
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
      while (performance.now() < end) {
        await roundTrip(conn, 2000);
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
  console.log(JSON.stringify({ opened, broken: reasons.length, reasons }));
} else if (mode === "probe") {
  const [host, port, seconds, every] = [
    args[0]!,
    Number(args[1]),
    Number(args[2]),
    Number(args[3]),
  ];
  const t0 = performance.now();
  const failures: { atMs: number; reason: string }[] = [];
  let tried = 0;
  const running: Promise<void>[] = [];
  while (performance.now() - t0 < seconds * 1000) {
    const at = performance.now() - t0;
    tried++;
    running.push((async () => {
      let conn: Deno.Conn | null = null;
      try {
        conn = await Promise.race([
          Deno.connect({ hostname: host, port }),
          sleep(1000).then(() => {
            throw new Error("connect took longer than 1 s");
          }),
        ]);
        await roundTrip(conn, 1000);
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
  console.log(JSON.stringify({ tried, failed: failures.length, failures }));
} else {
  console.error("usage: echo PORT | hold HOST PORT N SECONDS | probe HOST PORT SECONDS EVERY_MS");
  Deno.exit(2);
}
