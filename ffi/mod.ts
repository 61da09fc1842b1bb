/**
 * The typed libc layer: struct layouts, raw IP and packet sockets, interface ioctls and the
 * event loop. Everything outside `ffi/` that needs the OS imports from here.
 *
 * @module
 */
export * from "./structs.ts";
export { Errno, errnoName, errnoText, SyscallError } from "./errno.ts";
export { type Family, RawSocket, type Received } from "./socket.ts";
export { PacketSocket, type ReceivedFrame } from "./packet.ts";
export { linkIndex, type LinkInfo, linkInfo, linkName } from "./ioctl.ts";
export { Reactor, type ReactorOptions } from "./reactor.ts";
export { monotonicUsec, UnixDatagramSocket } from "./unix_dgram.ts";
export { makeFifo } from "./fifo.ts";
