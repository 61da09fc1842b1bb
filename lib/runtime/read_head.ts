/**
 * Reads the first bytes of a file that holds a number (track_file, FILE_CHECK), as keepalived
 * does (`open(O_RDONLY | O_NONBLOCK)`, one `read` of at most 127 bytes): never the whole file
 * however large it grows, and never blocked by a FIFO without a writer or a device.
 *
 * @module
 */
import { constants } from "node:fs";
import { open } from "node:fs/promises";

/** keepalived's buffer (128 bytes, one kept for the terminating NUL). */
export const TRACK_READ_BYTES = 127;

/**
 * The first `maxBytes` (or fewer) of `path`: one non-blocking read. A FIFO with nothing to read
 * gives no bytes; a missing or unreadable file throws.
 */
export async function readHead(path: string, maxBytes = TRACK_READ_BYTES): Promise<Uint8Array> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const buf = new Uint8Array(maxBytes);
    try {
      const { bytesRead } = await fh.read(buf, 0, maxBytes, null);
      return buf.subarray(0, bytesRead);
    } catch (e) {
      if ((e as { code?: string }).code === "EAGAIN") return new Uint8Array(0);
      throw e;
    }
  } finally {
    await fh.close();
  }
}
