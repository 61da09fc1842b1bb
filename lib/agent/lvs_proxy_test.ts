import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { Reactor } from "../../ffi/reactor.ts";
import { loadConfigText } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { RealClock } from "../runtime/clock.ts";
import { Logger } from "../runtime/log.ts";
import { ScriptQueue } from "../runtime/script.ts";
import type { LvsRuntime } from "./lvs.ts";
import { lvsWorkerFactory } from "./lvs_proxy.ts";

function config(text: string): Config {
  const r = loadConfigText(text, "test.yaml");
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

function vs(port: number, servers: number[]): string {
  return `  - address: 10.9.9.9:${port}
    protocol: TCP
    scheduler: rr
    alpha: true
    delay_loop: 30s
    real_servers:
${
    servers.map((p) =>
      `      - address: 127.0.0.1:${p}
        checks: [{ type: TCP_CHECK, connect_timeout: 1s, retry: 0, warmup: 0ms }]`
    ).join("\n")
  }
`;
}

function deps(lines: string[]) {
  const log = new Logger("t", { level: "info", sink: (l) => lines.push(l), json: false });
  const reactor = new Reactor();
  reactor.close();
  return { clock: new RealClock(), reactor, log, scripts: new ScriptQueue(log) };
}

async function until(what: string, f: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function rs(rt: LvsRuntime, v: number, r: number) {
  return rt.status().virtualServers[v]?.realServers[r];
}

Deno.test({
  name: "lvs proxy: checks run in the worker; reload keeps unchanged real servers' state",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using up = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const accepting = (async () => {
      for await (const c of up) c.close();
    })().catch(() => {});
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const upPort = up.addr.port, downPort = closed.addr.port;
    closed.close();
    const lines: string[] = [];
    const rt = lvsWorkerFactory()(deps(lines));
    assertEquals(rt.status().ipvs, {
      available: false,
      reason: "starting",
      services: 0,
      lastOps: 0,
      errors: 0,
      syncDaemon: null,
    });
    await rt.start(config(`virtual_servers:\n${vs(80, [upPort, downPort])}`), {
      stateFile: null,
    });
    // The snapshot is posted before the reply: checked-yet or not, both servers are listed.
    assertEquals(rt.status().virtualServers[0]?.realServers.length, 2);
    assertMatch(rt.status().ipvs.reason, /IPVS|netlink|genl/i);
    await until("the first checks", () => rs(rt, 0, 0)?.up === true);
    await until(
      "the second server's check",
      () => /ECONNREFUSED/.test(rs(rt, 0, 1)?.checks[0]?.last ?? ""),
    );
    assertEquals(rs(rt, 0, 0)?.checks[0]?.type, "TCP_CHECK");
    assertEquals(rs(rt, 0, 0)?.checks[0]?.up, true);

    // A second virtual server: the first one's servers keep their state (a restarted alpha
    // server would be down, "not checked yet", for the 30 s delay_loop).
    await rt.reload(config(`virtual_servers:\n${vs(80, [upPort, downPort])}${vs(81, [upPort])}`));
    const st = rt.status();
    assertEquals(st.virtualServers.length, 2);
    assertEquals(rs(rt, 0, 0)?.up, true);
    assertEquals(rs(rt, 0, 0)?.reason, "all checks pass");
    assertMatch(rs(rt, 0, 1)?.checks[0]?.last ?? "", /ECONNREFUSED/);
    assertEquals(rs(rt, 1, 0)?.reason, "not checked yet");
    await until("the new server checked", () => rs(rt, 1, 0)?.up === true);

    await rt.stop();
    accepting.then(() => {});
    assert(!lines.some((l) => /died/.test(l)), lines.join("\n"));
  },
});

Deno.test({
  name: "lvs proxy: a worker that dies is reported in status; a reload starts a new one",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const bad = `${dir}/bad_worker.ts`;
    await Deno.writeTextFile(bad, `throw new Error("boom at load");\n`);
    const lines: string[] = [];
    const rt = lvsWorkerFactory({ workerUrl: new URL(`file://${bad}`).href })(deps(lines));
    const cfg = config(`virtual_servers:\n${vs(80, [1])}`);
    await rt.start(cfg, { stateFile: null });
    await until("the death", () => rt.status().ipvs.reason !== "starting");
    assertEquals(rt.status().ipvs.available, false);
    assertMatch(rt.status().ipvs.reason, /worker died: .*boom at load/);
    assert(lines.some((l) => /ERROR.*worker died.*boom/.test(l)), lines.join("\n"));
    // The reload tries again (with the same broken module here), and reports again.
    await rt.reload(cfg);
    await until("the second death", () => lines.filter((l) => /worker died/.test(l)).length === 2);
    assert(lines.some((l) => /starting a new load-balancer worker/.test(l)));
    await rt.stop();
    await Deno.remove(dir, { recursive: true });
  },
});
