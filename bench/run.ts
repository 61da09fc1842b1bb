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
  { name: "announce", what: "event -> upstream's RIB change through BIRD (BGP announce)" },
  { name: "firewall", what: "no_accept nftables batches and VMAC up/down, vs running nft" },
  {
    name: "reload_stall",
    what: "advert gaps while the master reloads 1,000 x 10 virtual servers, vs keepalived",
  },
  { name: "chaos", what: "seeded chaos, 2 haagent + keepalived, 30 min (only when named)" },
  {
    name: "footprint",
    what: "CPU per event, memory and start-up from 1 to 1,000 instances, vs keepalived",
  },
  { name: "soak", what: "2 hours with reloads: fds, RSS, keep-alive gaps (only when named)" },
];

/** Benchmarks that run for hours: only when named. */
const BY_NAME_ONLY = ["soak", "chaos"];

const here = new URL(".", import.meta.url);

/** Every benchmark file present: the known ones in order, then any other bench/*.ts. */
function discover(): { name: string; what: string }[] {
  const others: { name: string; what: string }[] = [];
  for (const e of Deno.readDirSync(here)) {
    const name = e.name.replace(/\.ts$/, "");
    if (!e.isFile || !e.name.endsWith(".ts") || e.name.endsWith("_test.ts")) continue;
    if (name === "run" || name === "lib" || BENCHMARKS.some((b) => b.name === name)) continue;
    others.push({ name, what: "(see the file's header)" });
  }
  others.sort((a, b) => a.name.localeCompare(b.name));
  return [...BENCHMARKS.filter((b) => exists(b.name)), ...others];
}

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
  const present = discover();
  if (flags.includes("--list") || flags.includes("--help")) {
    console.log("usage: deno task bench [NAME...] [FLAGS for the benchmark]\n");
    const absent = BENCHMARKS.filter((b) => !exists(b.name)).map((b) => ({ ...b, absent: true }));
    for (const b of [...present, ...absent]) {
      console.log(`  ${b.name.padEnd(16)}${"absent" in b ? "(absent) " : ""}${b.what}`);
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
  const picked = names.length > 0
    ? present.filter((b) => names.includes(b.name))
    : present.filter((b) => !BY_NAME_ONLY.includes(b.name));
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
