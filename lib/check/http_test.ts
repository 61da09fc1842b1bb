import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { buildRequest, md5Hex, statusAccepted } from "./http.ts";
import { type HttpParseResult, HttpResponseParser } from "./http_response.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function feed(parts: string[], limits = {}): HttpParseResult {
  const p = new HttpResponseParser(limits);
  let r: HttpParseResult = { state: "need-more" };
  for (const part of parts) r = p.push(enc(part));
  return r.state === "need-more" ? p.end() : r;
}

/** Splits `s` at every byte, to prove the parser does not depend on chunk boundaries. */
function bytewise(s: string): string[] {
  return [...s];
}

Deno.test("http parser: Content-Length body, any split", () => {
  const raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2\r\n\r\nhelloEXTRA";
  for (const parts of [[raw], bytewise(raw)]) {
    const r = feed(parts);
    assert(r.state === "done", JSON.stringify(r));
    assertEquals(r.value.status, 200);
    assertEquals(r.value.version, "HTTP/1.1");
    assertEquals(r.value.reasonPhrase, "OK");
    assertEquals(r.value.headers.get("x-a"), "1, 2");
    assertEquals(dec(r.value.body), "hello");
  }
});

Deno.test("http parser: chunked body with extensions and trailers", () => {
  const raw = "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: y\r\n\r\n";
  for (const parts of [[raw], bytewise(raw)]) {
    const r = feed(parts);
    assert(r.state === "done", JSON.stringify(r));
    assertEquals(r.value.status, 503);
    assertEquals(dec(r.value.body), "Wikipedia in\r\n\r\nchunks.");
  }
});

Deno.test("http parser: body to end of connection; 1xx skipped; 204 empty", () => {
  const r = feed(["HTTP/1.0 200 OK\r\n\r\nall ", "of it"]);
  assert(r.state === "done");
  assertEquals(dec(r.value.body), "all of it");
  const c = feed([
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
  ]);
  assert(c.state === "done");
  assertEquals(c.value.status, 404);
  const n = new HttpResponseParser().push(enc("HTTP/1.1 204 No Content\r\n\r\n"));
  assert(n.state === "done");
  assertEquals(n.value.body.length, 0);
});

Deno.test("http parser: bounded and hostile input fails with a reason", () => {
  const big = feed(["HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n"], { maxBodyBytes: 1000 });
  assertEquals(big, { state: "error", reason: "body over 1000 bytes" });
  const p = new HttpResponseParser({ maxBodyBytes: 1000 });
  p.push(enc("HTTP/1.1 200 OK\r\n\r\n"));
  let r: HttpParseResult = { state: "need-more" };
  for (let i = 0; i < 20 && r.state === "need-more"; i++) r = p.push(new Uint8Array(100));
  assertEquals(r, { state: "error", reason: "body over 1000 bytes" });
  const chunkBig = feed(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFF\r\n"], {
    maxBodyBytes: 1000,
  });
  assertEquals(chunkBig.state, "error");
  const headers = new HttpResponseParser({ maxHeaderBytes: 100 }).push(
    enc("HTTP/1.1 200 OK\r\n" + "X: y\r\n".repeat(50)),
  );
  assertEquals(headers, { state: "error", reason: "headers over 100 bytes" });
  assertEquals(feed(["SSH-2.0-OpenSSH_9.2\r\n\r\n"]).state, "error");
  assertEquals(feed(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]), {
    state: "error",
    reason: "truncated body",
  });
  assertEquals(feed([""]), { state: "error", reason: "empty response" });
  assertEquals(feed(["HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"]).state, "error");
  assertEquals(
    feed(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]).state,
    "error",
  );
  // Random garbage never throws.
  for (let i = 0; i < 200; i++) {
    const junk = crypto.getRandomValues(new Uint8Array(1 + (i * 37) % 300));
    const q = new HttpResponseParser();
    q.push(enc("HTTP/1.1 200 OK\r\n"));
    q.push(junk);
    q.end();
  }
});

Deno.test("http: status ranges, digest, request", () => {
  assert(statusAccepted(204, []));
  assert(!statusAccepted(301, []));
  assert(statusAccepted(301, [[200, 200], [300, 399]]));
  assert(!statusAccepted(503, [[200, 200], [300, 399]]));
  assertEquals(md5Hex(enc("")), "d41d8cd98f00b204e9800998ecf8427e");
  assertEquals(
    dec(
      buildRequest({ path: "/health", statusCodes: [] }, "1.0", {
        address: "10.0.0.11",
        port: 8080,
      }),
    ),
    "GET /health HTTP/1.0\r\nUser-Agent: haagent\r\nHost: 10.0.0.11:8080\r\nAccept: */*\r\n" +
      "Connection: close\r\n\r\n",
  );
  assert(
    dec(buildRequest({ path: "/", statusCodes: [], virtualhost: "www.example.com" }, "1.1", {
      address: "fd00::1",
      port: 80,
    })).includes("HTTP/1.1\r\nUser-Agent: haagent\r\nHost: www.example.com\r\n"),
  );
});
