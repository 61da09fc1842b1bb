import { type KaNode, normalizePath, parseKeepalived, type ReadFs } from "./parser.ts";
import { assertEquals } from "../../../tests/helpers/assert.ts";

/** An in-memory file system: glob matches `*` within one folder. */
function memFs(files: Record<string, string>): ReadFs {
  return {
    readText: (p) => files[normalizePath(p)] ?? null,
    glob: (pattern, relativeTo) => {
      const full = normalizePath(pattern.startsWith("/") ? pattern : `${relativeTo}/${pattern}`);
      const re = new RegExp(`^${full.replace(/[.]/g, "\\.").replace(/\*/g, "[^/]*")}$`);
      return Object.keys(files).filter((f) => re.test(f)).sort();
    },
  };
}

const shape = (ns: KaNode[]): unknown[] =>
  ns.map((n) => [n.keyword, ...n.args, ...(n.children === null ? [] : [shape(n.children)])]);

Deno.test("parser: braces attached to words, one-line blocks, comments, quotes", () => {
  const text = [
    "vrrp_instance VI_1{ # comment",
    '  notify "/bin/x a#b" ! other comment',
    "  virtual_ipaddress { 10.0.0.1/24 dev eth0 }",
    "  script 'a b'\"c\" \\#x",
    "}",
  ].join("\n");
  const r = parseKeepalived(text, "/k.conf", memFs({}));
  assertEquals(r.errors, []);
  assertEquals(shape(r.nodes), [[
    "vrrp_instance",
    "VI_1",
    [["notify", "/bin/x a#b"], ["virtual_ipaddress", [["10.0.0.1/24", "dev", "eth0"]]], [
      "script",
      "a bc",
      "#x",
    ]],
  ]]);
  const inner = r.nodes[0]!.children![1]!;
  assertEquals([inner.line, inner.col], [3, 3]);
});

Deno.test("parser: block opened on the next line, escapes inside quotes", () => {
  const r = parseKeepalived('a\n{\n  b "x\\ty"\n}\n', "/k.conf", memFs({}));
  assertEquals(shape(r.nodes), [["a", [["b", "x\ty"]]]]);
});

Deno.test("parser: unbalanced braces are warnings with positions, as keepalived goes on", () => {
  const r = parseKeepalived("a {\n b\n}\n}\n{\nd\nc {\n", "/k.conf", memFs({}));
  assertEquals(r.errors.map((e) => `${e.line}:${e.col} ${e.severity} ${e.message}`), [
    '4:1 warning extra "}" ignored, as keepalived ignores it',
    '5:1 warning "{" without a keyword before it ignored, as keepalived ignores it',
    '7:1 warning "c" block is not closed (missing "}"); keepalived reads on to the end of the ' +
    "file, and so does the import",
  ]);
  // The stray "{" alone is dropped: what follows it stays at its level.
  assertEquals(shape(r.nodes), [["a", [["b"]]], ["d"], ["c", []]]);
});

Deno.test("parser: a value block without braces takes the lines up to the next } (keepalived)", () => {
  const text = "vrrp_instance A {\n x 1\n track_interface eth0\n}\nvrrp_instance B {\n}\n";
  const r = parseKeepalived(text, "/k.conf", memFs({}));
  assertEquals(shape(r.nodes), [
    ["vrrp_instance", "A", [["x", "1"], ["track_interface", []], ["vrrp_instance", "B", []]]],
  ]);
  assertEquals(r.errors.map((e) => `${e.line} ${e.severity}`), ["3 warning", "1 warning"]);
});

Deno.test("parser: $NAME definitions, ${NAME}, multi-line definitions, _PWD", () => {
  const text = [
    "$IF=eth0",
    "$BLOCK= \\",
    "  track_interface { \\",
    "    $IF \\",
    "  }",
    "x $IF ${IF}.5 $UNDEFINED ${_PWD}",
    "$BLOCK",
  ].join("\n");
  const r = parseKeepalived(text, "/etc/k/k.conf", memFs({}));
  assertEquals(r.errors, []);
  assertEquals(shape(r.nodes), [
    ["x", "eth0", "eth0.5", "$UNDEFINED", "/etc/k"],
    ["track_interface", [["eth0"]]],
  ]);
});

Deno.test("parser: includes by glob, nested, relative to the including file, loops", () => {
  const fs = memFs({
    "/etc/k/main.conf": "a\ninclude d/*.conf\nz\n",
    "/etc/k/d/1.conf": "b {\ninclude ../x.inc\n}\n",
    "/etc/k/d/2.conf": "c\ninclude 2.conf\n",
    "/etc/k/x.inc": "inner\n",
  });
  const r = parseKeepalived(fs.readText("/etc/k/main.conf")!, "/etc/k/main.conf", fs);
  assertEquals(shape(r.nodes), [["a"], ["b", [["inner"]]], ["c"], ["z"]]);
  assertEquals(r.nodes[2]!.file, "/etc/k/d/2.conf");
  assertEquals(r.errors.map((e) => `${e.file}:${e.line} ${e.severity}`), [
    "/etc/k/d/2.conf:2 error",
  ]);
});

Deno.test("parser: @config-id conditional lines", () => {
  const text = "@lb1 a 1\n@^lb1 b 2\nc 3\n";
  const none = parseKeepalived(text, "/k", memFs({}));
  assertEquals(shape(none.nodes), [["b", "2"], ["c", "3"]]);
  assertEquals(none.errors.map((e) => `${e.line} ${e.severity}`), ["1 warning"]);
  const lb1 = parseKeepalived(text, "/k", memFs({}), { configId: "lb1" });
  assertEquals(shape(lb1.nodes), [["a", "1"], ["c", "3"]]);
});

Deno.test("parser: never throws on arbitrary bytes", () => {
  let seed = 7;
  const alphabet = "ab {}\"'\\#!$@~\n\t=";
  for (let n = 0; n < 300; n++) {
    let s = "";
    for (let i = 0; i < 80; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      s += alphabet[seed % alphabet.length];
    }
    parseKeepalived(s, "/k", memFs({ "/a": s }));
  }
});
