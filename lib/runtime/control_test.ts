import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { controlRequest, ControlServer, ControlUnreachable } from "./control.ts";

Deno.test("control socket: a request gets its handler's result; errors come back as errors", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/c.sock`;
  await using srv = await ControlServer.listen(path, {
    status: () => ({ hello: "world" }),
    fail: () => {
      throw new Error("nope");
    },
  });
  assertEquals(await controlRequest(path, { cmd: "status" }), { hello: "world" });
  await assertRejects(() => controlRequest(path, { cmd: "fail" }), Error, "nope");
  await assertRejects(() => controlRequest(path, { cmd: "what" }), Error, "unknown command");
  void srv;
  await Deno.remove(dir, { recursive: true });
});

Deno.test("control socket: a second agent on a live socket is refused; a stale file is replaced", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/c.sock`;
  const a = await ControlServer.listen(path, { status: () => 1 });
  await assertRejects(() => ControlServer.listen(path, {}), Error, "already listening");
  await a.close();
  // A stale socket file (no listener) is replaced.
  const l = Deno.listen({ transport: "unix", path });
  l.close();
  const b = await ControlServer.listen(path, { status: () => 2 });
  assertEquals(await controlRequest(path, { cmd: "status" }), 2);
  await b.close();
  let gone = false;
  try {
    await Deno.lstat(path);
  } catch {
    gone = true;
  }
  assert(gone, "the socket file is removed on close");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("control socket: no agent is ControlUnreachable", async () => {
  await assertRejects(
    () => controlRequest("/nonexistent/haagent.sock", { cmd: "status" }),
    ControlUnreachable,
    "No agent is answering",
  );
});
