import { assert } from "../tests/helpers/assert.ts";
import { trimMalloc } from "./malloc.ts";

/** The process's anonymous resident memory, kB. */
function rssAnonKb(): number {
  const t = Deno.readTextFileSync("/proc/self/status");
  return Number(/^RssAnon:\s+(\d+) kB/m.exec(t)![1]);
}

Deno.test("trimMalloc gives the free pages of malloc's heap back to the kernel", () => {
  // 32 MB in 100 kB blocks (below the mmap threshold: on the heap), written, then freed with a
  // block kept after them, so that free() alone cannot shrink the heap: only a trim returns it.
  const lib = Deno.dlopen("libc.so.6", {
    malloc: { parameters: ["usize"], result: "pointer" },
    free: { parameters: ["pointer"], result: "void" },
    memset: { parameters: ["pointer", "i32", "usize"], result: "pointer" },
  });
  try {
    const blocks: Deno.PointerValue[] = [];
    for (let i = 0; i < 320; i++) {
      const p = lib.symbols.malloc(100_000n);
      assert(p !== null);
      lib.symbols.memset(p, 1, 100_000n);
      blocks.push(p);
    }
    const fence = lib.symbols.malloc(100_000n);
    for (const p of blocks) lib.symbols.free(p);
    const before = rssAnonKb();
    assert(trimMalloc(), "malloc_trim released nothing");
    const after = rssAnonKb();
    lib.symbols.free(fence);
    assert(before - after > 16_000, `RssAnon ${before} -> ${after} kB: expected 16 MB less`);
  } finally {
    lib.close();
  }
});
