import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { Reactor } from "../../ffi/reactor.ts";
import { TcpSink } from "../../ffi/tcp.ts";
import { mustParseIp } from "../net/ip.ts";

const LOOPBACK = mustParseIp("127.0.0.1").bytes;
import { checkReactorLeases, checkReactorOpen } from "./check_reactor.ts";
import { makeChecker } from "./make_checker.ts";
import { TcpChecker } from "./tcp.ts";
import { commonDefaults } from "./types.ts";

const spec = { ...commonDefaults("TCP_CHECK"), connectTimeoutMs: 300, type: "TCP_CHECK" as const };

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function quietReactor(): Reactor {
  return new Reactor({ onFailure: () => {} });
}

function reason(o: { ok: true; detail: string } | { ok: false; reason: string }): string {
  return o.ok ? `ok: ${o.detail}` : o.reason;
}

Deno.test("TCP_CHECK: up, refused, timeout, aborted, bindto errors, texts as keepalived's", async () => {
  const r = quietReactor();
  const done = r.run();
  const ac = new AbortController();
  const port = freePort();
  using sink = new TcpSink(r, LOOPBACK, port);
  const at = (address: string, p: number, extra = {}) =>
    makeChecker({ ...spec, ...extra }, { address, port: p }, { reactor: r });
  assertEquals(
    reason(await at("127.0.0.1", port).run(ac.signal)),
    `ok: connected to 127.0.0.1:${port}`,
  );
  const closed = freePort();
  assertEquals(
    reason(await at("127.0.0.1", closed).run(ac.signal)),
    `connect to 127.0.0.1:${closed}: ECONNREFUSED`,
  );
  // connect_ip / connect_port win over the real server's address.
  assertEquals(
    reason(await at("10.0.0.11", 80, { connectIp: "127.0.0.1", connectPort: port }).run(ac.signal)),
    `ok: connected to 127.0.0.1:${port}`,
  );
  assertEquals(
    reason(await at("127.0.0.1", port, { bindto: "192.0.2.1" }).run(ac.signal)),
    `connect to 127.0.0.1:${port}: bind: EADDRNOTAVAIL`,
  );
  assertMatch(
    reason(await at("::1", port, { bindto: "127.0.0.1" }).run(ac.signal)),
    /^connect to \[::1\]:\d+: bindto 127\.0\.0\.1 is not of the family of ::1$/,
  );
  // A listener that never accepts, backlog 0: later connects hang until the timeout.
  const idle = quietReactor();
  const stuck = freePort();
  using full = new TcpSink(idle, LOOPBACK, stuck, 0);
  const hang = at("127.0.0.1", stuck);
  const outcomes: string[] = [];
  for (let i = 0; i < 4; i++) outcomes.push(reason(await hang.run(ac.signal)));
  assert(
    outcomes.includes(`connect to 127.0.0.1:${stuck}: timeout after 300 ms`),
    outcomes.join("; "),
  );
  const long = makeChecker({ ...spec, connectTimeoutMs: 10_000 }, {
    address: "127.0.0.1",
    port: stuck,
  }, { reactor: r });
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 100);
  const outcome = await long.run(abort.signal);
  assert(sink.accepted >= 2);
  full.close();
  idle.close();
  r.close();
  await done;
  assertEquals(reason(outcome), `connect to 127.0.0.1:${stuck}: aborted`);
});

Deno.test("TCP_CHECK: without a reactor it leases the shared one, closed after the last use", async () => {
  const r = quietReactor();
  const done = r.run();
  const port = freePort();
  using _sink = new TcpSink(r, LOOPBACK, port);
  const ac = new AbortController();
  for (const pollFirst of [true, false]) {
    const c = new TcpChecker(spec, { address: "127.0.0.1", port }, { pollFirst });
    const all = await Promise.all(Array.from({ length: 10 }, () => c.run(ac.signal)));
    assert(all.every((o) => o.ok), JSON.stringify(all));
  }
  assertEquals(checkReactorLeases(), 0);
  assert(checkReactorOpen());
  // Host names go through Deno.connect.
  const named = new TcpChecker(spec, { address: "localhost", port: freePort() });
  assertMatch(reason(await named.run(ac.signal)), /^connect to localhost:\d+: ECONNREFUSED$/);
  for (let i = 0; i < 40 && checkReactorOpen(); i++) {
    await new Promise((res) => setTimeout(res, 100));
  }
  assert(!checkReactorOpen(), "the shared reactor outlived its linger");
  await new Promise((res) => setTimeout(res, 50)); // its run() settles
  r.close();
  await done;
});
