import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { isJournalStream, Logger, stderrIsJournal } from "./log.ts";

function capture(journal: boolean, json = false) {
  const lines: string[] = [];
  const log = new Logger("vrrp VI_1");
  log.setSink((l) => lines.push(l), json);
  log.setJournal(journal);
  log.setLevel("debug");
  return { log, lines };
}

Deno.test("log: text lines start with a timestamp, or with <N> under the journal", () => {
  const plain = capture(false);
  plain.log.warn("dropped advert", { reason: "ttl" });
  assertMatch(
    plain.lines[0]!,
    /^\d{4}-\d\d-\d\dT\S+Z WARN {2}vrrp VI_1: dropped advert reason=ttl$/,
  );
  const j = capture(true);
  j.log.error("e");
  j.log.warn("w");
  j.log.info("i");
  j.log.debug("d");
  assertEquals(j.lines, [
    "<3>ERROR vrrp VI_1: e",
    "<4>WARN  vrrp VI_1: w",
    "<6>INFO  vrrp VI_1: i",
    "<7>DEBUG vrrp VI_1: d",
  ]);
  assert(j.log.journal && j.log.child("x").journal, "children share the setting");
  // Every line of a multi-line message keeps the priority (the journal splits on newlines).
  j.log.error("uncaught exception: Error: boom\n    at f (x.ts:1:1)");
  assertEquals(
    j.lines[4],
    "<3>ERROR vrrp VI_1: uncaught exception: Error: boom\n<3>    at f (x.ts:1:1)",
  );
});

Deno.test("log: JSON lines under the journal carry <N> before the object", () => {
  const j = capture(true, true);
  j.log.warn("w", { n: 1 });
  assertMatch(j.lines[0]!, /^<4>\{/);
  const obj = JSON.parse(j.lines[0]!.slice(3));
  assertEquals([obj.level, obj.component, obj.msg, obj.n], ["warn", "vrrp VI_1", "w", 1]);
});

Deno.test("log: JOURNAL_STREAM must name stderr's device and inode", () => {
  const st = { dev: 8, ino: 123456 };
  assert(isJournalStream("8:123456", st));
  assert(!isJournalStream(undefined, st));
  assert(!isJournalStream("8:123457", st), "another stream (stderr was redirected)");
  assert(!isJournalStream("9:123456", st));
  assert(!isJournalStream("8:123456:1", st));
  assert(!isJournalStream("", st));
  assert(!isJournalStream("8:123456", null));
  assert(!isJournalStream("8:123456", { dev: 8, ino: null }));
});

Deno.test("log: stderrIsJournal() compares with this process's fd 2", async () => {
  // A child whose JOURNAL_STREAM is its own stderr's device:inode (as journald would set it),
  // and one whose variable names another file.
  const code = `import { stderrIsJournal } from ${JSON.stringify(import.meta.resolve("./log.ts"))};
console.log(stderrIsJournal());`;
  const run = async (journalStream: string) => {
    const o = await new Deno.Command("sh", {
      args: [
        "-c",
        `${journalStream}; exec "$0" eval "$1"`,
        Deno.execPath(),
        code,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(o.stdout).trim();
  };
  assertEquals(
    await run('export JOURNAL_STREAM="$(stat -L -c %d:%i /proc/self/fd/2)"'),
    "true",
  );
  assertEquals(await run("export JOURNAL_STREAM=1:1"), "false");
  assertEquals(await run("unset JOURNAL_STREAM"), "false");
  assertEquals(typeof stderrIsJournal(), "boolean");
});

Deno.test("log: a sink that throws (stderr closed: EPIPE) never reaches the caller", () => {
  const log = new Logger("t", {
    level: "info",
    sink: () => {
      throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
    },
    json: false,
  });
  log.error("one");
  log.child("c").warn("two", { big: 1n });
  log.setSink(() => {
    throw new Error("closed");
  }, true);
  log.info("three", { big: 1n });
  assertEquals(log.lost, 3);
});
