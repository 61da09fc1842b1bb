import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { Logger } from "./log.ts";
import { resolveUser, runScript, scriptAccess, ScriptQueue, splitCommand } from "./script.ts";

Deno.test("splitCommand: words, quotes and escapes like keepalived", () => {
  assertEquals(splitCommand("/bin/check  a b"), { ok: true, value: ["/bin/check", "a", "b"] });
  assertEquals(splitCommand(`sh -c 'echo "x y"; exit 3'`), {
    ok: true,
    value: ["sh", "-c", `echo "x y"; exit 3`],
  });
  assertEquals(splitCommand(`a "b \\"c\\" d" e\\ f`), { ok: true, value: ["a", `b "c" d`, "e f"] });
  assertEquals(splitCommand(`a"b"'c'`), { ok: true, value: ["abc"] });
  assertEquals(splitCommand(`x ""`), { ok: true, value: ["x", ""] });
  assertEquals(splitCommand("  "), { ok: false, reason: "empty command" });
  assertEquals(splitCommand("a 'b").ok, false);
  assertEquals(splitCommand('a "b').ok, false);
});

Deno.test("resolveUser: names, numbers, groups", () => {
  const passwd = "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/usr/sbin/nologin\n";
  const group = "root:x:0:\nnogroup:x:65534:\nadm:x:4:\n";
  assertEquals(resolveUser("nobody", passwd, group), {
    ok: true,
    value: { uid: 65534, gid: 65534 },
  });
  assertEquals(resolveUser("nobody:adm", passwd, group), {
    ok: true,
    value: { uid: 65534, gid: 4 },
  });
  assertEquals(resolveUser("1234", passwd, group), { ok: true, value: { uid: 1234, gid: 1234 } });
  assertEquals(resolveUser("ghost", passwd, group).ok, false);
  assertEquals(resolveUser("nobody:ghosts", passwd, group).ok, false);
});

Deno.test("runScript: exit codes, args, env, signals", async () => {
  const r = await runScript("sh -c 'echo $0 $1 $FOO; exit 7'", {
    timeoutMs: 5000,
    args: ["A", "B"],
    env: { FOO: "bar" },
  });
  assertEquals(r.code, 7);
  assertEquals(r.signal, null);
  assertEquals(r.timedOut, false);
  assertEquals(r.stdout, "A B bar\n");
  const k = await runScript(["sh", "-c", "kill -9 $$"], { timeoutMs: 5000 });
  assertEquals(k.code, null);
  assertEquals(k.signal, "SIGKILL");
});

Deno.test("runScript: a missing program is a result, not an exception", async () => {
  const r = await runScript("/nonexistent/prog x", { timeoutMs: 1000 });
  assertEquals(r.code, null);
  assert(r.error?.includes("not found"), r.error);
  const u = await runScript("true", { timeoutMs: 1000, user: "no-such-user-xyz" });
  assertEquals(u.code, null);
  assert(u.error?.includes("unknown user"));
});

Deno.test("runScript: timeout kills the whole process group", async () => {
  const marker = await Deno.makeTempFile();
  const t0 = performance.now();
  // The script forks a grandchild that would write the marker later; the group kill stops it.
  const r = await runScript(["sh", "-c", `(sleep 1.5; echo late > ${marker}) & sleep 30`], {
    timeoutMs: 300,
  });
  const took = performance.now() - t0;
  assertEquals(r.timedOut, true);
  assertEquals(r.signal, "SIGTERM");
  assert(took < 3000, `took ${took} ms`);
  await new Promise((res) => setTimeout(res, 1700));
  assertEquals(await Deno.readTextFile(marker), "");
  await Deno.remove(marker);
});

Deno.test("runScript: SIGKILL after the grace when SIGTERM is ignored", async () => {
  const r = await runScript(["sh", "-c", "trap '' TERM; sleep 30"], {
    timeoutMs: 200,
    killGraceMs: 300,
  });
  assertEquals(r.timedOut, true);
  assertEquals(r.signal, "SIGKILL");
  assert(r.durationMs < 3000);
});

Deno.test("runScript: megabytes of output are bounded and drained", async () => {
  const r = await runScript(["sh", "-c", "head -c 8000000 /dev/zero; echo done >&2; exit 0"], {
    timeoutMs: 10_000,
    maxOutputBytes: 1000,
  });
  assertEquals(r.code, 0);
  assertEquals(r.stdout.length, 1000);
  assertEquals(r.stdoutBytes, 8_000_000);
});

Deno.test("runScript: abort signal kills like a timeout", async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const r = await runScript("sleep 30", { timeoutMs: 20_000, signal: ac.signal });
  assertEquals(r.timedOut, false);
  assertEquals(r.signal, "SIGTERM");
});

Deno.test("runScript: user switch", async () => {
  if (Deno.uid() !== 0) return;
  const r = await runScript("id -u", { timeoutMs: 5000, user: "nobody" });
  assertEquals(r.stdout.trim(), "65534");
});

Deno.test("ScriptQueue runs scripts in order per key", async () => {
  const file = await Deno.makeTempFile();
  const q = new ScriptQueue(new Logger("test"));
  // The first script is the slowest; order must still be 1 2 3.
  q.enqueue("vi1", ["sh", "-c", `sleep 0.3; echo 1 >> ${file}`], [], { timeoutMs: 5000 });
  q.enqueue("vi1", ["sh", "-c", `sleep 0.1; echo 2 >> ${file}`], [], { timeoutMs: 5000 });
  q.enqueue("vi1", ["sh", "-c", `echo $0 >> ${file}`], ["3"], { timeoutMs: 5000 });
  assertEquals(q.pending, 3);
  await q.idle();
  assertEquals(await Deno.readTextFile(file), "1\n2\n3\n");
  await Deno.remove(file);
});

Deno.test("scriptAccess: keepalived's found-and-executable check", () => {
  const files: Record<string, { mode: number; uid: number; gid: number; isFile: boolean }> = {
    "/bin/true": { mode: 0o755, uid: 0, gid: 0, isFile: true },
    "/etc/chk.sh": { mode: 0o644, uid: 0, gid: 0, isFile: true },
    "/etc/own.sh": { mode: 0o700, uid: 1000, gid: 1000, isFile: true },
    "/etc/dir": { mode: 0o755, uid: 0, gid: 0, isFile: false },
  };
  const fs = { stat: (p: string) => files[p] ?? null, path: "/usr/bin:/bin" };
  const root = { uid: 0, gid: 0 };
  assertEquals(scriptAccess("true --flag", root, fs), null);
  assertEquals(scriptAccess("/bin/true", root, fs), null);
  assertEquals(scriptAccess("nope", root, fs), "nope: not found in PATH");
  assertEquals(scriptAccess("/etc/missing.sh x", root, fs), "/etc/missing.sh: not found");
  assertEquals(scriptAccess("/etc/dir", root, fs), "/etc/dir: not a file");
  assertEquals(
    scriptAccess("/etc/chk.sh", root, fs),
    "/etc/chk.sh: not executable for uid 0 gid 0",
  );
  assertEquals(scriptAccess("/etc/own.sh", { uid: 1000, gid: 1000 }, fs), null);
  assertEquals(
    scriptAccess("/etc/own.sh", { uid: 1001, gid: 1000 }, fs),
    "/etc/own.sh: not executable for uid 1001 gid 1000",
  );
});

Deno.test("runScript: a background child that left the group does not keep the pipe open", async () => {
  const dir = await Deno.makeTempDir();
  const pids = `${dir}/pids`;
  const fds = () => [...Deno.readDirSync("/proc/self/fd")].length;
  try {
    await runScript(["true"], { timeoutMs: 5000 });
    const before = fds();
    for (let i = 0; i < 5; i++) {
      const r = await runScript(
        ["sh", "-c", `setsid sleep 30 & echo $! >> ${pids}; echo hi`],
        { timeoutMs: 5000, killGraceMs: 200 },
      );
      assertEquals([r.code, r.stdout], [0, "hi\n"]);
    }
    const after = fds();
    assert(after <= before + 1, `descriptors ${before} -> ${after} after 5 runs`);
  } finally {
    for (const pid of (await Deno.readTextFile(pids).catch(() => "")).split("\n")) {
      if (pid !== "") await new Deno.Command("kill", { args: ["-9", pid] }).output();
    }
    await Deno.remove(dir, { recursive: true });
  }
});
