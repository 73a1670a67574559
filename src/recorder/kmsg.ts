import { closeSync, constants, openSync, readSync } from 'node:fs';
import { parseKmsgRecord } from './audit.js';

/**
 * Reads the kernel log through /dev/kmsg, where seccomp audit records land when no audit daemon takes them.
 * Each read returns one record; the reader starts at the oldest record still buffered.
 */
export class KmsgReader {
  readonly #fd: number;
  #last = -1;

  constructor(path = '/dev/kmsg') {
    this.#fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  }

  /** Skips what is already in the buffer: later reads return only what the kernel logs from now on. */
  skipExisting(): void {
    this.read();
  }

  /** The messages logged since the last call, oldest first. */
  read(): string[] {
    const out: string[] = [];
    const buf = Buffer.alloc(8192);
    for (;;) {
      let n: number;
      try {
        n = readSync(this.#fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') break;
        // EPIPE: records were overwritten before we read them; the next read continues after the gap
        if (code === 'EPIPE') continue;
        throw e;
      }
      if (n <= 0) break;
      const record = parseKmsgRecord(buf.toString('utf8', 0, n));
      if (record === undefined || record.seq <= this.#last) continue;
      this.#last = record.seq;
      out.push(record.message);
    }
    return out;
  }

  close(): void {
    closeSync(this.#fd);
  }
}
