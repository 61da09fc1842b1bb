/**
 * The command line as a user meets it: `deno run -A main.ts ...` as a subprocess from the
 * repository root, checking exit codes, stdout and stderr. No root, no network: `check`,
 * `import-keepalived`, `schema`, `version`, `--help`, usage errors, and `status` / `reload`
 * against a control socket that does not exist.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { expectations, expectFor } from "./config/expectations.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const BAD = "tests/config/bad/";
const IMPORT = "tests/import/";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs haagent from the repository root (paths in arguments are relative to it). */
async function haagent(...args: string[]): Promise<Run> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "main.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

function show(r: Run): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

async function tempFile(text: string, suffix = ".yaml"): Promise<string> {
  const f = await Deno.makeTempFile({ prefix: "haagent-cli-", suffix });
  await Deno.writeTextFile(f, text);
  return f;
}

// ---- check: valid files ---------------------------------------------------------------

for (const file of ["examples/ha.yaml", "examples/minimal.yaml", "tests/cli/minimal.yaml"]) {
  Deno.test({
    name: `check: ${file} is valid (exit 0, OK on stdout)`,
    ignore: !exists(ROOT + file),
    fn: async () => {
      const r = await haagent("check", "--config", file);
      assertEquals(r.code, 0, show(r));
      assertMatch(r.stdout, new RegExp(`^${escape(file)}: OK \\(\\d+ VRRP instance\\(s\\)`));
      assert(!/^\S+:\d+:\d+: (?!warning:)/m.test(r.stderr), `errors printed:\n${r.stderr}`);
    },
  });
}

Deno.test("check: -f and a positional FILE work as --config", async () => {
  for (const args of [["-f", "tests/cli/minimal.yaml"], ["tests/cli/minimal.yaml"]]) {
    const r = await haagent("check", ...args);
    assertEquals(r.code, 0, show(r));
    assertMatch(r.stdout, /^tests\/cli\/minimal\.yaml: OK \(1 VRRP instance\(s\)/);
  }
});

// ---- check: the bad-config suite through the CLI ---------------------------------------

const badFiles = [...Deno.readDirSync(ROOT + BAD)].filter((e) => e.name.endsWith(".yaml"))
  .map((e) => e.name).sort();

Deno.test("check: at least 40 bad configurations, each with expectations", () => {
  assert(badFiles.length >= 40, `only ${badFiles.length} bad fixtures`);
  for (const f of badFiles) {
    const exp = expectFor(f, Deno.readTextFileSync(ROOT + BAD + f));
    assert(exp.length > 0, `${f} has no # expect: line`);
  }
});

for (const f of badFiles) {
  Deno.test(`check: ${BAD}${f} exits 1 with FILE:LINE:COL: path: errors`, async () => {
    const file = BAD + f;
    const exp = expectFor(f, await Deno.readTextFile(ROOT + file));
    const r = await haagent("check", "--config", file);
    assertEquals(r.code, 1, show(r));
    assertEquals(r.stdout, "", "nothing on stdout for a refused file");
    const lines = r.stderr.split("\n");
    const errors = lines.filter((l) => l.startsWith(`${file}:`) && /^\S+:\d+:\d+: /.test(l))
      .filter((l) => !/^\S+:\d+:\d+: warning: /.test(l));
    assertEquals(errors.length, exp.length, `error lines of ${f}:\n${r.stderr}`);
    exp.forEach((x, i) => {
      const prefix = `${file}:${x.line}:${x.col}: ${x.path === "" ? "" : `${x.path}: `}`;
      const line = errors[i]!;
      assert(line.startsWith(prefix), `${f}: expected "${prefix}...", got "${line}"`);
      assert(line.slice(prefix.length).includes(x.part), `${f}: "${line}" lacks "${x.part}"`);
    });
    const n = exp.length;
    assert(
      lines.includes(`${file}: ${n} error${n === 1 ? "" : "s"}, configuration refused`),
      `${f}: no summary line for ${n} error(s):\n${r.stderr}`,
    );
  });
}

Deno.test("check: a missing file exits 1 with FILE:1:1 and the OS error", async () => {
  const file = "tests/cli/does-not-exist.yaml";
  const r = await haagent("check", "--config", file);
  assertEquals(r.code, 1, show(r));
  assertMatch(
    r.stderr,
    new RegExp(`^${escape(file)}:1:1: cannot read the file: .*No such file`, "m"),
  );
});

Deno.test("check: an empty file exits 1 with FILE:1:1", async () => {
  const file = await tempFile("");
  try {
    const r = await haagent("check", "-f", file);
    assertEquals(r.code, 1, show(r));
    assertMatch(r.stderr, new RegExp(`^${escape(file)}:1:1: .*the file is empty`, "m"));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("check: announce reads the host's rt_protos and refuses its protocols at the line", async () => {
  const file = await tempFile(
    "global:\n  announce: { table: 198, protocol: 12 }\nvrrp_instances:\n  VI_1:\n" +
      "    interface: eth0\n    vrid: 51\n    announce: true\n" +
      "    virtual_ipaddresses: [192.0.2.10]\n",
  );
  try {
    const r = await haagent("check", "-f", file);
    assertEquals(r.code, 1, show(r));
    const source = exists("/etc/iproute2/rt_protos")
      ? "/etc/iproute2/rt_protos"
      : exists("/usr/share/iproute2/rt_protos")
      ? "/usr/share/iproute2/rt_protos"
      : "the kernel's list";
    assertMatch(
      r.stderr,
      new RegExp(
        `^${escape(file)}:2:37: global.announce.protocol: protocol 12 is reserved for bird ` +
          `\\(${escape(source)}\\)`,
        "m",
      ),
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("check: a file with only comments exits 1 with a position", async () => {
  const file = await tempFile("# nothing here\n");
  try {
    const r = await haagent("check", "-f", file);
    assertEquals(r.code, 1, show(r));
    assertMatch(r.stderr, new RegExp(`^${escape(file)}:\\d+:\\d+: `, "m"));
  } finally {
    await Deno.remove(file);
  }
});

// ---- usage errors: exit 2 ---------------------------------------------------------------

const usageErrors: [string, string[], RegExp][] = [
  ["no arguments at all", [], /Usage:/],
  ["check without --config", ["check"], /--config FILE is required/],
  ["check with an unknown flag", ["check", "--bogus", "x"], /Unknown option '--bogus'/],
  ["check with two files", ["check", "a.yaml", "b.yaml"], /unexpected argument "b.yaml"/],
  ["check --config without a value", ["check", "--config"], /--config/],
  ["an unknown subcommand", ["frobnicate"], /unknown command "frobnicate"/],
  ["run without --config", ["run"], /--config FILE is required/],
  ["an unknown flag without subcommand", ["--bogus"], /Unknown option '--bogus'/],
  ["run with a bad --log-level", ["run", "-f", "x.yaml", "--log-level", "loud"], /--log-level/],
  ["run with a bad --log-format", ["-f", "x.yaml", "--log-format", "xml"], /--log-format/],
  ["import-keepalived without FILE", ["import-keepalived"], /FILE is required/],
  ["import-keepalived with an unknown flag", ["import-keepalived", "--in", "x"], /'--in'/],
  ["status with an unknown flag", ["status", "--yaml"], /Unknown option '--yaml'/],
  ["reload with an argument", ["reload", "now"], /unexpected argument "now"/],
  ["stop with both IPVS choices", ["stop", "--keep-ipvs", "--remove-ipvs"], /exclusive/],
  ["schema with an argument", ["schema", "out.json"], /unexpected argument "out.json"/],
  ["demo with an unknown flag", ["demo", "--routers", "3"], /Unknown option '--routers'/],
];

for (const [what, args, message] of usageErrors) {
  Deno.test(`usage: ${what} exits 2`, async () => {
    const r = await haagent(...args);
    assertEquals(r.code, 2, show(r));
    assertMatch(r.stderr, message);
    assertMatch(r.stderr, /usage:/i);
  });
}

// ---- --help, version, schema ------------------------------------------------------------

const SUBCOMMANDS = [
  "run",
  "check",
  "import-keepalived",
  "status",
  "reload",
  "stop",
  "schema",
  "demo",
  "version",
];

for (const cmd of SUBCOMMANDS) {
  Deno.test(`help: haagent ${cmd} --help exits 0 and prints its usage`, async () => {
    for (const flag of ["--help", "-h"]) {
      const r = await haagent(cmd, flag);
      assertEquals(r.code, 0, show(r));
      assertMatch(r.stdout, /^usage: haagent /);
      assert(
        r.stdout.includes(cmd === "run" ? "--config FILE" : `haagent ${cmd}`),
        `${cmd} ${flag}: usage does not name the command:\n${r.stdout}`,
      );
    }
  });
}

Deno.test("help: --help, -h and help print the overview with every subcommand", async () => {
  for (const args of [["--help"], ["-h"], ["help"]]) {
    const r = await haagent(...args);
    assertEquals(r.code, 0, show(r));
    for (const cmd of SUBCOMMANDS.filter((c) => c !== "run")) {
      assert(r.stdout.includes(`haagent ${cmd}`), `${args[0]}: overview lacks ${cmd}`);
    }
    assertMatch(r.stdout, /Exit codes: 0 success, 1 .*, 2 usage error, 3 agent unreachable/);
  }
});

Deno.test("version: haagent version and --version print the version of deno.json", async () => {
  const want = JSON.parse(await Deno.readTextFile(ROOT + "deno.json")).version as string;
  for (const args of [["version"], ["--version"], ["-V"]]) {
    const r = await haagent(...args);
    assertEquals(r.code, 0, show(r));
    assertMatch(r.stdout, new RegExp(`^haagent ${escape(want)} \\(deno \\d+\\.\\d+\\.\\d+, `));
  }
});

Deno.test("version: an unexpected argument is a usage error", async () => {
  const r = await haagent("version", "--bogus");
  assertEquals(r.code, 2, show(r));
});

Deno.test("schema: prints valid JSON with $schema and the top-level keys", async () => {
  const r = await haagent("schema");
  assertEquals(r.code, 0, show(r));
  const s = JSON.parse(r.stdout) as Record<string, unknown>;
  assertEquals(typeof s["$schema"], "string");
  assertMatch(s["$schema"] as string, /json-schema\.org/);
  const props = s["properties"] as Record<string, unknown>;
  for (const k of ["global", "vrrp_instances", "virtual_servers"]) {
    assert(k in props, `schema lacks properties.${k}`);
  }
});

// ---- import-keepalived ------------------------------------------------------------------

/** The goldens were made with the file read as /etc/keepalived/NAME.conf. */
function asRun(golden: string): string {
  return golden.replaceAll("/etc/keepalived/", IMPORT);
}

for (const name of ["vrrp_pair", "v3_ipv6", "unicast", "lvs", "unsupported"]) {
  Deno.test(`import-keepalived: ${name}.conf gives its golden YAML; check accepts it`, async () => {
    const conf = `${IMPORT}${name}.conf`;
    const r = await haagent("import-keepalived", conf, "--config-id", "test");
    assertEquals(r.code, 0, show(r));
    assertEquals(r.stdout, asRun(await Deno.readTextFile(`${ROOT}${IMPORT}${name}.golden.txt`)));
    const issues = asRun(await Deno.readTextFile(`${ROOT}${IMPORT}${name}.issues`));
    assertEquals(r.stderr.trim(), issues.trim(), "warnings as the golden .issues");
    const yaml = await tempFile(r.stdout);
    try {
      const c = await haagent("check", "--config", yaml);
      assertEquals(c.code, 0, `check of the imported YAML:\n${show(c)}`);
      assertMatch(c.stdout, /: OK \(/);
    } finally {
      await Deno.remove(yaml);
    }
  });
}

Deno.test("import-keepalived: --out and -o write the file and leave stdout empty", async () => {
  const dir = await Deno.makeTempDir({ prefix: "haagent-cli-" });
  try {
    for (const flag of ["--out", "-o"]) {
      const out = `${dir}/out${flag}.yaml`;
      const r = await haagent(
        "import-keepalived",
        `${IMPORT}vrrp_pair.conf`,
        flag,
        out,
        "--config-id",
        "test",
      );
      assertEquals(r.code, 0, show(r));
      assertEquals(r.stdout, "");
      assertEquals(
        await Deno.readTextFile(out),
        asRun(await Deno.readTextFile(`${ROOT}${IMPORT}vrrp_pair.golden.txt`)),
      );
      const c = await haagent("check", "-f", out);
      assertEquals(c.code, 0, show(c));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("import-keepalived: the invalid fixture exits 1 with FILE:LINE:COL errors", async () => {
  const conf = `${IMPORT}invalid.conf`;
  const r = await haagent("import-keepalived", conf, "--config-id", "test");
  assertEquals(r.code, 1, show(r));
  const want = asRun(await Deno.readTextFile(`${ROOT}${IMPORT}invalid.issues`)).trim();
  assertEquals(r.stderr.trim(), want);
  const errors = r.stderr.split("\n").filter((l) => /^\S+:\d+:\d+: (?!warning:)/.test(l));
  // What keepalived ignores (and goes on without) is a warning; what haagent cannot run is not.
  assert(errors.length >= 5, `only ${errors.length} errors`);
  for (const e of errors) assert(e.startsWith(`${conf}:`), e);
  assert(errors.some((e) => e.startsWith(`${conf}:9:5: virtual_router_id: "300"`)));
});

Deno.test("import-keepalived: @ID lines follow --config-id, by default the host name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "haagent-cli-" });
  try {
    const host = Deno.hostname().split(".")[0]!;
    const conf = `${dir}/k.conf`;
    await Deno.writeTextFile(
      conf,
      `global_defs {\n  @${host} router_id this_host\n  @other router_id other_host\n}\n`,
    );
    const byHost = await haagent("import-keepalived", conf);
    assertMatch(byHost.stdout, /router_id: this_host/);
    assertMatch(byHost.stderr, /config-id "other" skipped/);
    const byFlag = await haagent("import-keepalived", conf, "--config-id", "other");
    assertMatch(byFlag.stdout, /router_id: other_host/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("import-keepalived: a missing file exits 1 naming the file", async () => {
  const r = await haagent("import-keepalived", "tests/cli/nope.conf");
  assertEquals(r.code, 1, show(r));
  assertMatch(r.stderr, /tests\/cli\/nope\.conf/);
});

Deno.test("import-keepalived: includes are followed relative to the file", async () => {
  const r = await haagent("import-keepalived", `${IMPORT}include/keepalived.conf`);
  assertEquals(
    r.stdout,
    asRun(await Deno.readTextFile(`${ROOT}${IMPORT}include/keepalived.golden.txt`)),
  );
  assertEquals(
    r.stderr.trim(),
    asRun(await Deno.readTextFile(`${ROOT}${IMPORT}include/keepalived.issues`)).trim(),
  );
});

// ---- status / reload without an agent ---------------------------------------------------

Deno.test("status, reload and stop: no agent on the control socket exits 3", async () => {
  for (const cmd of ["status", "reload", "stop"]) {
    for (const extra of [[], ["--json"]]) {
      if (cmd !== "status" && extra.length > 0) continue;
      const r = await haagent(cmd, "--control", "/nonexistent/haagent.sock", ...extra);
      assertEquals(r.code, 3, show(r));
      assertMatch(r.stderr, /\/nonexistent\/haagent\.sock/);
      assertEquals(r.stdout, "");
    }
  }
});

Deno.test("status: a path that is not a socket exits 3", async () => {
  const f = await tempFile("not a socket", ".sock");
  try {
    const r = await haagent("status", "--control", f);
    assertEquals(r.code, 3, show(r));
  } finally {
    await Deno.remove(f);
  }
});

Deno.test("run: a refused file exits 1 with FILE:LINE:COL, before touching anything", async () => {
  const file = `${BAD}priority_too_high.yaml`;
  const exp = expectations(await Deno.readTextFile(ROOT + file));
  const pid = await Deno.makeTempDir({ prefix: "haagent-cli-" });
  try {
    const r = await haagent(
      "--config",
      file,
      "--pid-file",
      `${pid}/x.pid`,
      "--control",
      `${pid}/s`,
    );
    assertEquals(r.code, 1, show(r));
    for (const x of exp) {
      assert(r.stderr.includes(`${file}:${x.line}:${x.col}: ${x.path}: `), r.stderr);
    }
    assertEquals([...Deno.readDirSync(pid)].length, 0, "no pid file or socket left");
  } finally {
    await Deno.remove(pid, { recursive: true });
  }
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
