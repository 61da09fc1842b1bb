import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { formatMessage, Mailer, MAX_QUEUED } from "./mail.ts";
import { Logger } from "./log.ts";

function logger(lines: string[]): Logger {
  return new Logger("mail", { level: "debug", sink: (l) => lines.push(l), json: false });
}

/** A scripted SMTP relay on 127.0.0.1: records what clients send, answers with `reply`. */
function relay(reply: (cmd: string) => string | null = defaultReply) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sessions: string[][] = [];
  const done = (async () => {
    for await (const conn of listener) {
      const got: string[] = [];
      sessions.push(got);
      (async () => {
        const enc = new TextEncoder();
        const dec = new TextDecoder();
        const say = async (t: string | null) => {
          if (t !== null) await conn.write(enc.encode(t));
        };
        await say(reply("CONNECT"));
        let buf = "";
        let inData = false;
        const chunk = new Uint8Array(4096);
        for (;;) {
          const n = await conn.read(chunk).catch(() => null);
          if (n === null) break;
          buf += dec.decode(chunk.subarray(0, n));
          let nl;
          while ((nl = buf.indexOf("\r\n")) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 2);
            got.push(line);
            if (inData) {
              if (line === ".") {
                inData = false;
                await say(reply("."));
              }
              continue;
            }
            if (line === "DATA") inData = true;
            await say(reply(line));
          }
        }
        try {
          conn.close();
        } catch { /* closed */ }
      })();
    }
  })().catch(() => {});
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    port,
    sessions,
    async close() {
      listener.close();
      await done;
    },
  };
}

function defaultReply(cmd: string): string | null {
  if (cmd === "CONNECT") return "220-relay.test ESMTP\r\n220 ready\r\n";
  if (cmd.startsWith("HELO")) return "250 relay.test\r\n";
  if (cmd.startsWith("MAIL FROM")) return "250 ok\r\n";
  if (cmd.startsWith("RCPT TO")) return "250 ok\r\n";
  if (cmd === "DATA") return "354 go ahead\r\n";
  if (cmd === ".") return "250 queued\r\n";
  if (cmd === "QUIT") return "221 bye\r\n";
  return "500 what\r\n";
}

const settings = (port: number, timeoutMs = 2000) => ({
  server: { host: "127.0.0.1", port },
  from: "haagent@lb1",
  to: ["ops@example.net", "noc@example.net"],
  routerId: "lb1",
  timeoutMs,
});

Deno.test("mail: formatMessage writes keepalived's headers and dot-stuffs the body", () => {
  const m = formatMessage(
    { from: "a@b", to: ["x@y", "z@w"] },
    "[lb1] VRRP Instance VI_1 - Entering MASTER state",
    "=> VRRP Instance is now owning VRRP VIPs <=\n.dot line",
    new Date(Date.UTC(2026, 10, 22, 5, 0, 0)),
  );
  assertEquals(
    m,
    "Date: Sun, 22 Nov 2026 05:00:00 +0000\r\nFrom: a@b\r\n" +
      "Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: haagent\r\n" +
      "To: x@y, z@w\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
      "=> VRRP Instance is now owning VRRP VIPs <=\r\n..dot line\r\n",
  );
});

Deno.test("mail: an alert goes through the relay with HELO, MAIL FROM, one RCPT per address, DATA", async () => {
  const r = relay();
  const lines: string[] = [];
  const m = new Mailer(settings(r.port), logger(lines));
  try {
    m.send(
      "VRRP Instance VI_1 - Entering MASTER state",
      "=> VRRP Instance is now owning VRRP VIPs <=",
    );
    await m.idle();
    assertEquals(m.stats, { sent: 1, failed: 0, dropped: 0 });
    const s = r.sessions[0]!;
    assertEquals(s.slice(0, 5), [
      "HELO lb1",
      "MAIL FROM:<haagent@lb1>",
      "RCPT TO:<ops@example.net>",
      "RCPT TO:<noc@example.net>",
      "DATA",
    ]);
    assert(s.includes("Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state"), s.join("\n"));
    assert(s.includes("=> VRRP Instance is now owning VRRP VIPs <="), s.join("\n"));
    assertEquals(s.slice(-2), [".", "QUIT"]);
    assert(lines.some((l) => l.includes("mail alert sent via 127.0.0.1")), lines.join("\n"));
  } finally {
    await r.close();
  }
});

Deno.test("mail: a refused recipient fails that alert with the relay's words; the next one is sent", async () => {
  let calls = 0;
  const r = relay((cmd) =>
    cmd.startsWith("RCPT TO:<noc") && calls++ === 0 ? "550 no such user\r\n" : defaultReply(cmd)
  );
  const lines: string[] = [];
  const m = new Mailer(settings(r.port), logger(lines));
  try {
    m.send("first", "body");
    m.send("second", "body");
    await m.idle();
    assertEquals(m.stats, { sent: 1, failed: 1, dropped: 0 });
    assert(
      lines.some((l) =>
        /"\[lb1\] first" not sent via .*RCPT TO noc@example.net: 550 no such user/.test(l)
      ),
      lines.join("\n"),
    );
  } finally {
    await r.close();
  }
});

Deno.test("mail: a relay that never answers costs one timeout, and a closed port fails fast", async () => {
  const silent = relay(() => null);
  const lines: string[] = [];
  const m = new Mailer(settings(silent.port, 300), logger(lines));
  try {
    const t0 = performance.now();
    m.send("silent", "body");
    await m.idle();
    const took = performance.now() - t0;
    assertEquals(m.stats.failed, 1);
    assert(took >= 250 && took < 3000, `took ${took} ms`);
    assertMatch(lines.join("\n"), /greeting: reply: no answer within 300 ms/);
  } finally {
    await silent.close();
  }
  const gone = relay();
  const port = gone.port;
  await gone.close();
  const m2 = new Mailer(settings(port, 2000), logger(lines));
  m2.send("refused", "body");
  await m2.idle();
  assertEquals(m2.stats, { sent: 0, failed: 1, dropped: 0 });
});

Deno.test("mail: the queue is bounded; the oldest alerts are dropped with a warning", async () => {
  const lines: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const m = new Mailer(settings(1, 50), logger(lines), async () => {
    await gate;
    throw new Error("relay down");
  });
  for (let i = 0; i < MAX_QUEUED + 6; i++) m.send(`alert ${i}`, "body");
  release();
  await m.idle();
  // The first one left the queue at once (in flight); MAX_QUEUED wait; 5 were dropped.
  assertEquals(m.stats.dropped, 5);
  assertEquals(m.stats.failed, MAX_QUEUED + 1);
  assert(lines.some((l) => l.includes("mail queue full")), lines.join("\n"));
});
