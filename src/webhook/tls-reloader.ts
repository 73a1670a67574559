import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';

export interface CertFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface KeyPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export const TLS_MIN_VERSION = 'TLSv1.2';

/** The pair in a mounted `kubernetes.io/tls` Secret: DIR/tls.crt and DIR/tls.key. */
export function certFilesIn(dir: string): CertFiles {
  return { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
}

/** Reads the serving pair and checks that key and certificate belong together before anyone serves with them. */
export async function readKeyPair(files: CertFiles): Promise<KeyPair> {
  let pair: KeyPair;
  try {
    const [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
    pair = { cert, key };
  } catch (e) {
    throw new AppError('ERR_TLS_CERT', `cannot read serving certificate: ${(e as Error).message}`, {
      cause: e,
    });
  }
  try {
    createSecureContext({ ...pair, minVersion: TLS_MIN_VERSION });
  } catch (e) {
    throw new AppError(
      'ERR_TLS_CERT',
      `serving certificate and key do not form a pair: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  return pair;
}

function fingerprint(pair: KeyPair): string {
  return createHash('sha256').update(pair.cert).update('\0').update(pair.key).digest('hex');
}

export interface CertWatcher {
  /** Checks the files now; resolves true when a new pair was handed to onChange. */
  check(): Promise<boolean>;
  close(): void;
}

/**
 * Hands a new key pair to `onChange` whenever the files change. Kubernetes updates a mounted Secret by
 * swapping a symlink in the directory, so the directory is watched, with a poll as a backstop for
 * filesystems without inotify. A half-written pair (new cert, old key) is skipped until both match.
 */
export function watchCertificates(
  files: CertFiles,
  initial: KeyPair,
  onChange: (pair: KeyPair) => void,
  options: { log: Logger; intervalMs?: number; onResult?: (ok: boolean) => void },
): CertWatcher {
  let current = fingerprint(initial);
  let lastError = '';
  let running: Promise<boolean> | undefined;
  const check = (): Promise<boolean> => {
    running ??= (async () => {
      try {
        const pair = await readKeyPair(files);
        const next = fingerprint(pair);
        if (next === current) return false;
        onChange(pair);
        current = next;
        lastError = '';
        options.log.info({ certFile: files.certFile }, 'serving certificate reloaded');
        options.onResult?.(true);
        return true;
      } catch (e) {
        const message = (e as Error).message;
        // Logged once per distinct error, not once per poll, while a rotation is half done.
        if (message !== lastError) {
          options.log.warn({ err: e }, 'serving certificate not reloaded');
          options.onResult?.(false);
          lastError = message;
        }
        return false;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const watchers: FSWatcher[] = [];
  let debounce: NodeJS.Timeout | undefined;
  const soon = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void check(), 100);
  };
  for (const dir of new Set([dirname(files.certFile), dirname(files.keyFile)])) {
    try {
      const w = watch(dir, soon);
      w.on('error', () => w.close());
      watchers.push(w);
    } catch {
      // no inotify here: the poll below still notices
    }
  }
  const timer = setInterval(() => void check(), options.intervalMs ?? 10_000);
  timer.unref();
  return {
    check,
    close() {
      clearInterval(timer);
      clearTimeout(debounce);
      for (const w of watchers) w.close();
    },
  };
}

/** A listening TLS server (node:https, or fastify's `app.server` when built with `https`). */
export interface SecureServer {
  setSecureContext(options: { cert: Buffer; key: Buffer; minVersion: typeof TLS_MIN_VERSION }): void;
}

/** Swaps rotated certificates into a listening server: new connections get the new pair, without a restart. */
export function reloadServerCertificates(
  server: SecureServer,
  files: CertFiles,
  initial: KeyPair,
  options: { log: Logger; intervalMs?: number; onResult?: (ok: boolean) => void },
): CertWatcher {
  return watchCertificates(
    files,
    initial,
    (pair) => server.setSecureContext({ ...pair, minVersion: TLS_MIN_VERSION }),
    options,
  );
}
