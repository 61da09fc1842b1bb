import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { Reactor } from "../../ffi/reactor.ts";
import { loadConfigText } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { FakeIpvs } from "../ipvs/fake.ts";
import { IpvsManager } from "../ipvs/manager.ts";
import { FakeNetlink } from "../netlink/fake.ts";
import { RealClock } from "../runtime/clock.ts";
import { Logger } from "../runtime/log.ts";
import { ScriptQueue } from "../runtime/script.ts";
import { readIpvsState } from "./ipvs_state.ts";
import type { LvsRuntime } from "./lvs.ts";
import { lvsRuntimeWith } from "./lvs_runtime.ts";

function config(onStop: "keep" | "remove", services: string[], extra = "", alpha = false): Config {
  const vs = services.map((a) =>
    `  - address: ${a}:80
    scheduler: rr
    alpha: ${alpha}
    real_servers: [{ address: 10.9.0.1:80 }, { address: 10.9.0.2:80 }${extra}]
`
  ).join("");
  const r = loadConfigText(`global:\n  ipvs_on_stop: ${onStop}\nvirtual_servers:\n${vs}`, "t.yaml");
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

/** A runtime on the fake kernel; its log lines are collected. */
function runtime(kernel: FakeIpvs, lines: string[]): LvsRuntime {
  const log = new Logger("t", { level: "info", sink: (l) => lines.push(l), json: false });
  const reactor = new Reactor();
  reactor.close();
  const open = () => IpvsManager.withConn(new FakeNetlink(kernel.handle), log);
  return lvsRuntimeWith(open)({
    clock: new RealClock(),
    reactor,
    log,
    scripts: new ScriptQueue(log),
  });
}

function services(kernel: FakeIpvs): string[] {
  return [...kernel.services.keys()].sort();
}

Deno.test({
  name: "lvs runtime: remove at stop; keep at stop, then a restart in place sends no IPVS op",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const stateFile = `${dir}/h.ipvs.json`;
      const kernel = new FakeIpvs();
      const lines: string[] = [];
      const a = runtime(kernel, lines);
      await a.start(config("remove", ["10.8.0.1"]), { stateFile });
      assertEquals(services(kernel), ["TCP 10.8.0.1:80"]);
      assertEquals((await readIpvsState(stateFile, () => {}))?.owned, ["TCP 10.8.0.1:80"]);
      await a.stop();
      assertEquals(services(kernel), [], "remove: gone with the agent");
      assertEquals((await readIpvsState(stateFile, () => {}))?.left, "removed");

      const b = runtime(kernel, lines);
      await b.start(config("keep", ["10.8.0.1"]), { stateFile });
      assertEquals(kernel.services.get("TCP 10.8.0.1:80")?.dests.size, 2);
      await b.stop();
      assertEquals(services(kernel), ["TCP 10.8.0.1:80"], "keep: the service stays");
      assertEquals(kernel.services.get("TCP 10.8.0.1:80")?.dests.size, 2);
      const kept = await readIpvsState(stateFile, () => {});
      assertEquals(kept?.left, "kept");
      assertEquals(kept?.owned, ["TCP 10.8.0.1:80"]);

      const before = kernel.commands.length;
      const c = runtime(kernel, lines);
      await c.start(config("keep", ["10.8.0.1"]), { stateFile });
      const sent = kernel.commands.slice(before);
      // Dumps only (IPVS_CMD_GET_SERVICE 4, GET_DEST 8): nothing added, changed or deleted.
      assertEquals(sent.filter((cmd) => cmd !== 4 && cmd !== 8), [], `commands ${sent}`);
      // `haagent stop --remove-ipvs` overrides the file's keep for one stop.
      await c.stop({ ipvs: "remove" });
      assertEquals(services(kernel), []);
      assert(lines.some((l) => l.includes("previous agent (kept): 1 service(s) owned")));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "lvs runtime: after a crash, services it owned and no longer wants go; foreign ones stay",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const stateFile = `${dir}/h.ipvs.json`;
      const kernel = new FakeIpvs();
      const lines: string[] = [];
      // Someone else's service, in the kernel before the agent.
      const other = await IpvsManager.withConn(
        new FakeNetlink(kernel.handle),
        new Logger("o", { level: "error", sink: () => {}, json: false }),
      );
      assert(other instanceof IpvsManager);
      await other.reconcile([{
        key: { family: "ipv4", protocol: "tcp", address: "10.8.9.9", port: 80 },
        scheduler: "rr",
        flags: {},
        timeoutS: 0,
        netmask: "255.255.255.255",
        destinations: [],
      }]);
      const a = runtime(kernel, lines);
      await a.start(config("remove", ["10.8.0.1", "10.8.0.2"]), { stateFile });
      assertEquals(services(kernel), ["TCP 10.8.0.1:80", "TCP 10.8.0.2:80", "TCP 10.8.9.9:80"]);
      // SIGKILL: no stop. The next agent's file has one service fewer.
      const b = runtime(kernel, lines);
      await b.start(config("remove", ["10.8.0.1"]), { stateFile });
      assertEquals(services(kernel), ["TCP 10.8.0.1:80", "TCP 10.8.9.9:80"]);
      // And one with no virtual server left still starts to delete what it owned.
      const c = runtime(kernel, lines);
      await c.start(config("remove", []), { stateFile });
      assertEquals(services(kernel), ["TCP 10.8.9.9:80"]);
      assertEquals((await readIpvsState(stateFile, () => {}))?.owned, []);
      await c.stop();
      assertEquals(services(kernel), ["TCP 10.8.9.9:80"], "a foreign service is never touched");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "lvs runtime: a restart in place starts real servers down as the previous agent left them",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const stateFile = `${dir}/h.ipvs.json`;
      const kernel = new FakeIpvs();
      const lines: string[] = [];
      // A third real server with a check that does not run within the test (60 s warmup).
      const checked = `, { address: 10.9.0.3:80, checks: [{ type: TCP_CHECK, delay_loop: 60s, ` +
        `warmup: 60s }] }`;
      const a = runtime(kernel, lines);
      await a.start(config("keep", ["10.8.0.1"], checked, true), { stateFile });
      assertEquals(kernel.services.get("TCP 10.8.0.1:80")?.dests.size, 2, "alpha: starts down");
      assertEquals((await readIpvsState(stateFile, () => {}))?.down.length, 1);
      await a.stop();
      // Without alpha it would start up; after the restart in place it starts down, as it was.
      const b = runtime(kernel, lines);
      await b.start(config("keep", ["10.8.0.1"], checked, false), { stateFile });
      assertEquals(kernel.services.get("TCP 10.8.0.1:80")?.dests.size, 2);
      await b.stop({ ipvs: "remove" });
      // After a stop that removed the rules (as without the file), the configuration decides.
      const c = runtime(kernel, lines);
      await c.start(config("keep", ["10.8.0.1"], checked, false), { stateFile });
      assertEquals(kernel.services.get("TCP 10.8.0.1:80")?.dests.size, 3);
      await c.stop({ ipvs: "remove" });
      assertEquals(services(kernel), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
