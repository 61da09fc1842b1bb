import { assertEquals } from "../tests/helpers/assert.ts";
import { checkImports, importsOf, placeOf, resolve } from "./imports.ts";

const why = (files: Record<string, string>) =>
  checkImports(new Map(Object.entries(files))).map((v) => `${v.file}:${v.line} ${v.why}`);

Deno.test("imports: every kind of import statement is found, with its line", () => {
  const text = [
    'import { a } from "./a.ts";',
    'import type { B } from "../b.ts";',
    "import {",
    "  c,",
    "  d,",
    '} from "./cd.ts";',
    'export { e } from "./e.ts";',
    'export * from "./f.ts";',
    'import * as g from "./g.ts";',
    'import h, { i } from "./hi.ts";',
    'import "./side.ts";',
    'const m = await import("./lazy.ts");',
    'new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });',
    'import { parseArgs } from "node:util";',
    "const s = \"import { x } from './not-code.ts'\";",
  ].join("\n");
  assertEquals(
    importsOf(text).map((i) => `${i.line} ${i.specifier}`),
    [
      "1 ./a.ts",
      "2 ../b.ts",
      "6 ./cd.ts",
      "7 ./e.ts",
      "8 ./f.ts",
      "9 ./g.ts",
      "10 ./hi.ts",
      "11 ./side.ts",
      "12 ./lazy.ts",
      "13 ./worker.ts",
    ],
  );
});

Deno.test("imports: paths resolve and land on their floors", () => {
  assertEquals(resolve("lib/vrrp/runner.ts", "../../ffi/socket.ts"), "ffi/socket.ts");
  assertEquals(resolve("lib/agent.ts", "./agent/plan.ts"), "lib/agent/plan.ts");
  assertEquals(placeOf("main.ts")?.level, 6);
  assertEquals(placeOf("lib/agent.ts")?.level, 4);
  assertEquals(placeOf("lib/agent/plan.ts")?.level, 4);
  assertEquals(placeOf("lib/netlink/rtnl.ts")?.level, 2);
  assertEquals(placeOf("ffi/libc.ts")?.level, 0);
  assertEquals(placeOf("lib/unplaced/x.ts"), null);
});

Deno.test("imports: down and sideways pass; up, ffi into lib and into tests fail", () => {
  assertEquals(
    why({
      "lib/vrrp/runner.ts": 'import "../netlink/rtnl.ts";\nimport "../../ffi/socket.ts";',
      "lib/netlink/rtnl.ts": 'import "../net/ip.ts";',
      "lib/vrrp/runner_test.ts": 'import "../../tests/helpers/vrrp_net.ts";',
      "tests/x_test.ts": 'import "../main.ts";',
    }),
    [],
  );
  assertEquals(
    why({
      "lib/vrrp/runner.ts": 'import "../agent.ts";',
      "ffi/socket.ts": '\nimport { formatIp } from "../lib/net/ip.ts";',
      "lib/net/ip.ts": 'import "../../tests/helpers/assert.ts";',
      "lib/agent.ts": 'import "../tools/imports.ts";',
    }),
    [
      "lib/vrrp/runner.ts:1 goes up from floor 2 (lib/vrrp/) to floor 4 (lib/agent.ts)",
      "ffi/socket.ts:2 goes up from floor 0 (ffi/) to floor 1 (lib/net/)",
      "lib/net/ip.ts:1 production code imports test or tool code",
      "lib/agent.ts:1 production code imports test or tool code",
    ],
  );
});

Deno.test("imports: two packages of a floor importing each other, and files on no floor", () => {
  assertEquals(
    why({
      "lib/vrrp/a.ts": 'import "../netlink/b.ts";',
      "lib/netlink/b.ts": 'import "../vrrp/a.ts";',
      "lib/extra/c.ts": "",
    }),
    [
      "lib/extra/c.ts:1 is on no floor (add it to tools/imports.ts)",
      "lib/netlink/b.ts:1 lib/netlink/ and lib/vrrp/ import each other (also lib/vrrp/a.ts:1)",
    ],
  );
});
