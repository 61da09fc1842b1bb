/**
 * A tiny TCP tool for the traffic test, run inside namespaces:
 * `serve NAME PORT` answers every connection with NAME and closes;
 * `count HOST PORT N` makes N connections one after another and prints how many answers came
 * from each name, as JSON.
 *
 * @module
 */

const [mode, a, b, c] = Deno.args;
if (mode === "serve") {
  const listener = Deno.listen({ hostname: "0.0.0.0", port: Number(b) });
  console.log("listening");
  const reply = new TextEncoder().encode(a!);
  for await (const conn of listener) {
    conn.write(reply).catch(() => {}).finally(() => conn.close());
  }
} else if (mode === "count") {
  const counts: Record<string, number> = {};
  for (let i = 0; i < Number(c); i++) {
    let name = "error";
    try {
      const conn = await Deno.connect({ hostname: a!, port: Number(b) });
      const buf = new Uint8Array(64);
      let text = "";
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      conn.close();
      name = text || "empty";
    } catch {
      name = "error";
    }
    counts[name] = (counts[name] ?? 0) + 1;
  }
  console.log(JSON.stringify(counts));
} else {
  console.error("usage: serve NAME PORT | count HOST PORT N");
  Deno.exit(2);
}
