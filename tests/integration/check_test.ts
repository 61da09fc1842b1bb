/**
 * Health checkers against real servers in a namespace: every kind goes up, down (with
 * notify_down) when its server stops, and up again (notify_up) when it returns; hostile servers
 * and scripts fail within their timeouts for 1,000 rounds without RSS growth.
 * All traffic is on the namespace's loopback.
 */
import { assert } from "../helpers/assert.ts";
import { haveCommand, Lab, type LabProcess, netnsUnavailable, waitFor } from "../helpers/netns.ts";

const here = new URL(".", import.meta.url).pathname;
const SERVER = `${here}fixtures/check_server.ts`;
const AGENT = `${here}fixtures/check_agent.ts`;

interface Event {
  name?: string;
  up?: boolean;
  reason?: string;
  ms?: number;
}

/** Collects the JSON lines a process prints. */
function collect(p: LabProcess): Event[] {
  const events: Event[] = [];
  (async () => {
    let rest = "";
    for await (const chunk of p.child.stdout.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        try {
          events.push(JSON.parse(line));
        } catch { /* not JSON */ }
      }
    }
  })().catch(() => {});
  return events;
}

async function startServer(lab: Lab, mode: string, port: number, arg = ""): Promise<LabProcess> {
  const p = lab.spawn("n", ["deno", "run", "-A", SERVER, mode, String(port), arg], {
    stdout: "piped",
  });
  const reader = p.child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  assert(first.value?.includes("ready"), `server ${mode} did not start`);
  reader.releaseLock();
  return p;
}

const common = {
  connectTimeoutMs: 500,
  retry: 1,
  delayBeforeRetryMs: 100,
  delayLoopMs: 300,
  warmupMs: 0,
  alpha: true,
  rise: 1,
  fall: 1,
};

Deno.test({
  name: "checkers: each kind goes up, down with notify_down, up again with notify_up",
  ignore: netnsUnavailable() !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await Lab.create("chk");
    await lab.addNs("n");
    const dir = await Deno.makeTempDir({ prefix: "haagent-check-" });
    const tls = haveCommand("openssl");
    if (tls) {
      await lab.exec(null, [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=www.test",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
      ]);
    } else {
      console.log("openssl not installed: skipping the SSL_GET case");
    }
    await lab.exec("n", ["ip", "addr", "add", "10.9.9.9/32", "dev", "lo"]);
    await Deno.writeTextFile(`${dir}/misc-ok`, "");
    await Deno.writeTextFile(`${dir}/weight`, "3\n");
    const misc = `${dir}/misc.sh`;
    await Deno.writeTextFile(misc, `#!/bin/sh\n[ -e ${dir}/misc-ok ] && exit 12\nexit 1\n`);
    await Deno.chmod(misc, 0o755);
    const lo = "127.0.0.1";
    const checks = [
      { name: "tcp", spec: { ...common, type: "TCP_CHECK" }, target: { address: lo, port: 7001 } },
      {
        name: "http",
        spec: {
          ...common,
          type: "HTTP_GET",
          urls: [{ path: "/health", statusCodes: [[200, 200]], regex: "status: ok", digest: "" }],
          httpProtocol: "1.0",
          enableSni: false,
          verifyCert: false,
        },
        target: { address: lo, port: 7002 },
      },
      ...(tls
        ? [{
          name: "ssl",
          spec: {
            ...common,
            type: "SSL_GET",
            urls: [{ path: "/", statusCodes: [], virtualhost: "www.test" }],
            httpProtocol: "1.1",
            enableSni: true,
            verifyCert: false,
          },
          target: { address: lo, port: 7003 },
        }]
        : []),
      {
        name: "smtp",
        spec: { ...common, type: "SMTP_CHECK", heloName: "lb1.test" },
        target: { address: lo, port: 7004 },
      },
      {
        name: "dns",
        spec: { ...common, type: "DNS_CHECK", dnsType: "A", dnsName: "www.test" },
        target: { address: lo, port: 7005 },
      },
      {
        name: "udp-reply",
        spec: {
          ...common,
          type: "UDP_CHECK",
          payloadHex: "68656c6c6f",
          requireReply: true,
          minReplyLength: 5,
          maxReplyLength: 5,
        },
        target: { address: lo, port: 7006 },
      },
      {
        name: "udp-icmp",
        spec: {
          ...common,
          type: "UDP_CHECK",
          requireReply: false,
          minReplyLength: 0,
          maxReplyLength: 0,
        },
        target: { address: lo, port: 7007 },
      },
      {
        name: "ping",
        spec: { ...common, type: "PING_CHECK" },
        target: { address: "10.9.9.9", port: 0 },
      },
      {
        name: "misc",
        spec: {
          ...common,
          type: "MISC_CHECK",
          miscPath: misc,
          miscTimeoutMs: 1000,
          miscDynamic: true,
        },
        target: { address: lo, port: 0 },
      },
      {
        name: "file",
        spec: { ...common, type: "FILE_CHECK", file: `${dir}/weight`, weightMultiplier: 2 },
        target: { address: lo, port: 0 },
      },
    ];
    // The HTTP url's digest is the MD5 of the fixture's body "status: ok\n".
    const { createHash } = await import("node:crypto");
    (checks[1]!.spec as { urls: Array<{ digest: string }> }).urls[0]!.digest = createHash("md5")
      .update("status: ok\n").digest("hex");
    const withNotify = checks.map((c) => ({
      ...c,
      notifyUp: `sh -c 'echo up >> ${dir}/${c.name}.notify'`,
      notifyDown: `sh -c 'echo down >> ${dir}/${c.name}.notify'`,
    }));
    await Deno.writeTextFile(`${dir}/agent.json`, JSON.stringify({ checks: withNotify }));

    const startAll = async () => [
      await startServer(lab, "tcp", 7001),
      await startServer(lab, "http", 7002),
      ...(tls ? [await startServer(lab, "https", 7003, dir)] : []),
      await startServer(lab, "smtp", 7004),
      await startServer(lab, "dns", 7005),
      await startServer(lab, "udp-echo", 7006),
      await startServer(lab, "udp-echo", 7007),
    ];
    let servers = await startAll();
    const agent = lab.spawn("n", ["deno", "run", "-A", AGENT, "run", `${dir}/agent.json`], {
      stdout: "piped",
    });
    const events = collect(agent);
    const names = checks.map((c) => c.name);
    const state = (name: string) => events.filter((e) => e.name === name).at(-1)?.up;
    const notified = async (name: string) => {
      try {
        return (await Deno.readTextFile(`${dir}/${name}.notify`)).trim().split("\n");
      } catch {
        return [];
      }
    };

    await waitFor(() => names.every((n) => state(n) === true), 20_000, 50)
      .catch((e) => {
        throw new Error(`not all up: ${JSON.stringify(events)}`, { cause: e });
      });
    const fileUp = events.find((e) => e.name === "file") as { weight?: number };
    assert(fileUp.weight === 6, `file weight ${fileUp.weight}`);
    const miscUp = events.find((e) => e.name === "misc") as { weight?: number };
    assert(miscUp.weight === 10, `misc weight ${miscUp.weight}`);

    // Stop everything.
    const stopMs = events.at(-1)?.ms ?? 0;
    const stopAt = performance.now();
    for (const s of servers) s.kill("SIGKILL");
    for (const s of servers) await s.child.status;
    await Deno.remove(`${dir}/misc-ok`);
    await Deno.writeTextFile(`${dir}/weight`, "0\n");
    await lab.exec("n", ["ip", "addr", "del", "10.9.9.9/32", "dev", "lo"]);
    // Bound: delay_loop + (retry + 1) x (timeout + delay_before_retry) + slack for process work.
    const boundMs = common.delayLoopMs +
      (common.retry + 1) * (1000 + common.delayBeforeRetryMs) + 1500;
    await waitFor(() => names.every((n) => state(n) === false), boundMs + 5000, 50)
      .catch((e) => {
        throw new Error(`not all down: ${JSON.stringify(events)}`, { cause: e });
      });
    const downTimes: Record<string, number> = {};
    for (const n of names) {
      const ev = events.filter((e) => e.name === n && e.up === false).at(-1)!;
      downTimes[n] = Math.max(0, (ev.ms ?? 0) - stopMs);
    }
    console.log(`down after stop (ms, from the last up event): ${JSON.stringify(downTimes)}`);
    console.log(
      `down reasons: ${
        JSON.stringify(
          events.filter((e) => e.up === false).map((e) => `${e.name}: ${e.reason}`),
        )
      }`,
    );
    assert(performance.now() - stopAt < boundMs + 5000);
    await waitFor(async () => {
      for (const n of names) if ((await notified(n)).at(-1) !== "down") return false;
      return true;
    }, 5000);

    // Bring everything back.
    servers = await startAll();
    await Deno.writeTextFile(`${dir}/misc-ok`, "");
    await Deno.writeTextFile(`${dir}/weight`, "1\n");
    await lab.exec("n", ["ip", "addr", "add", "10.9.9.9/32", "dev", "lo"]);
    await waitFor(() => names.every((n) => state(n) === true), 10_000, 50)
      .catch((e) => {
        throw new Error(`not all up again: ${JSON.stringify(events)}`, { cause: e });
      });
    await waitFor(async () => {
      for (const n of names) {
        if ((await notified(n)).join(",") !== "up,down,up") return false;
      }
      return true;
    }, 5000).catch(async (e) => {
      const all: Record<string, string[]> = {};
      for (const n of names) all[n] = await notified(n);
      throw new Error(`notify files: ${JSON.stringify(all)}`, { cause: e });
    });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "checkers: hostile servers and scripts fail within their timeouts, 1,000 rounds, no RSS growth",
  ignore: netnsUnavailable() !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await Lab.create("chh");
    await lab.addNs("n");
    const dir = await Deno.makeTempDir({ prefix: "haagent-hostile-" });
    await startServer(lab, "silent", 7101);
    await startServer(lab, "garbage", 7102);
    await startServer(lab, "endless", 7103);
    await startServer(lab, "drip", 7104);
    const lo = "127.0.0.1";
    const fast = { ...common, connectTimeoutMs: 100, retry: 0 };
    const http = (name: string, port: number) => ({
      name,
      spec: {
        ...fast,
        type: "HTTP_GET",
        urls: [{ path: "/", statusCodes: [] }],
        httpProtocol: "1.0",
        enableSni: false,
        verifyCert: false,
        totalTimeoutMs: 40,
        maxBodyBytes: 256 * 1024,
      },
      target: { address: lo, port },
    });
    const misc = (name: string, path: string) => ({
      name,
      spec: { ...fast, type: "MISC_CHECK", miscPath: path, miscTimeoutMs: 30, miscDynamic: false },
      target: { address: lo, port: 0 },
    });
    const checks = [
      http("silent", 7101),
      http("garbage", 7102),
      http("endless", 7103),
      http("drip", 7104),
      {
        name: "smtp-silent",
        spec: { ...fast, connectTimeoutMs: 40, type: "SMTP_CHECK", heloName: "x" },
        target: { address: lo, port: 7101 },
      },
      misc("script-hang", "sleep 30"),
      misc("script-megabytes", "yes haagent"),
    ];
    await Deno.writeTextFile(`${dir}/agent.json`, JSON.stringify({ checks }));
    const agent = lab.spawn("n", [
      "deno",
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      AGENT,
      "stress",
      `${dir}/agent.json`,
      "1000",
    ], { stdout: "piped", stderr: "piped" });
    const out = await agent.output();
    const line = out.stdout.trim().split("\n").at(-1) ?? "";
    let summary: {
      results: Array<
        { name: string; rounds: number; failures: number; maxMs: number; reason: string }
      >;
      rssBefore: number;
      rssMid: number;
      rssMax: number;
      rssAfter: number;
      ms: number;
    };
    try {
      summary = JSON.parse(line);
    } catch {
      throw new Error(`agent printed ${out.stdout.slice(0, 500)} ${out.stderr.slice(0, 2000)}`);
    }
    console.log(JSON.stringify(summary, null, 1));
    const mb = (n: number) => (n / 1048576).toFixed(1);
    console.log(
      `RSS ${mb(summary.rssBefore)} MB -> ${
        mb(summary.rssAfter)
      } MB over 1,000 rounds x ${checks.length} hostile checks in ${summary.ms} ms`,
    );
    for (const r of summary.results) {
      assert(r.failures === r.rounds, `${r.name}: ${r.failures}/${r.rounds} failed`);
    }
    const bound: Record<string, number> = {
      silent: 40,
      garbage: 40,
      endless: 40,
      drip: 40,
      "smtp-silent": 40,
      "script-hang": 30,
      "script-megabytes": 30,
    };
    for (const r of summary.results) {
      // Generous slack: process start-up and kill for scripts, a busy 2-core machine.
      assert(r.maxMs <= bound[r.name]! + 1500, `${r.name} took ${r.maxMs} ms`);
    }
    console.log(
      `RSS after 200 warm-up rounds ${mb(summary.rssBefore)} MB, mid-run ${
        mb(summary.rssMid)
      } MB, ` +
        `peak ${mb(summary.rssMax)} MB, end ${mb(summary.rssAfter)} MB`,
    );
    // A leak grows steadily; the allocator's high-water mark does not. Compare the second half.
    assert(
      summary.rssAfter - summary.rssMid < 16 * 1048576,
      `RSS grew ${mb(summary.rssAfter - summary.rssMid)} MB in the second half`,
    );
    await Deno.remove(dir, { recursive: true });
  },
});
