import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { matches, type ProcessMatch, ProcessTracker, scanProc } from "./processes.ts";

const p = (comm: string, ...argv: string[]) => ({ pid: 1, comm, argv });
const m = (o: Partial<ProcessMatch>): ProcessMatch => ({
  process: "haproxy",
  paramMatch: "exact",
  fullCommand: false,
  ...o,
});

Deno.test("processes: the name is the 15-character comm; full_command matches argv[0]", () => {
  assert(matches(m({}), p("haproxy", "/usr/sbin/haproxy", "-f", "/etc/haproxy.cfg")));
  assert(!matches(m({}), p("nginx", "/usr/sbin/nginx")));
  assert(matches(m({ process: "a-very-long-daemon-name" }), p("a-very-long-dae")));
  assert(
    matches(m({ process: "/usr/sbin/haproxy", fullCommand: true }), p("x", "/usr/sbin/haproxy")),
  );
  assert(!matches(m({ process: "haproxy", fullCommand: true }), p("haproxy", "/usr/sbin/haproxy")));
});

Deno.test("processes: parameters match exactly, as the initial words, or anywhere", () => {
  const proc = p("haproxy", "/usr/sbin/haproxy", "-f", "/etc/haproxy.cfg", "-D");
  assert(matches(m({ parameters: "-f /etc/haproxy.cfg -D" }), proc));
  assert(!matches(m({ parameters: "-f /etc/haproxy.cfg" }), proc));
  assert(matches(m({ parameters: "-f /etc/haproxy.cfg", paramMatch: "initial" }), proc));
  assert(!matches(m({ parameters: "-f /etc/hap", paramMatch: "initial" }), proc));
  assert(matches(m({ parameters: "haproxy.cfg", paramMatch: "partial" }), proc));
  assert(!matches(m({ parameters: "nginx", paramMatch: "partial" }), proc));
});

Deno.test("processes: quorum, quorum_max and the fork / terminate delays", () => {
  const t = new ProcessTracker({
    quorum: 2,
    quorumMax: 3,
    forkDelayMs: 1000,
    terminateDelayMs: 500,
  });
  assertEquals([t.record(1, 0), t.up], [true, false]); // the first count decides at once
  assertEquals([t.record(2, 100), t.up], [false, false]); // fork delay running
  assertEquals([t.record(2, 900), t.up], [false, false]);
  assertEquals([t.record(2, 1100), t.up], [true, true]);
  assertEquals([t.record(4, 1200), t.up], [false, true]); // above quorum_max: terminate delay
  assertEquals([t.record(3, 1300), t.up], [false, true]); // back in range: delay reset
  assertEquals([t.record(0, 1400), t.up], [false, true]);
  assertEquals([t.record(0, 1900), t.up], [true, false]);
  const now = new ProcessTracker({ quorum: 1, forkDelayMs: 0, terminateDelayMs: 0 });
  now.record(0, 0);
  assertEquals([now.record(5, 1), now.up], [true, true]);
});

Deno.test("processes: /proc holds this process with its name and arguments", async () => {
  const all = await scanProc();
  const me = all.find((x) => x.pid === Deno.pid);
  assert(me !== undefined, "own pid not found");
  assert(me.argv.length > 0 && me.comm.length > 0, JSON.stringify(me));
});
