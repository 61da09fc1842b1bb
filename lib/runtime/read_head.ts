/**
 * Reads the first bytes of a file that holds a number (track_file, FILE_CHECK), as keepalived
 * does (`open(O_RDONLY | O_NONBLOCK)`, one `read` of at most 127 bytes): never the whole file
 * however large it grows, and never blocked by a FIFO without a writer or a device.
 *
 * @module
 */
import { NonBlockingFile } from "../../ffi/file.ts";

/** keepalived's buffer (128 bytes, one kept for the terminating NUL). */
export const TRACK_READ_BYTES = 127;

/**
 * The first `maxBytes` (or fewer) of `path`: one non-blocking read. A FIFO with nothing to read
 * gives no bytes; a missing or unreadable file throws.
 */
export function readHead(path: string, maxBytes = TRACK_READ_BYTES): Promise<Uint8Array> {
  try {
    using fh = NonBlockingFile.open(path);
    const buf = new Uint8Array(maxBytes);
    return Promise.resolve(buf.subarray(0, fh.read(buf) ?? 0));
  } catch (e) {
    return Promise.reject(e);
  }
}
