/**
 * glibc's malloc, as the Deno runtime's Rust side and V8's helper threads use it: giving free
 * pages back to the kernel (`malloc_trim`). glibc keeps freed memory of every arena for reuse,
 * and V8's compiler and GC helper threads each have an arena of their own: after start-up those
 * held 10 MB of free memory at 1,000 instances. (Capping the arenas with mallopt(M_ARENA_MAX)
 * comes too late from JavaScript: every thread has its arena before the first module runs, and
 * MALLOC_ARENA_MAX cannot be baked into the compiled binary.) A no-op returning false where libc
 * has no malloc_trim (not glibc).
 *
 * @module
 */
import { libc } from "./libc.ts";

/**
 * Gives every arena's free pages back to the kernel (`malloc_trim(0)`); true when some memory
 * was released. Walks the arenas under their locks: call it off the hot path.
 */
export function trimMalloc(): boolean {
  const trim = libc().malloc_trim;
  if (trim === null) return false;
  return trim(0n) === 1;
}
