/**
 * Splits a byte stream into newline-terminated lines, whatever the chunk boundaries: a chunk may end inside a
 * line or inside a multi-byte character, so bytes are kept until their newline arrives and only whole lines
 * are decoded. A line longer than `maxLineBytes` throws instead of growing without bound.
 */
export class LineSplitter {
  readonly #max: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(maxLineBytes: number) {
    this.#max = maxLineBytes;
  }

  /** The lines this chunk completes, without their newline; blank lines are dropped. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const part = chunk.subarray(start, nl);
      this.#grow(part.length);
      const line =
        this.#pending.length === 0
          ? part.toString('utf8')
          : Buffer.concat([...this.#pending, part]).toString('utf8');
      this.#pending = [];
      this.#pendingBytes = 0;
      if (line.trim() !== '') lines.push(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.#grow(rest.length);
      // A copy: the caller's buffer may be pooled and reused.
      this.#pending.push(Buffer.from(rest));
    }
    return lines;
  }

  /** What is left after the stream ended: a last line without a newline, if any. */
  end(): string | undefined {
    const line = Buffer.concat(this.#pending).toString('utf8');
    this.#pending = [];
    this.#pendingBytes = 0;
    return line.trim() === '' ? undefined : line;
  }

  #grow(bytes: number): void {
    this.#pendingBytes += bytes;
    if (this.#pendingBytes > this.#max) {
      this.#pending = [];
      this.#pendingBytes = 0;
      throw new RangeError(`line longer than ${this.#max} bytes`);
    }
  }
}
