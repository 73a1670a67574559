// Real processes and real TLS for the webhook tests: `seccompctl <role>` spawned from source, its JSON log
// lines collected, readiness taken from its own "webhook listening" line, never from a sleep.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { type Agent, request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type IssuedCert, createCa, issueServing } from '../../../src/manager/x509.js';
import { waitFor } from '../../env/wait.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface RoleProcess {
  readonly child: ChildProcess;
  readonly lines: Array<Record<string, unknown>>;
  /** Waits for a log line matching `pred` and returns it. */
  line(
    pred: (l: Record<string, unknown>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnRole(role: string, args: string[], env: NodeJS.ProcessEnv = {}): RoleProcess {
  const child = spawn(process.execPath, ['--import=tsx', join(repoRoot, 'src/cli/main.ts'), role, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let buf = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        lines.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        lines.push({ msg: text });
      }
      nl = buf.indexOf('\n');
    }
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    line(pred, what, timeoutMs = 60_000) {
      return waitFor(
        () => {
          if (child.exitCode !== null) {
            throw Object.assign(new Error(`${role} exited ${child.exitCode}: ${stderr.slice(-2000)}`), {
              fatal: true,
            });
          }
          return lines.find(pred);
        },
        { what: `${role}: ${what}`, timeoutMs, failFast: (e) => (e as { fatal?: boolean }).fatal === true },
      );
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface CertSet {
  readonly ca: IssuedCert;
  readonly serving: IssuedCert;
}

export async function makeCerts(hosts: string[] = ['127.0.0.1', 'localhost']): Promise<CertSet> {
  const ca = await createCa('webhook-test-ca', 30);
  return { ca, serving: await issueServing(ca, hosts, 7) };
}

/** Writes tls.key then tls.crt by rename, the order a rotation really happens in (a moment of mismatch). */
export function writeCerts(dir: string, certs: CertSet): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of [
    ['tls.key', certs.serving.keyPem],
    ['tls.crt', certs.serving.certPem],
    ['ca.crt', certs.ca.certPem],
  ] as const) {
    writeFileSync(join(dir, `.${name}.tmp`), text);
    renameSync(join(dir, `.${name}.tmp`), join(dir, name));
  }
}

/** A kubeconfig for an apiserver that is not there: the webhook starts, its caches never sync. */
export function unreachableKubeconfig(dir: string): string {
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'none', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } },
      ],
      users: [{ name: 'none', user: { token: 'x' } }],
      contexts: [{ name: 'none', context: { cluster: 'none', user: 'none' } }],
      'current-context': 'none',
    }),
  );
  return file;
}

export interface HttpsResult {
  readonly status: number;
  readonly body: string;
  readonly peerFingerprint: string;
  readonly protocol: string | null;
}

export function httpsRequest(
  url: string,
  options: {
    ca: string | string[];
    method?: string;
    body?: Buffer;
    contentType?: string;
    agent?: Agent;
    servername?: string;
  },
): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        agent: options.agent ?? false,
        headers: options.body ? { 'content-type': options.contentType ?? 'application/json' } : {},
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        const socket = res.socket as import('node:tls').TLSSocket;
        const peer = socket.getPeerCertificate?.();
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            peerFingerprint: peer?.fingerprint256 ?? '',
            protocol: socket.alpnProtocol || null,
          }),
        );
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(options.body);
  });
}
