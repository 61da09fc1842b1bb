/**
 * Raw system call numbers by CPU architecture, for the calls glibc has no wrapper for (they go
 * through `syscall(2)`). The numbers differ between architectures (x86-64 has its own table,
 * aarch64 uses include/uapi/asm-generic/unistd.h); on any other architecture the call is refused
 * with an error that says so, instead of calling whatever that number means there.
 *
 * @module
 */

/** Per architecture (`Deno.build.arch`), the number of each raw syscall haagent makes. */
export const SYSCALL_NUMBERS = {
  // arch/x86/entry/syscalls/syscall_64.tbl
  x86_64: { sched_setattr: 314n },
  // include/uapi/asm-generic/unistd.h
  aarch64: { sched_setattr: 274n },
} as const satisfies Record<string, Record<string, bigint>>;

/** A raw syscall haagent makes. */
export type RawSyscall = keyof (typeof SYSCALL_NUMBERS)["x86_64"];

/** An architecture haagent knows the syscall numbers of. */
export type KnownArch = keyof typeof SYSCALL_NUMBERS;

/** The number of `name` on `arch` (default: this machine's); throws on an unknown architecture. */
export function syscallNumber(name: RawSyscall, arch: string = Deno.build.arch): bigint {
  if (!Object.hasOwn(SYSCALL_NUMBERS, arch)) {
    const known = Object.keys(SYSCALL_NUMBERS).join(", ");
    throw new Error(
      `${name}: no system call number for architecture ${arch} (haagent knows ${known})`,
    );
  }
  return SYSCALL_NUMBERS[arch as KnownArch][name];
}
