/**
 * The one `Deno.dlopen("libc.so.6")` table. Every libc call in haagent goes through
 * this table; nothing outside `ffi/` may import it.
 *
 * @module
 */

const symbols = {
  // int socket(int domain, int type, int protocol);
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  // int bind(int fd, const struct sockaddr *addr, socklen_t len);
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  // int connect(int fd, const struct sockaddr *addr, socklen_t len);
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  // int close(int fd);
  close: { parameters: ["i32"], result: "i32" },
  // int setsockopt(int fd, int level, int name, const void *val, socklen_t len);
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  // int getsockopt(int fd, int level, int name, void *val, socklen_t *len);
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  // int getsockname(int fd, struct sockaddr *addr, socklen_t *len);
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen);
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  // ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen);
  recvfrom: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"], result: "isize" },
  // ssize_t sendmsg(int fd, const struct msghdr *msg, int flags);
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  // ssize_t recvmsg(int fd, struct msghdr *msg, int flags);
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  // int ioctl(int fd, unsigned long request, void *arg);
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  // unsigned int if_nametoindex(const char *ifname);
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  // char *if_indextoname(unsigned int ifindex, char *ifname);
  if_indextoname: { parameters: ["u32", "buffer"], result: "pointer" },
  // int epoll_create1(int flags);
  epoll_create1: { parameters: ["i32"], result: "i32" },
  // int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  // int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout);
  // Runs on another thread: errno must not be read after it (see ENVIRONMENT.md).
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32", nonblocking: true },
  // int epoll_wait(...) called synchronously with timeout 0, to drain ready events.
  epoll_wait_now: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
  },
  // int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
  //                  const struct timespec *timeout, const sigset_t *sigmask);
  // Synchronous, with a nanosecond timeout (glibc 2.35, Linux 5.11): null when glibc lacks it.
  epoll_pwait2: {
    parameters: ["i32", "buffer", "i32", "buffer", "pointer"],
    result: "i32",
    optional: true,
  },
  // int eventfd(unsigned int initval, int flags);
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  // int timerfd_create(int clockid, int flags);
  timerfd_create: { parameters: ["i32", "i32"], result: "i32" },
  // int timerfd_settime(int fd, int flags, const struct itimerspec *new, struct itimerspec *old);
  timerfd_settime: { parameters: ["i32", "i32", "buffer", "pointer"], result: "i32" },
  // ssize_t read(int fd, void *buf, size_t count);
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // ssize_t write(int fd, const void *buf, size_t count);
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // int listen(int fd, int backlog);
  listen: { parameters: ["i32", "i32"], result: "i32" },
  // int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  // int poll(struct pollfd *fds, nfds_t nfds, int timeout); called with timeout 0 only.
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  // int sched_setscheduler(pid_t pid, int policy, const struct sched_param *param);
  sched_setscheduler: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  // int setpriority(int which, id_t who, int prio); with PRIO_PROCESS and a thread id: its nice.
  setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
  // long syscall(SYS_sched_setattr, pid_t tid, struct sched_attr *attr, unsigned int flags);
  // glibc has no wrapper (the number per architecture is in arch.ts); the variadic call takes
  // integer arguments in registers on x86-64 and aarch64 Linux alike.
  sched_setattr: { name: "syscall", parameters: ["i64", "i32", "buffer", "u32"], result: "i64" },
  // int clock_gettime(clockid_t clockid, struct timespec *tp);
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  // int getrlimit(int resource, struct rlimit *rlim);
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  // int setrlimit(int resource, const struct rlimit *rlim);
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  // int open(const char *path, int flags); without O_CREAT, so with no mode argument.
  open: { parameters: ["buffer", "i32"], result: "i32" },
  // int mkfifo(const char *path, mode_t mode);
  mkfifo: { parameters: ["buffer", "u32"], result: "i32" },
  // int malloc_trim(size_t pad); glibc only (optional: null elsewhere).
  malloc_trim: { parameters: ["usize"], result: "i32", optional: true },
  // int *__errno_location(void);
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The libc symbol table type. */
export type Libc = Deno.DynamicLibrary<typeof symbols>["symbols"];

let lib: Deno.DynamicLibrary<typeof symbols> | undefined;

/** Opens libc once and returns its symbols. Throws if FFI is not permitted. */
export function libc(): Libc {
  lib ??= Deno.dlopen("libc.so.6", symbols);
  return lib.symbols;
}

/**
 * Reads errno of the JS thread. Call it right after a synchronous call that failed,
 * never after an `await` or a `nonblocking` call.
 */
export function errno(): number {
  const p = libc().__errno_location();
  if (p === null) return 0;
  return new Deno.UnsafePointerView(p).getInt32(0);
}
