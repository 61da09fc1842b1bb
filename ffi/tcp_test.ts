import { assert, assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import { Reactor } from "./reactor.ts";
import { type ConnectResult, TcpProbe, TcpSink } from "./tcp.ts";

function quietReactor(): Reactor {
  return new Reactor({ onFailure: () => {} });
}

/** A loopback port nobody listens on (bound, then released). */
const LOOP4 = new Uint8Array([127, 0, 0, 1]);
const LOOP4B = new Uint8Array([127, 0, 0, 2]);
const TEST_NET = new Uint8Array([192, 0, 2, 1]);
const LOOP6 = new Uint8Array(16);
LOOP6[15] = 1;

function freePort(hostname = "127.0.0.1"): number {
  const l = Deno.listen({ hostname, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function code(r: ConnectResult): string {
  if (r.ok) return "ok";
  return r.kind === "error" ? `${r.syscall} ${r.code}` : r.kind;
}

/** Runs `fn` with a running reactor, and closes it after. */
async function withReactor(fn: (r: Reactor) => Promise<void>): Promise<void> {
  const r = quietReactor();
  const done = r.run();
  try {
    await fn(r);
  } finally {
    r.close();
    await done;
  }
}

Deno.test("tcp: connects to a listener, polled first or through the reactor", async () => {
  await withReactor(async (r) => {
    const port = freePort();
    using sink = new TcpSink(r, LOOP4, port);
    for (const pollFirst of [true, false]) {
      const p = new TcpProbe({ address: LOOP4, port, pollFirst });
      for (let i = 0; i < 20; i++) assertEquals(code(await p.connect(r, 2000)), "ok");
    }
    await new Promise((res) => setTimeout(res, 50));
    assertEquals(sink.accepted, 40);
  });
});

Deno.test("tcp: IPv6 loopback and a bound source address", async () => {
  await withReactor(async (r) => {
    const l6 = Deno.listen({ hostname: "::1", port: 0 });
    const p6 = new TcpProbe({ address: LOOP6, port: (l6.addr as Deno.NetAddr).port });
    assertEquals(p6.family, "ipv6");
    const [res6, c6] = await Promise.all([p6.connect(r, 2000), l6.accept()]);
    assertEquals(code(res6), "ok");
    c6.close();
    l6.close();
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    for (const pollFirst of [true, false]) {
      const p = new TcpProbe({ address: LOOP4, port, bindto: LOOP4B, pollFirst });
      const [res, conn] = await Promise.all([p.connect(r, 2000), l.accept()]);
      assertEquals(code(res), "ok");
      assertEquals((conn.remoteAddr as Deno.NetAddr).hostname, "127.0.0.2");
      conn.close();
    }
    l.close();
  });
});

Deno.test("tcp: refused, bind failures and bad arguments are values or TypeErrors", async () => {
  await withReactor(async (r) => {
    const port = freePort();
    for (const pollFirst of [true, false]) {
      const p = new TcpProbe({ address: LOOP4, port, pollFirst });
      assertEquals(code(await p.connect(r, 2000)), "connect ECONNREFUSED");
    }
    const p6 = new TcpProbe({ address: LOOP6, port: freePort("::1") });
    assertEquals(code(await p6.connect(r, 2000)), "connect ECONNREFUSED");
    // 192.0.2.1 (TEST-NET-1) is no address of this host: bind fails before any packet is sent.
    const b = new TcpProbe({ address: LOOP4, port, bindto: TEST_NET });
    assertEquals(code(await b.connect(r, 2000)), "bind EADDRNOTAVAIL");
  });
  assertThrows(
    () => new TcpProbe({ address: new Uint8Array(5), port: 80 }),
    TypeError,
    "not an IP address",
  );
  assertThrows(() => new TcpProbe({ address: LOOP4, port: 0 }), RangeError, "port");
  assertThrows(
    () => new TcpProbe({ address: LOOP6, port: 80, bindto: LOOP4 }),
    TypeError,
    "family",
  );
});

Deno.test("tcp: a connect that hangs times out, or ends when aborted", async () => {
  // A listener that never accepts, with backlog 0: once its queue is full, SYNs are dropped,
  // so later connects stay in progress (the sink's reactor never runs).
  const idle = quietReactor();
  const port = freePort();
  using full = new TcpSink(idle, LOOP4, port, 0);
  await withReactor(async (r) => {
    const p = new TcpProbe({ address: LOOP4, port });
    const results: string[] = [];
    for (let i = 0; i < 4; i++) results.push(code(await p.connect(r, 300)));
    assert(results.includes("timeout"), `no timeout among ${results.join(", ")}`);
    const t0 = performance.now();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    assertEquals(code(await p.connect(r, 10_000, ac.signal)), "aborted");
    assert(performance.now() - t0 < 5000);
    assertEquals(code(await p.connect(r, 10_000, ac.signal)), "aborted");
    assertEquals(r.size, 0);
  });
  full.close();
  idle.close();
});

Deno.test("tcp: a closed reactor makes the attempt fail, not throw", async () => {
  const r = quietReactor();
  r.close();
  const idle = quietReactor();
  const port = freePort();
  using full = new TcpSink(idle, LOOP4, port, 0);
  const p = new TcpProbe({ address: LOOP4, port, pollFirst: false });
  const results: string[] = [];
  for (let i = 0; i < 3; i++) results.push(code(await p.connect(r, 300)));
  // The first connect may complete at once (queue not yet full); others need the reactor.
  assert(results.every((x) => x === "ok" || x === "epoll_ctl EBADF"), results.join(", "));
  full.close();
  idle.close();
});
