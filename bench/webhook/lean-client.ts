// The load client of the HTTPS bench: keep-alive TLS connections that write one pre-encoded HTTP/1.1 request
// and read the answer framed by Content-Length. node:https would do the same work, but its per-request objects
// (ClientRequest, IncomingMessage, header maps) cost the client more CPU and garbage than the server's reply
// costs the server, and the client's own pauses would then be counted as the server's latency.
import { connect, type TLSSocket } from 'node:tls';

export interface LeanTarget {
  readonly host: string;
  readonly port: number;
  readonly ca: string;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** A request split where a per-request header can go in: the request line and Host, then the rest. */
export interface EncodedRequest {
  readonly head: Buffer;
  readonly rest: Buffer;
}

export function encodeRequest(
  method: 'GET' | 'POST',
  path: string,
  host: string,
  body?: Buffer,
): EncodedRequest {
  const rest =
    'Connection: keep-alive\r\n' +
    (body ? `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` : '') +
    '\r\n';
  return {
    head: Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n`),
    rest: body ? Buffer.concat([Buffer.from(rest), body]) : Buffer.from(rest),
  };
}

/** One keep-alive connection carrying one request at a time. */
export class LeanConnection {
  private buf: Buffer = Buffer.alloc(0);
  private pending: { resolve: (t: number) => void; reject: (e: Error) => void } | undefined;

  private constructor(private readonly socket: TLSSocket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  static open(target: LeanTarget): Promise<LeanConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: target.host, port: target.port, ca: target.ca }, () =>
        resolve(new LeanConnection(socket)),
      );
      socket.once('error', reject);
    });
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  /**
   * Writes the request (with `id` as header x-bench-id when given, so the server's record of it can be found);
   * resolves with performance.now() at the moment the whole answer was read.
   */
  send(request: EncodedRequest, id?: number): Promise<number> {
    if (this.pending) throw new Error('connection busy');
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.cork();
      this.socket.write(request.head);
      if (id !== undefined) this.socket.write(`x-bench-id: ${id}\r\n`);
      this.socket.write(request.rest);
      this.socket.uncork();
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const end = this.buf.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.buf.subarray(0, end).toString('latin1');
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!m) {
      this.fail(new Error('answer without content-length'));
      return;
    }
    const total = end + HEADER_END.length + Number(m[1]);
    if (this.buf.length < total) return;
    const done = performance.now();
    this.buf = this.buf.subarray(total);
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    if (status !== 200) p.reject(new Error(`HTTP ${status}`));
    else p.resolve(done);
  }

  private fail(e: Error): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }
}
