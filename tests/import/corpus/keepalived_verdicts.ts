/**
 * Asks keepalived 2.2.7 about every file of the corpus and records its verdict in
 * `verdicts.json`, so that CI needs no keepalived: `deno run -A keepalived_verdicts.ts` (root,
 * keepalived installed). For each file, in a network namespace of its own holding a veth for
 * every interface name the file uses (so that a missing interface on this host decides
 * nothing):
 *
 * - `keepalived -t -f FILE`: 0 = no error, 5 = errors keepalived logs and goes on with,
 *   6 = script security errors, 2 or 4 = fatal (the file is refused);
 * - a real start of the VRRP side (`--vrrp`, 3 s) when the file has vrrp_instances: whether the
 *   VRRP process is still running, or stopped with a permanent configuration error (the test
 *   does not see those: a tracked interface that does not exist, for one).
 *
 * The file starts with keepalived when -t is not 4 and the VRRP process did not stop. The LVS
 * side is not started here (this kernel has no IPVS), so -t decides for it.
 *
 * @module
 */

const HERE = new URL(".", import.meta.url).pathname;

interface Verdict {
  file: string;
  test_rc: number;
  vrrp_start: "running" | "stopped" | "not run";
  starts: boolean;
  /** keepalived's own messages for the file (-t), for the index. */
  messages: string[];
}

async function run(
  cmd: string[],
  timeoutMs: number,
): Promise<{ code: number; out: string; killed: boolean }> {
  const p = new Deno.Command(cmd[0]!, { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    try {
      p.kill("SIGTERM");
    } catch { /* gone */ }
  }, timeoutMs);
  const o = await p.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout) + dec.decode(o.stderr), killed };
}

function interfaces(text: string): string[] {
  const names = new Set<string>();
  const re = /\b(?:interface|dev|default_interface|lvs_sync_daemon_interface)\s+([^\s{}#!]+)/g;
  for (const m of text.matchAll(re)) names.add(m[1]!);
  for (const m of text.matchAll(/track_interface\s*\{([^}]*)\}/g)) {
    for (const line of m[1]!.split("\n")) {
      const w = line.replace(/[#!].*/, "").trim().split(/\s+/)[0];
      if (w) names.add(w);
    }
  }
  // Only names a real host could have; an address where a name belongs stays missing.
  return [...names].filter((n) => /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/.test(n));
}

async function verdict(file: string): Promise<Verdict> {
  const path = `${HERE}${file}`;
  const text = await Deno.readTextFile(path);
  const ns = `kaverdict${Math.floor(Math.random() * 1e6)}`;
  const dir = await Deno.makeTempDir({ prefix: "kaverdict-" });
  try {
    await run(["ip", "netns", "add", ns], 5000);
    await run(["ip", "-n", ns, "link", "set", "lo", "up"], 5000);
    let i = 0;
    for (const name of interfaces(text)) {
      const peer = `p${i++}x`;
      await run(["ip", "-n", ns, "link", "add", name, "type", "veth", "peer", "name", peer], 5000);
      await run(["ip", "-n", ns, "link", "set", name, "up"], 5000);
      await run(["ip", "-n", ns, "link", "set", peer, "up"], 5000);
      await run(["ip", "-n", ns, "addr", "add", `10.99.${i}.1/24`, "dev", name], 5000);
    }
    const t = await run(["ip", "netns", "exec", ns, "keepalived", "-t", "-f", path], 20_000);
    let vrrp: Verdict["vrrp_start"] = "not run";
    if (/^\s*vrrp_instance\b/m.test(text)) {
      const pids = ["-p", `${dir}/k.pid`, "-r", `${dir}/v.pid`, "-c", `${dir}/c.pid`];
      const r = await run(
        ["ip", "netns", "exec", ns, "keepalived", "-n", "-l", "-D", "--vrrp", "-f", path, ...pids],
        3000,
      );
      // Still running when stopped after 3 s, and no permanent error on the way: it started.
      vrrp = r.killed && !/permanent error/.test(r.out) ? "running" : "stopped";
    }
    const messages = t.out.split("\n").map((l) => l.trim()).filter((l) => l !== "")
      .map((l) => l.replace(path, file));
    return {
      file,
      test_rc: t.code,
      vrrp_start: vrrp,
      starts: t.code !== 4 && t.code !== 2 && vrrp !== "stopped",
      messages,
    };
  } finally {
    await run(["ip", "netns", "del", ns], 5000);
    await Deno.remove(dir, { recursive: true });
  }
}

const files: string[] = [];
for (const d of [".", "keepalived-samples"]) {
  for (const e of Deno.readDirSync(`${HERE}${d}`)) {
    if (e.isFile && (e.name.endsWith(".conf") || e.name.startsWith("keepalived.conf."))) {
      files.push(d === "." ? e.name : `${d}/${e.name}`);
    }
  }
}
files.sort();
const out: Verdict[] = [];
for (const f of files) {
  const v = await verdict(f);
  console.log(`${v.starts ? "starts " : "refused"} -t=${v.test_rc} vrrp=${v.vrrp_start} ${f}`);
  out.push(v);
}
// keepalived's config-id is the host name up to its first dot: the import must use the same.
const configId = Deno.hostname().split(".")[0];
await Deno.writeTextFile(
  `${HERE}verdicts.json`,
  JSON.stringify({ keepalived: "2.2.7", config_id: configId, files: out }, null, 2) + "\n",
);
