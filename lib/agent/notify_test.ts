import { assertEquals } from "../../tests/helpers/assert.ts";
import { Logger } from "../runtime/log.ts";
import { FifoWriter, vrrpAlert } from "./notify.ts";

function testLogger(into: string[]): Logger {
  return new Logger("test", {
    level: "warn",
    sink: (l) => into.push(l),
    json: false,
  });
}

Deno.test("vrrpAlert: keepalived's subjects and bodies; FAULT skipped under no_email_faults", () => {
  assertEquals(vrrpAlert("INSTANCE", "VI_1", "MASTER", false), {
    subject: "VRRP Instance VI_1 - Entering MASTER state",
    body: "=> VRRP Instance is now owning VRRP VIPs <=",
  });
  assertEquals(vrrpAlert("INSTANCE", "VI_1", "BACKUP", false), {
    subject: "VRRP Instance VI_1 - Entering BACKUP state",
    body: "=> VRRP Instance is no longer owning VRRP VIPs <=",
  });
  assertEquals(vrrpAlert("INSTANCE", "VI_1", "INIT", false), {
    subject: "VRRP Instance VI_1 - Stopping",
    body: "=> VRRP Instance stopping <=",
  });
  assertEquals(vrrpAlert("GROUP", "G", "FAULT", false), {
    subject: "VRRP Group G - Entering FAULT state",
    body: "=> All VRRP group instances are now in FAULT state <=",
  });
  assertEquals(vrrpAlert("INSTANCE", "VI_1", "FAULT", true), null);
});

async function mkfifo(path: string): Promise<void> {
  const r = await new Deno.Command("mkfifo", { args: [path] }).output();
  if (!r.success) throw new Error(`mkfifo ${path} failed`);
}

async function readSome(path: string, want: number): Promise<string> {
  const f = await Deno.open(path, { read: true });
  const buf = new Uint8Array(65536);
  let text = "";
  while (text.split("\n").length - 1 < want) {
    const n = await f.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  f.close();
  return text;
}

Deno.test("FifoWriter: lines written with no reader, and across a reader's reopen, all arrive", async () => {
  const dir = await Deno.makeTempDir();
  const warnings: string[] = [];
  const log = testLogger(warnings);
  try {
    const path = `${dir}/fifo`;
    await mkfifo(path);
    const w = new FifoWriter(path, log);
    for (let i = 0; i < 50; i++) w.write(`line ${i}\n`);
    await w.idle(); // no reader yet: the open does not block, the pipe holds the lines
    const first = await readSome(path, 50);
    for (let i = 50; i < 100; i++) w.write(`line ${i}\n`);
    await w.idle(); // the reader is gone: the lines wait in the pipe for the next one
    const second = await readSome(path, 50);
    assertEquals(
      (first + second).trim().split("\n"),
      Array.from({ length: 100 }, (_, i) => `line ${i}`),
    );
    await w.close(100);
    assertEquals(warnings, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FifoWriter: a missing FIFO is created (0644) and removed at close, as keepalived does", async () => {
  const dir = await Deno.makeTempDir();
  const warnings: string[] = [];
  try {
    const path = `${dir}/made`;
    const w = new FifoWriter(path, testLogger(warnings));
    w.write("one\n");
    await w.idle();
    const st = await Deno.lstat(path);
    assertEquals([st.isFifo, (st.mode ?? 0) & 0o777 & ~0o644], [true, 0], "a FIFO, at most 0644");
    assertEquals(await readSome(path, 1), "one\n");
    await w.close(100);
    assertEquals(await Deno.lstat(path).then(() => true, () => false), false, "removed");
    // One that was there before is left in place.
    await mkfifo(`${dir}/kept`);
    const k = new FifoWriter(`${dir}/kept`, testLogger(warnings));
    k.write("x\n");
    await k.close(100);
    assertEquals((await Deno.lstat(`${dir}/kept`)).isFifo, true);
    assertEquals(warnings, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FifoWriter: a path in a missing directory, a regular file and a symbolic link are refused", async () => {
  const dir = await Deno.makeTempDir();
  const warnings: string[] = [];
  try {
    await Deno.writeTextFile(`${dir}/plain`, "");
    await mkfifo(`${dir}/fifo`);
    await Deno.symlink(`${dir}/fifo`, `${dir}/link`);
    for (const name of ["missing/fifo", "plain", "link"]) {
      const w = new FifoWriter(`${dir}/${name}`, testLogger(warnings));
      w.write("x\n");
      w.write("y\n");
      await w.close(100);
    }
    assertEquals(warnings.length, 3, warnings.join("\n"));
    assertEquals(warnings[1]!.includes("is not a FIFO"), true);
    assertEquals(warnings[2]!.includes("is a symbolic link"), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
