import { parseArgs } from "node:util";
import { assertEquals } from "../../tests/helpers/assert.ts";
import { type FlagSpec, parseFlags, parseStrict } from "./args.ts";
import { UsageError } from "./exit.ts";

/** What node:util's strict parseArgs gives (the hint on dash positionals cut, as before). */
function viaNode(args: string[], options: FlagSpec): unknown {
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: { ...values }, positionals };
  } catch (e) {
    return { error: (e as Error).message.replace(/\. To specify.*$/s, "") };
  }
}

function ours(args: string[], options: FlagSpec): unknown {
  try {
    const { values, positionals } = parseStrict(args, options);
    return { values: { ...values }, positionals };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return { error: e.message };
  }
}

const SPEC: FlagSpec = {
  config: { type: "string", short: "f" },
  control: { type: "string" },
  json: { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  all: { type: "boolean", short: "a" },
  tag: { type: "string", short: "t", multiple: true },
  flag: { type: "boolean", multiple: true },
  help: { type: "boolean", short: "h" },
};

const WORDS = [
  "--config",
  "-f",
  "x.yaml",
  "--config=a",
  "--config=",
  "-fa.yaml",
  "-f-x",
  "--control",
  "-",
  "--",
  "--json",
  "--json=1",
  "-v",
  "-va",
  "-vaf",
  "-vafFILE",
  "-av",
  "-x",
  "--bogus",
  "--bogus=1",
  "-t",
  "t1",
  "--tag=t2",
  "--flag",
  "-h",
  "--help",
  "pos",
  "-1",
  "--x=",
  "--=a",
  "---a",
  "-fv",
  "-vt",
  "--__proto__",
  "-=",
];

Deno.test("parseStrict: as node:util parseArgs (strict, positionals) on 3,000 argument lists", () => {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; i < 3000; i++) {
    const args = Array.from({ length: next() % 5 }, () => WORDS[next() % WORDS.length]!);
    assertEquals(ours(args, SPEC), viaNode(args, SPEC), JSON.stringify(args));
  }
  for (const w of WORDS) {
    for (const v of WORDS) {
      assertEquals(ours([w, v], SPEC), viaNode([w, v], SPEC), JSON.stringify([w, v]));
    }
  }
});

Deno.test("parseFlags: --help always, positionals counted, usage errors", () => {
  assertEquals(parseFlags(["-h"], {}).values.help, true);
  assertEquals(parseFlags(["a"], {}, 1).positionals, ["a"]);
  const err = (args: string[], max = 0) => {
    try {
      parseFlags(args, { config: { type: "string", short: "f" } }, max);
      return "";
    } catch (e) {
      return e instanceof UsageError ? e.message : `not a UsageError: ${e}`;
    }
  };
  assertEquals(err(["a", "b"], 1), 'unexpected argument "b"');
  assertEquals(err(["--bogus"]), "Unknown option '--bogus'");
  assertEquals(err(["-f"]), "Option '-f, --config <value>' argument missing");
  assertEquals(err(["a", "--help"]), "");
});
