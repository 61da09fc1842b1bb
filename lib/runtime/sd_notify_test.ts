import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { FakeClock } from "./clock.ts";
import { Logger } from "./log.ts";
import { parseNotifyEnv, ServiceNotifier } from "./sd_notify.ts";

function env(vars: Record<string, string>) {
  return (n: string) => vars[n];
}

Deno.test("sd_notify: the environment as sd_notify(3) and sd_watchdog_enabled(3) read it", () => {
  assertEquals(parseNotifyEnv(env({}), 42), { socket: null, watchdogUsec: null, ignored: [] });
  assertEquals(
    parseNotifyEnv(env({ NOTIFY_SOCKET: "/run/systemd/notify", WATCHDOG_USEC: "10000000" }), 42),
    { socket: "/run/systemd/notify", watchdogUsec: 10_000_000, ignored: [] },
  );
  // WATCHDOG_PID names us, or another process (then the watchdog is not ours).
  const both = { NOTIFY_SOCKET: "@sd", WATCHDOG_USEC: "2000000" };
  assertEquals(parseNotifyEnv(env({ ...both, WATCHDOG_PID: "42" }), 42).watchdogUsec, 2_000_000);
  assertEquals(parseNotifyEnv(env({ ...both, WATCHDOG_PID: "7" }), 42).watchdogUsec, null);
  assertEquals(parseNotifyEnv(env({ ...both, WATCHDOG_PID: "7" }), 42).ignored, []);
  for (const bad of ["0", "-5", "1e6", "ten", ""]) {
    const p = parseNotifyEnv(env({ NOTIFY_SOCKET: "@sd", WATCHDOG_USEC: bad }), 42);
    assertEquals(p.watchdogUsec, null, bad);
    assert(p.ignored[0]?.startsWith(`WATCHDOG_USEC=${bad}:`), p.ignored.join());
  }
  const vsock = parseNotifyEnv(env({ NOTIFY_SOCKET: "vsock:2:1234" }), 42);
  assertEquals(vsock.socket, null);
  assert(vsock.ignored[0]?.includes("vsock:2:1234"));
  const noSocket = parseNotifyEnv(env({ WATCHDOG_USEC: "1000000" }), 42);
  assertEquals(noSocket.watchdogUsec, null);
  assertEquals(noSocket.ignored.length, 1);
});

interface Sent {
  at: number;
  msg: string;
}

function setup(opts: { watchdogUsec?: number | null; fail?: () => boolean } = {}) {
  const clock = new FakeClock(1000);
  const sent: Sent[] = [];
  const logs: string[] = [];
  const log = new Logger("test");
  log.setSink((l) => logs.push(l));
  let summary = "1 MASTER";
  const n = new ServiceNotifier({
    send: (msg) => {
      if (opts.fail?.()) throw new Error("Cannot send to unix socket /x: ECONNREFUSED");
      sent.push({ at: clock.now(), msg });
      return true;
    },
    watchdogUsec: opts.watchdogUsec === undefined ? 1_000_000 : opts.watchdogUsec,
    log,
    monotonicUsec: () => 123_456_789n,
  });
  return {
    clock,
    sent,
    logs,
    n,
    setSummary: (s: string) => (summary = s),
    summary: () => summary,
    kinds: () => sent.map((s) => s.msg.split("\n")[0]),
  };
}

Deno.test("sd_notify: WATCHDOG=1 every WATCHDOG_USEC / 2 on the given clock", () => {
  const t = setup({ watchdogUsec: 1_000_000 });
  assertEquals(t.n.watchdogPeriodMs, 500);
  t.n.attach(t.clock, t.summary);
  t.clock.advance(5000);
  const pings = t.sent.filter((s) => s.msg === "WATCHDOG=1").map((s) => s.at);
  assertEquals(pings.length, 11, "one at attach, then one every 500 ms");
  for (let i = 1; i < pings.length; i++) assertEquals(pings[i]! - pings[i - 1]!, 500);
  assertEquals(t.n.stats.watchdogPings, 11);
  // No watchdog: no pings at all.
  const q = setup({ watchdogUsec: null });
  q.n.attach(q.clock, q.summary);
  q.clock.advance(10_000);
  assertEquals(q.sent.filter((s) => s.msg.startsWith("WATCHDOG")).length, 0);
  assertEquals(q.n.watchdogPeriodMs, null);
});

Deno.test("sd_notify: READY carries the status line; a reload is RELOADING then READY", () => {
  const t = setup({ watchdogUsec: null });
  t.n.ready();
  assertEquals(t.sent[0]!.msg, "READY=1", "before attach there is no summary");
  t.n.attach(t.clock, t.summary);
  t.n.ready();
  assertEquals(t.sent[1]!.msg, "READY=1\nSTATUS=1 MASTER");
  // Two overlapping reloads: one RELOADING, one READY once both are done.
  t.n.reloadBegin();
  t.n.reloadBegin();
  t.n.reloadDone();
  assertEquals(t.kinds().slice(2), ["RELOADING=1"]);
  assertEquals(t.sent[2]!.msg, "RELOADING=1\nMONOTONIC_USEC=123456789");
  t.setSummary("1 BACKUP");
  t.n.reloadDone();
  assertEquals(t.sent[3]!.msg, "READY=1\nSTATUS=1 BACKUP");
  t.n.reloadDone();
  assertEquals(t.sent.length, 4, "an unmatched done sends nothing");
  t.n.stopping();
  t.n.stopping();
  assertEquals(t.kinds().slice(4), ["STOPPING=1"]);
  // A reload during the stop announces nothing.
  t.n.reloadBegin();
  t.n.reloadDone();
  assertEquals(t.sent.length, 5);
});

Deno.test("sd_notify: STATUS follows changes, at most one per second", () => {
  const t = setup({ watchdogUsec: null });
  t.n.attach(t.clock, t.summary);
  t.n.ready();
  const statuses = () => t.sent.filter((s) => s.msg.startsWith("STATUS="));
  // Changes right after READY wait for the gap to pass; a burst is one update.
  t.clock.advance(100);
  for (const s of ["2 MASTER", "3 MASTER", "4 MASTER"]) {
    t.setSummary(s);
    t.n.statusChanged();
  }
  assertEquals(statuses().length, 0);
  t.clock.advance(900);
  assertEquals(statuses().map((s) => [s.at, s.msg]), [[2000, "STATUS=4 MASTER"]]);
  // Unchanged: nothing sent; a change nobody reported is found by the poll (2 s).
  t.n.statusChanged();
  t.clock.advance(5000);
  assertEquals(statuses().length, 1);
  t.setSummary("1 MASTER, 1 FAULT\nsecond line");
  t.clock.advance(2000);
  assertEquals(statuses().length, 2);
  assertEquals(statuses()[1]!.msg, "STATUS=1 MASTER, 1 FAULT second line", "one line");
});

Deno.test("sd_notify: WATCHDOG=trigger once, and the keep-alive stops", () => {
  const t = setup({ watchdogUsec: 2_000_000 });
  t.n.attach(t.clock, t.summary);
  t.clock.advance(1500);
  t.n.trigger("cannot reopen the VRRP socket\nof VI_1");
  t.n.trigger("again");
  t.clock.advance(10_000);
  assertEquals(t.kinds(), ["WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=trigger"]);
  assertEquals(t.sent.map((s) => s.at), [1000, 2000, 2500]);
  assertEquals(t.sent[2]!.msg, "WATCHDOG=trigger\nSTATUS=cannot reopen the VRRP socket of VI_1");
  assert(t.n.triggered);
  assert(t.logs.some((l) => l.includes("WATCHDOG=trigger")));
});

Deno.test("sd_notify: a failing socket is logged (rate-limited), never thrown", () => {
  let failing = true;
  const t = setup({ watchdogUsec: 200_000, fail: () => failing });
  t.n.attach(t.clock, t.summary);
  t.n.ready();
  t.clock.advance(10_000);
  assertEquals(t.sent.length, 0);
  assert(t.n.stats.sendFailures > 50);
  assertEquals(t.logs.length, 3, t.logs.join("\n"));
  assert(t.logs[0]!.includes("ECONNREFUSED"), t.logs[0]);
  failing = false;
  t.clock.advance(100);
  assertEquals(t.kinds(), ["WATCHDOG=1"]);
});

Deno.test("sd_notify: nothing is sent after disposal", () => {
  let closed = 0;
  const sent: string[] = [];
  const clock = new FakeClock();
  const n = new ServiceNotifier({
    send: (m) => sent.push(m) > 0,
    watchdogUsec: 1_000_000,
    log: new Logger("test"),
    monotonicUsec: () => 1n,
    close: () => closed++,
  });
  n.attach(clock, () => "x");
  n[Symbol.dispose]();
  n[Symbol.dispose]();
  n.ready();
  n.stopping();
  n.statusChanged();
  clock.advance(10_000);
  assertEquals(sent, ["WATCHDOG=1"]);
  assertEquals(closed, 1);
  assertEquals(clock.pending, 0);
});
