/**
 * The assertions every test uses (JSR's @std/assert is not reachable here), built on
 * `node:assert`.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Fails unless `cond` is truthy. */
export function assert(cond: unknown, msg?: string): asserts cond {
  nodeAssert.ok(cond, msg);
}

/** Deep, strict equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Deep, strict inequality. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

/** Fails unless `text` matches `re`. */
export function assertMatch(text: string, re: RegExp, msg?: string): void {
  nodeAssert.match(text, re, msg);
}

/** Fails unless `fn` throws; returns the error. Optionally checks its class and message. */
export function assertThrows(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  errorClass?: new (...args: any[]) => Error,
  msgIncludes?: string,
): Error {
  try {
    fn();
  } catch (e) {
    checkError(e, errorClass, msgIncludes);
    return e as Error;
  }
  throw new nodeAssert.AssertionError({ message: "expected the function to throw" });
}

/** Fails unless the promise rejects; returns the error. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  errorClass?: new (...args: any[]) => Error,
  msgIncludes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    checkError(e, errorClass, msgIncludes);
    return e as Error;
  }
  throw new nodeAssert.AssertionError({ message: "expected the promise to reject" });
}

// deno-lint-ignore no-explicit-any
function checkError(e: unknown, errorClass?: new (...args: any[]) => Error, msgIncludes?: string) {
  if (errorClass && !(e instanceof errorClass)) {
    throw new nodeAssert.AssertionError({
      message: `expected ${errorClass.name}, got ${e instanceof Error ? e.name : typeof e}: ${e}`,
    });
  }
  if (msgIncludes !== undefined && !(e instanceof Error && e.message.includes(msgIncludes))) {
    throw new nodeAssert.AssertionError({
      message: `expected message to include "${msgIncludes}", got "${(e as Error)?.message}"`,
    });
  }
}
