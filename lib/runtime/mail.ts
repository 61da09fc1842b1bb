/**
 * E-mail alerts (keepalived's smtp_alert): one plain-text message per state change, sent to the
 * configured relay with a minimal SMTP dialogue (HELO, MAIL FROM, RCPT TO for each address, DATA,
 * QUIT), one connection per message, one message at a time. Sending never blocks the caller: it
 * queues, and a relay that is down or slow costs a bounded queue and a warning, not a stall.
 *
 * @module
 */
import type { Logger } from "./log.ts";

/** Where and how alerts are sent. */
export interface MailSettings {
  /** The relay, `host` (a name or an address) and `port`. */
  server: { host: string; port: number };
  /** Envelope and header sender. */
  from: string;
  /** Recipients (one RCPT TO each; one To: header). */
  to: string[];
  /** The name given in HELO and in the subject's `[...]` prefix. */
  routerId: string;
  /** Bound on connecting and on each reply of the relay. */
  timeoutMs: number;
}

/** Messages waiting beyond this many are dropped (oldest first) with a warning. */
export const MAX_QUEUED = 64;
/** The longest reply line accepted from the relay. */
const MAX_REPLY_BYTES = 4096;

/** The message text (headers, blank line, dot-stuffed body), without the final ".". */
export function formatMessage(
  s: Pick<MailSettings, "from" | "to">,
  subject: string,
  body: string,
  date: Date,
): string {
  const clean = (v: string) => v.replace(/[\r\n]+/g, " ");
  const lines = [
    `Date: ${date.toUTCString().replace("GMT", "+0000")}`,
    `From: ${clean(s.from)}`,
    `Subject: ${clean(subject)}`,
    "X-Mailer: haagent",
    `To: ${s.to.map(clean).join(", ")}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    ...body.split(/\r?\n/).map((l) => (l.startsWith(".") ? `.${l}` : l)),
  ];
  return lines.join("\r\n") + "\r\n";
}

/**
 * The mailer for `settings`: `current` when its settings are the same, else a new one (a replaced
 * mailer still sends what it has queued), or null when no mail is sent.
 */
export function mailerFor(
  current: Mailer | null,
  settings: MailSettings | null,
  log: Logger,
): Mailer | null {
  if (settings === null) return null;
  if (current !== null && JSON.stringify(current.settings) === JSON.stringify(settings)) {
    return current;
  }
  return new Mailer(settings, log);
}

/** Sends alerts through one relay, in order, one at a time. */
export class Mailer {
  readonly #s: MailSettings;
  readonly #log: Logger;
  readonly #queue: { subject: string; body: string }[] = [];
  #running: Promise<void> | null = null;
  #sent = 0;
  #failed = 0;
  #dropped = 0;
  /** Injected for tests: opens the TCP connection. */
  readonly #connect: (host: string, port: number) => Promise<Deno.Conn>;

  constructor(
    settings: MailSettings,
    log: Logger,
    connect: (host: string, port: number) => Promise<Deno.Conn> = (hostname, port) =>
      Deno.connect({ hostname, port }),
  ) {
    this.#s = settings;
    this.#log = log;
    this.#connect = connect;
  }

  /** Where this mailer sends. */
  get settings(): Readonly<MailSettings> {
    return this.#s;
  }

  /** Messages sent, failed and dropped (queue full) so far. */
  get stats(): { sent: number; failed: number; dropped: number } {
    return { sent: this.#sent, failed: this.#failed, dropped: this.#dropped };
  }

  /** Queues one alert; the subject gets the `[router_id] ` prefix keepalived uses. */
  send(subject: string, body: string): void {
    if (this.#queue.length >= MAX_QUEUED) {
      this.#queue.shift();
      this.#dropped++;
      this.#log.warn(`mail queue full (${MAX_QUEUED}): the oldest alert was dropped`);
    }
    this.#queue.push({ subject: `[${this.#s.routerId}] ${subject}`, body });
    this.#running ??= this.#drain().finally(() => (this.#running = null));
  }

  /** Resolves once every queued alert was sent or given up. */
  async idle(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  async #drain(): Promise<void> {
    for (let m = this.#queue.shift(); m !== undefined; m = this.#queue.shift()) {
      const relay = `${this.#s.server.host}:${this.#s.server.port}`;
      try {
        await this.#deliver(m.subject, m.body);
        this.#sent++;
        this.#log.info(`mail alert sent via ${relay}: ${m.subject}`);
      } catch (e) {
        this.#failed++;
        this.#log.warn(`mail alert "${m.subject}" not sent via ${relay}: ${(e as Error).message}`);
      }
    }
  }

  async #deliver(subject: string, body: string): Promise<void> {
    const s = this.#s;
    const pending = this.#connect(s.server.host, s.server.port);
    let conn: Deno.Conn;
    try {
      conn = await within(pending, s.timeoutMs, "connect");
    } catch (e) {
      // A connection that completes after the timeout is closed at once.
      pending.then((c) => c.close(), () => {});
      throw e;
    }
    const reader = new ReplyReader(conn, s.timeoutMs);
    const write = (text: string) => writeAll(conn, new TextEncoder().encode(text));
    try {
      await reader.expect([220], "greeting");
      await write(`HELO ${s.routerId.replace(/\s+/g, "-")}\r\n`);
      await reader.expect([250], "HELO");
      await write(`MAIL FROM:<${s.from}>\r\n`);
      await reader.expect([250], "MAIL FROM");
      for (const to of s.to) {
        await write(`RCPT TO:<${to}>\r\n`);
        await reader.expect([250, 251], `RCPT TO ${to}`);
      }
      await write("DATA\r\n");
      await reader.expect([354], "DATA");
      await write(formatMessage(s, subject, body, new Date()) + ".\r\n");
      await reader.expect([250], "message");
      await write("QUIT\r\n");
      await reader.expect([221], "QUIT").catch(() => {});
    } finally {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }
}

/** Reads SMTP replies (multi-line `250-...` then `250 ...`), each within the timeout. */
class ReplyReader {
  readonly #conn: Deno.Conn;
  readonly #timeoutMs: number;
  #buf = "";
  readonly #chunk = new Uint8Array(1024);
  readonly #dec = new TextDecoder();

  constructor(conn: Deno.Conn, timeoutMs: number) {
    this.#conn = conn;
    this.#timeoutMs = timeoutMs;
  }

  async #line(): Promise<string> {
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl).replace(/\r$/, "");
        this.#buf = this.#buf.slice(nl + 1);
        return line;
      }
      if (this.#buf.length > MAX_REPLY_BYTES) throw new Error("reply line too long");
      const n = await within(this.#conn.read(this.#chunk), this.#timeoutMs, "reply");
      if (n === null) throw new Error("the relay closed the connection");
      this.#buf += this.#dec.decode(this.#chunk.subarray(0, n), { stream: true });
    }
  }

  /** Reads one reply; throws unless its code is one of `codes`. */
  async expect(codes: number[], step: string): Promise<void> {
    for (;;) {
      let line: string;
      try {
        line = await this.#line();
      } catch (e) {
        throw new Error(`${step}: ${(e as Error).message}`);
      }
      const m = /^(\d{3})([ -])?(.*)$/.exec(line);
      if (m === null) throw new Error(`${step}: unreadable reply "${line.slice(0, 80)}"`);
      if (m[2] === "-") continue;
      const code = Number(m[1]);
      if (!codes.includes(code)) throw new Error(`${step}: ${line.slice(0, 200)}`);
      return;
    }
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
