import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError, statusOf } from '../k8s/client.js';

export interface LeaderOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly log: Logger;
  readonly leaseSeconds?: number;
  readonly retryMs?: number;
  /** Stops the wait for the lease (shutdown while standing by); acquireLeadership then rejects. */
  readonly signal?: AbortSignal;
}

export interface Leadership {
  /** Rejects when the lease is lost: the caller must stop acting as leader at once (we exit). */
  readonly lost: Promise<never>;
  /** Gives the lease up so a successor need not wait for it to expire. */
  release(): Promise<void>;
}

// MicroTime: the apiserver parses exactly six fractional digits, which Date#toISOString does not give.
const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

function expired(lease: V1Lease, now: number): boolean {
  const spec = lease.spec ?? {};
  if (!spec.holderIdentity) return true;
  const renewed = spec.renewTime ? new Date(spec.renewTime as unknown as string).getTime() : 0;
  return renewed + (spec.leaseDurationSeconds ?? 15) * 1000 < now;
}

/**
 * Lease-based leader election (the coordination.k8s.io protocol every controller uses): take the lease
 * when free or expired, renew it every retry period, and report loss when a renewal has not succeeded
 * within the lease duration. Optimistic concurrency (resourceVersion) settles races between candidates.
 */
export async function acquireLeadership(options: LeaderOptions): Promise<Leadership> {
  const api = options.kc.makeApiClient(CoordinationV1Api);
  const leaseSeconds = options.leaseSeconds ?? 15;
  const retryMs = options.retryMs ?? 2_000;
  const { namespace, name, identity, log } = options;

  const tryAcquire = async (): Promise<boolean> => {
    const now = new Date();
    let lease: V1Lease | undefined;
    try {
      lease = await api.readNamespacedLease({ name, namespace });
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
    }
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: leaseSeconds,
      renewTime: microTime(now) as unknown as Date,
    };
    if (lease === undefined) {
      await api.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: { ...spec, acquireTime: microTime(now) as unknown as Date },
        },
      });
      return true;
    }
    const mine = lease.spec?.holderIdentity === identity;
    if (!mine && !expired(lease, now.getTime())) return false;
    await api.replaceNamespacedLease({
      name,
      namespace,
      body: {
        ...lease,
        spec: {
          ...lease.spec,
          ...spec,
          ...(mine
            ? {}
            : {
                acquireTime: microTime(now) as unknown as Date,
                leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1,
              }),
        },
      },
    });
    return true;
  };

  let waitingLogged = false;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      if (await tryAcquire()) break;
      if (!waitingLogged) {
        log.info({ lease: `${namespace}/${name}` }, 'lease held by another manager; standing by');
        waitingLogged = true;
      }
    } catch (e) {
      if (statusOf(e) !== 409) log.warn(describeError(e), 'lease acquire failed');
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, retryMs);
      options.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
  log.info({ lease: `${namespace}/${name}`, identity }, 'became leader');

  let lastRenew = Date.now();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const lost = new Promise<never>((_, reject) => {
    const renew = async () => {
      if (stopped) return;
      try {
        if (await tryAcquire()) lastRenew = Date.now();
        else return reject(new Error('lease taken by another holder'));
      } catch (e) {
        log.warn(describeError(e), 'lease renewal failed');
      }
      if (Date.now() - lastRenew > leaseSeconds * 1000)
        return reject(new Error('lease renewal deadline passed'));
      timer = setTimeout(() => void renew(), retryMs);
    };
    timer = setTimeout(() => void renew(), retryMs);
  });
  lost.catch(() => {});
  return {
    lost,
    async release() {
      stopped = true;
      clearTimeout(timer);
      try {
        const lease = await api.readNamespacedLease({ name, namespace });
        if (lease.spec?.holderIdentity !== identity) return;
        await api.replaceNamespacedLease({
          name,
          namespace,
          body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } },
        });
      } catch (e) {
        log.warn(describeError(e), 'lease release failed');
      }
    },
  };
}
