import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { decodeUtf8, invalidUtf8Offset, readConfigFile } from "./read_file.ts";

Deno.test("readConfigFile: a regular file is read whole", async () => {
  const f = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(f, "a: é\n");
    assertEquals(await readConfigFile(f), { ok: true, text: "a: é\n" });
  } finally {
    await Deno.remove(f);
  }
});

Deno.test("readConfigFile: /dev/zero, a FIFO and a directory are refused without a read", async () => {
  const dir = await Deno.makeTempDir();
  const fifo = `${dir}/fifo`;
  try {
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert(mk.success);
    for (
      const [path, kind] of [
        ["/dev/zero", "a character device"],
        [fifo, "a FIFO"],
        [dir, "a directory"],
      ]
    ) {
      const t0 = performance.now();
      const r = await readConfigFile(path!);
      assert(!r.ok);
      assertEquals(
        r.message,
        `cannot read the file: ${path} is ${kind}, not a regular file`,
      );
      assertEquals([r.line, r.col], [1, 1]);
      assert(performance.now() - t0 < 5000, "the refusal did not hang");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readConfigFile: a file over the limit is refused by its size, before reading", async () => {
  const f = await Deno.makeTempFile();
  try {
    // A sparse 50 MB file: reading it would take 50 MB; the stat is enough.
    await Deno.truncate(f, 50 * 1024 * 1024);
    const r = await readConfigFile(f);
    assert(!r.ok);
    assertEquals(
      r.message,
      "the file is 52,428,800 bytes (a configuration file may have at most 16,777,216 bytes, 16 MiB)",
    );
    await Deno.truncate(f, 101);
    const small = await readConfigFile(f, 100);
    assert(!small.ok && small.message.startsWith("the file is 101 bytes"));
  } finally {
    await Deno.remove(f);
  }
});

Deno.test("readConfigFile: a missing file names the OS error", async () => {
  const r = await readConfigFile("/nonexistent/haagent.yaml");
  assert(!r.ok);
  assert(/^cannot read the file: No such file or directory/.test(r.message), r.message);
});

Deno.test("decodeUtf8: invalid UTF-8 is refused at its line and column", () => {
  const enc = new TextEncoder();
  const bytes = new Uint8Array([...enc.encode("a: 1\nbé: x"), 0xff, ...enc.encode("y\n")]);
  const r = decodeUtf8(bytes);
  assert(!r.ok);
  assertEquals([r.line, r.col], [2, 6]);
  assertEquals(r.message, "invalid UTF-8 (byte 0xff): a configuration file must be UTF-8 text");
});

Deno.test("invalidUtf8Offset agrees with TextDecoder's fatal mode", () => {
  const cases: number[][] = [
    [0x41],
    [0xc3, 0xa9],
    [0xc0, 0x80], // overlong
    [0xe0, 0x80, 0x80], // overlong
    [0xed, 0xa0, 0x80], // surrogate
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    [0xf0, 0x9f, 0x98, 0x80], // emoji
    [0xe2, 0x82], // truncated
    [0x80],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
  ];
  let seed = 3;
  for (let k = 0; k < 2000; k++) {
    const b: number[] = [];
    for (let j = 0; j < 4; j++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      b.push(...cases[seed % cases.length]!);
    }
    const bytes = new Uint8Array(b);
    let valid = true;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      valid = false;
    }
    assertEquals(invalidUtf8Offset(bytes) === bytes.length, valid, JSON.stringify(b));
  }
});
