import type { Stats } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from 'pino';
import { MAX_LINE } from './audit-line.js';
import type { LineSink, LineSource, SourceKind } from './line-source.js';
import { SerialPoller } from './serial-poller.js';

export interface FileFollowerOptions {
  readonly kind: SourceKind;
  readonly path: string;
  readonly log: Logger;
  /** How often to look for new data, a rotation or a truncation */
  readonly pollMs?: number;
  /** Read what the file already holds (replays, benchmarks); a live follower starts at the end */
  readonly fromStart?: boolean;
  readonly chunkBytes?: number;
}

/**
 * Follows a log file like `tail -F`: starts at the end, reopens the path when it is rotated (after draining
 * the old file), rewinds when the file is truncated, and waits for a file that does not exist yet.
 */
export class FileFollower implements LineSource {
  readonly kind: SourceKind;
  readonly path: string;
  readonly #log: Logger;
  readonly #chunk: Buffer;
  #fromStart: boolean;
  #fh: FileHandle | undefined;
  #ino = -1;
  #dev = -1;
  #pos = 0;
  #decoder = new StringDecoder('utf8');
  #partial = '';
  #skipping = false;
  readonly #poller: SerialPoller;
  #sink: LineSink | undefined;

  constructor(options: FileFollowerOptions) {
    this.kind = options.kind;
    this.path = options.path;
    this.#log = options.log;
    this.#poller = new SerialPoller(() => this.#pass(), options.pollMs ?? 200);
    this.#fromStart = options.fromStart ?? false;
    this.#chunk = Buffer.allocUnsafe(options.chunkBytes ?? 256 * 1024);
  }

  start(sink: LineSink, onError: (err: unknown) => void): void {
    this.#sink = sink;
    this.#poller.start(onError);
  }

  catchUp(): Promise<void> {
    return this.#poller.runNow();
  }

  #pass(): Promise<void> {
    const sink = this.#sink;
    return sink === undefined ? Promise.resolve() : this.readAvailable(sink);
  }

  async stop(): Promise<void> {
    await this.#poller.stop();
    await this.#fh?.close();
    this.#fh = undefined;
  }

  /** Reads everything written since the last call, handling rotation and truncation; resolves at EOF. */
  async readAvailable(sink: LineSink): Promise<void> {
    if (this.#fh === undefined && !(await this.#open())) return;
    const current = await statOrUndefined(this.path);
    const st = await this.#fh!.stat();
    if (st.size < this.#pos) {
      this.#log.info(
        { path: this.path, size: st.size, offset: this.#pos },
        'log truncated, reading from start',
      );
      this.#pos = 0;
      this.#resetLine();
    }
    await this.#drain(sink);
    if (current !== undefined && (current.ino !== this.#ino || current.dev !== this.#dev)) {
      // Rotated: the old file is drained above; lines written to it between that read and now are
      // still read here, before switching.
      await this.#drain(sink);
      await this.#flushPartial(sink);
      await this.#fh!.close();
      this.#fh = undefined;
      this.#fromStart = true;
      this.#log.info({ path: this.path }, 'log rotated, following the new file');
      if (await this.#open()) await this.#drain(sink);
    }
  }

  async #open(): Promise<boolean> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // A file that appears later is new: all of it is unread.
        this.#fromStart = true;
        return false;
      }
      throw err;
    }
    const st = await fh.stat();
    this.#fh = fh;
    this.#ino = st.ino;
    this.#dev = st.dev;
    this.#pos = this.#fromStart ? 0 : st.size;
    this.#resetLine();
    this.#log.info({ path: this.path, offset: this.#pos }, 'following log');
    return true;
  }

  #resetLine(): void {
    this.#decoder = new StringDecoder('utf8');
    this.#partial = '';
    this.#skipping = false;
  }

  async #drain(sink: LineSink): Promise<void> {
    for (;;) {
      const { bytesRead } = await this.#fh!.read(this.#chunk, 0, this.#chunk.length, this.#pos);
      if (bytesRead === 0) return;
      this.#pos += bytesRead;
      const lines = this.#split(this.#decoder.write(this.#chunk.subarray(0, bytesRead)));
      if (lines.length > 0) await sink(lines);
    }
  }

  async #flushPartial(sink: LineSink): Promise<void> {
    const rest = this.#partial + this.#decoder.end();
    this.#resetLine();
    if (rest.length > 0) await sink([rest]);
  }

  #split(text: string): string[] {
    const lines: string[] = [];
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl < 0) break;
      if (this.#skipping) {
        this.#skipping = false;
      } else {
        lines.push(this.#partial.length > 0 ? this.#partial + text.slice(from, nl) : text.slice(from, nl));
      }
      this.#partial = '';
      from = nl + 1;
    }
    if (!this.#skipping) {
      this.#partial += text.slice(from);
      // A line longer than any audit record: hand on a prefix (counted as too long) and drop the rest,
      // so a file without newlines cannot grow memory.
      if (this.#partial.length > MAX_LINE) {
        lines.push(this.#partial.slice(0, MAX_LINE + 1));
        this.#partial = '';
        this.#skipping = true;
      }
    }
    return lines;
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
