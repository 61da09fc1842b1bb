/**
 * The entry of `deno task bench`: runs every benchmark under bench/ that exists, one process
 * each, in a fixed order, and prints what they print. Names pick a subset; flags after the
 * names go to each picked benchmark (so pass them with one name at a time). Benchmarks print
 * figures and assert nothing; this exits non-zero only when a benchmark could not run.
 *
 *   deno task bench                       # all of them
 *   deno task bench failover --cycles=3   # one, with its flags
 *   deno task bench jitter --minutes=10
 *   deno task bench --list
 *
 * @module
 */

/** Known benchmarks, in the order they run, with what each measures. */
export const BENCHMARKS: readonly { name: string; what: string }[] = [
  { name: "codec", what: "VRRP / ARP / NA codec throughput, PASS compare timing" },
  { name: "reactor_latency", what: "sendto -> JS handler latency, idle CPU of the reactor" },
  { name: "checks", what: "health checker cost" },
  { name: "ipvs", what: "IPVS rule sync" },
  { name: "failover", what: "failover time, keepalived vs haagent (v2 1 s, v3 100 ms, 10 ms)" },
  { name: "jitter", what: "advert interval deviation at 10 ms, CPU and RSS, vs keepalived" },
];

const here = new URL(".", import.meta.url);

function exists(name: string): boolean {
  try {
    return Deno.statSync(new URL(`${name}.ts`, here)).isFile;
  } catch {
    return false;
  }
}

async function main(args: string[]): Promise<number> {
  const names = args.filter((a) => !a.startsWith("-"));
  const flags = args.filter((a) => a.startsWith("-"));
  const present = BENCHMARKS.filter((b) => exists(b.name));
  if (flags.includes("--list") || flags.includes("--help")) {
    console.log("usage: deno task bench [NAME...] [FLAGS for the benchmark]\n");
    for (const b of BENCHMARKS) {
      console.log(`  ${b.name.padEnd(16)}${exists(b.name) ? "" : "(absent) "}${b.what}`);
    }
    return 0;
  }
  const unknown = names.filter((n) => !present.some((b) => b.name === n));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark ${unknown.join(", ")}; present: ${present.map((b) => b.name).join(", ")}`,
    );
    return 2;
  }
  const picked = names.length > 0 ? present.filter((b) => names.includes(b.name)) : present;
  if (flags.length > 0 && picked.length > 1) {
    console.error("flags go to one benchmark at a time: name it");
    return 2;
  }
  let failed = 0;
  for (const b of picked) {
    console.log(`\n=== ${b.name}: ${b.what}`);
    const t = performance.now();
    const status = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(`${b.name}.ts`, here).pathname, ...flags],
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    const s = ((performance.now() - t) / 1000).toFixed(1);
    console.log(`=== ${b.name}: ${status.success ? "done" : `exit ${status.code}`} in ${s} s`);
    if (!status.success) failed++;
  }
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
