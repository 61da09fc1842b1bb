/**
 * errno numbers, names and messages (Linux; x86-64 and aarch64 share them), and `SyscallError`,
 * the one error type for a failed libc call.
 *
 * @module
 */

const table = [
  [1, "EPERM", "Operation not permitted"],
  [2, "ENOENT", "No such file or directory"],
  [3, "ESRCH", "No such process"],
  [4, "EINTR", "Interrupted system call"],
  [5, "EIO", "Input/output error"],
  [6, "ENXIO", "No such device or address"],
  [7, "E2BIG", "Argument list too long"],
  [9, "EBADF", "Bad file descriptor"],
  [11, "EAGAIN", "Resource temporarily unavailable"],
  [12, "ENOMEM", "Cannot allocate memory"],
  [13, "EACCES", "Permission denied"],
  [14, "EFAULT", "Bad address"],
  [16, "EBUSY", "Device or resource busy"],
  [17, "EEXIST", "File exists"],
  [19, "ENODEV", "No such device"],
  [22, "EINVAL", "Invalid argument"],
  [23, "ENFILE", "Too many open files in system"],
  [24, "EMFILE", "Too many open files"],
  [25, "ENOTTY", "Inappropriate ioctl for device"],
  [28, "ENOSPC", "No space left on device"],
  [32, "EPIPE", "Broken pipe"],
  [34, "ERANGE", "Numerical result out of range"],
  [38, "ENOSYS", "Function not implemented"],
  [61, "ENODATA", "No data available"],
  [71, "EPROTO", "Protocol error"],
  [75, "EOVERFLOW", "Value too large for defined data type"],
  [88, "ENOTSOCK", "Socket operation on non-socket"],
  [89, "EDESTADDRREQ", "Destination address required"],
  [90, "EMSGSIZE", "Message too long"],
  [91, "EPROTOTYPE", "Protocol wrong type for socket"],
  [92, "ENOPROTOOPT", "Protocol not available"],
  [93, "EPROTONOSUPPORT", "Protocol not supported"],
  [94, "ESOCKTNOSUPPORT", "Socket type not supported"],
  [95, "EOPNOTSUPP", "Operation not supported"],
  [97, "EAFNOSUPPORT", "Address family not supported by protocol"],
  [98, "EADDRINUSE", "Address already in use"],
  [99, "EADDRNOTAVAIL", "Cannot assign requested address"],
  [100, "ENETDOWN", "Network is down"],
  [101, "ENETUNREACH", "Network is unreachable"],
  [103, "ECONNABORTED", "Software caused connection abort"],
  [104, "ECONNRESET", "Connection reset by peer"],
  [105, "ENOBUFS", "No buffer space available"],
  [107, "ENOTCONN", "Transport endpoint is not connected"],
  [110, "ETIMEDOUT", "Connection timed out"],
  [111, "ECONNREFUSED", "Connection refused"],
  [113, "EHOSTUNREACH", "No route to host"],
  [114, "EALREADY", "Operation already in progress"],
  [115, "EINPROGRESS", "Operation now in progress"],
] as const;

/** The errno constants by name, each with its literal number. */
export type ErrnoTable = { readonly [E in (typeof table)[number] as E[1]]: E[0] };

const byNumber = new Map<number, { name: string; text: string }>(
  table.map(([n, name, text]) => [n, { name, text }]),
);

/**
 * errno numbers by name, for comparisons such as `err.errno === Errno.EEXIST`; a name that is
 * not in the table does not compile.
 */
export const Errno: ErrnoTable = Object.freeze(
  Object.fromEntries(table.map(([n, name]) => [name, n])),
) as ErrnoTable;

/** The symbolic name of an errno value (`"ENODEV"`), or `"E<n>"` when unknown. */
export function errnoName(errno: number): string {
  return byNumber.get(errno)?.name ?? `E${errno}`;
}

/** The message of an errno value (`"No such device"`). */
export function errnoText(errno: number): string {
  return byNumber.get(errno)?.text ?? `Unknown error ${errno}`;
}

/** A failed system call: which call, which errno, and what it was about. */
export class SyscallError extends Error {
  /** The libc function or netlink request that failed, e.g. `"setsockopt"`. */
  readonly syscall: string;
  /** The positive errno value. */
  readonly errno: number;
  /** The errno name, e.g. `"ENODEV"`. */
  readonly code: string;

  /**
   * @param syscall the call that failed
   * @param errno the positive errno value
   * @param what what was being done, naming the object: `Cannot join 224.0.0.18 on "eth9"`
   */
  constructor(syscall: string, errno: number, what: string, options?: ErrorOptions) {
    const code = errnoName(errno);
    super(`${what}: ${code} (${errnoText(errno)})`, options);
    this.name = "SyscallError";
    this.syscall = syscall;
    this.errno = errno;
    this.code = code;
  }
}
