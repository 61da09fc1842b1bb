import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { serveText } from "./http_text.ts";

const page = (path: string) =>
  path === "/metrics"
    ? { status: 200, contentType: "text/plain; version=0.0.4", body: "up 1\n" }
    : { status: 404, contentType: "text/plain", body: "not found\n" };

async function raw(port: number, request: string): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  await c.write(new TextEncoder().encode(request));
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await c.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  c.close();
  return chunks.map((x) => new TextDecoder().decode(x)).join("");
}

Deno.test("serveText: GET, HEAD, 404, 405, each answered and closed", async () => {
  const errors: string[] = [];
  const s = serveText("metrics", { address: "127.0.0.1", port: 0 }, page, {
    maxConnections: 4,
    onError: (m) => errors.push(m),
  });
  try {
    const port = s.addr.port;
    const get = await raw(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert(get.startsWith("HTTP/1.1 200 OK\r\n"), get);
    assert(get.includes("content-length: 5\r\n") && get.endsWith("\r\n\r\nup 1\n"), get);
    const head = await raw(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
    assert(head.startsWith("HTTP/1.1 200 OK") && head.endsWith("\r\n\r\n"), head);
    assert((await raw(port, "GET /x?y HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 404 "));
    assert((await raw(port, "POST /metrics HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 405 "));
    assert((await raw(port, "hello\r\n\r\n")).startsWith("HTTP/1.1 400 "));
    // fetch speaks to it too.
    assertEquals(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), "up 1\n");
    assertEquals(errors, []);
  } finally {
    await s.shutdown();
  }
});

Deno.test("serveText: an address in use is an error that names it", async () => {
  const first = serveText("metrics", { address: "127.0.0.1", port: 0 }, page, {
    maxConnections: 4,
    onError: () => {},
  });
  try {
    const port = first.addr.port;
    let message = "";
    try {
      serveText("metrics", { address: "127.0.0.1", port }, page, {
        maxConnections: 4,
        onError: () => {},
      });
    } catch (e) {
      message = (e as Error).message;
    }
    assert(
      message.startsWith(`Cannot listen for metrics on 127.0.0.1:${port}: Address already in use`),
      message,
    );
  } finally {
    await first.shutdown();
  }
});

Deno.test("serveText: an idle client is dropped; past the cap new ones are closed", async () => {
  const errors: string[] = [];
  const s = serveText("metrics", { address: "127.0.0.1", port: 0 }, page, {
    maxConnections: 2,
    onError: (m) => errors.push(m),
  });
  try {
    const port = s.addr.port;
    const idle = [
      await Deno.connect({ hostname: "127.0.0.1", port }),
      await Deno.connect({ hostname: "127.0.0.1", port }),
    ];
    await new Promise((r) => setTimeout(r, 200));
    // The third is closed at once (no answer), while two idle ones are held.
    assertEquals(await raw(port, "GET /metrics HTTP/1.1\r\n\r\n"), "");
    assertEquals(s.stats.refused, 1);
    // After the request timeout the idle ones are gone and requests are answered again.
    await new Promise((r) => setTimeout(r, 5500));
    assert((await raw(port, "GET /metrics HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 200"));
    for (const c of idle) {
      assertEquals(await c.read(new Uint8Array(10)), null, "the idle connection was closed");
      c.close();
    }
    assert(errors.some((e) => e.includes("2 connections open")), errors.join("\n"));
  } finally {
    await s.shutdown();
  }
});
