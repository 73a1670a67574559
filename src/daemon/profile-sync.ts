import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isAppError } from '../errors.js';
import { resolveBase } from '../profiles/base.js';
import { specToRaw } from '../profiles/convert.js';
import type { ProfileState, SeccompProfile, SeccompProfileSpec } from '../profiles/types.js';
import type { DaemonMetrics, ErrorReason } from './metrics.js';
import { removeProfileFile, writeProfileFile } from './profile-files.js';
import { OPERATOR_DIR, profileLocation, renderProfileFile } from './profile-path.js';

/** Label on per-replica recordings that must not reach disk until merged. */
export const PARTIAL_LABEL = 'spo.x-k8s.io/partial';
/**
 * Label on profiles recorded with `disableProfileAfterRecording: true`: kept in the API for review, never
 * written to a node (a file written before is removed) until the label is removed.
 */
export const DISABLED_LABEL = 'spo.x-k8s.io/disabled';

export interface ProfileStore {
  get(namespace: string, name: string): SeccompProfile | undefined;
  list(): readonly SeccompProfile[];
}

export interface NodeStatusSink {
  report(profile: SeccompProfile, state: ProfileState, message?: string): Promise<void>;
}

export interface EventSink {
  emit(profile: SeccompProfile, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface ProfileSyncDeps {
  /** `<kubelet-dir>/seccomp`. */
  readonly root: string;
  readonly nodeName: string;
  readonly store: ProfileStore;
  readonly builtinBase: (name: string) => SeccompProfileSpec | undefined;
  readonly status: NodeStatusSink;
  readonly events: EventSink;
  readonly metrics: DaemonMetrics;
  readonly log: Logger;
  readonly seccompSupported: boolean;
  /**
   * Single-namespace mode: only this namespace's directory is ours. Files of other namespaces belong to another
   * install (or a cluster-wide one), so a resync leaves them alone.
   */
  readonly namespace?: string | undefined;
}

class SyncFailure extends Error {
  constructor(
    readonly reason: ErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Keeps the profile files on this node equal to the SeccompProfile resources. Work is keyed by
 * `<namespace>/<name>` and serialised, so a burst of events for one profile costs one write.
 */
export class ProfileSync {
  private readonly pending = new Set<string>();
  private running: Promise<void> | undefined;

  constructor(private readonly deps: ProfileSyncDeps) {}

  /** Queues a profile and every profile built on it (directly or through other bases), since their files change too. */
  enqueue(namespace: string, name: string): void {
    const queue = [name];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const key = `${namespace}/${next}`;
      if (this.pending.has(key) && next !== name) continue;
      this.pending.add(key);
      for (const p of this.deps.store.list()) {
        if (
          p.metadata.namespace === namespace &&
          p.spec.baseProfileName === next &&
          !this.pending.has(`${namespace}/${p.metadata.name}`)
        ) {
          queue.push(p.metadata.name);
        }
      }
    }
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when every queued profile has been handled. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private async drain(): Promise<void> {
    for (const key of this.pending) {
      this.pending.delete(key);
      const [namespace, name] = key.split('/') as [string, string];
      try {
        await this.sync(namespace, name);
      } catch (e) {
        this.deps.log.error({ err: e, namespace, name }, 'profile sync failed');
      }
    }
  }

  private async sync(namespace: string, name: string): Promise<void> {
    const profile = this.deps.store.get(namespace, name);
    if (profile === undefined) {
      await this.remove(namespace, name);
      return;
    }
    const { deps } = this;
    if (!deps.seccompSupported) {
      await this.fail(
        profile,
        new SyncFailure('SeccompNotSupportedOnNode', `seccomp is not supported on node ${deps.nodeName}`),
      );
      return;
    }
    if ((profile.metadata as { deletionTimestamp?: string }).deletionTimestamp !== undefined) {
      // The manager holds the profile while pods use it; the file must stay until the object is really gone.
      await this.report(profile, 'Terminating');
      return;
    }
    if (profile.metadata.labels?.[PARTIAL_LABEL] === 'true') {
      await this.report(profile, 'Partial');
      return;
    }
    if (profile.metadata.labels?.[DISABLED_LABEL] === 'true') {
      await this.remove(namespace, name);
      await this.report(profile, 'Disabled');
      return;
    }
    let content: string;
    let location: ReturnType<typeof profileLocation>;
    try {
      location = profileLocation(namespace, name);
      const spec = resolveBase(
        profile.spec,
        (base) => deps.store.get(namespace, base)?.spec ?? deps.builtinBase(base),
        {
          self: name,
        },
      );
      content = renderProfileFile(specToRaw(spec));
    } catch (e) {
      await this.fail(profile, new SyncFailure('InvalidSeccompProfile', (e as Error).message));
      return;
    }
    let outcome: Awaited<ReturnType<typeof writeProfileFile>>;
    try {
      outcome = await writeProfileFile(deps.root, location, content);
    } catch (e) {
      await this.fail(
        profile,
        new SyncFailure('CannotSaveSeccompProfile', `cannot write profile: ${(e as Error).message}`),
      );
      return;
    }
    if (outcome !== 'unchanged') {
      deps.metrics.profileOperations.inc({ operation: 'update' });
      deps.events.emit(
        profile,
        'Normal',
        'SavedSeccompProfile',
        `Successfully saved profile to disk on ${deps.nodeName}`,
      );
      deps.log.info({ namespace, name, outcome, path: location.localhostProfile }, 'profile saved');
    }
    await this.report(profile, 'Installed');
  }

  private async remove(namespace: string, name: string): Promise<void> {
    let location: ReturnType<typeof profileLocation>;
    try {
      location = profileLocation(namespace, name);
    } catch {
      return;
    }
    try {
      if ((await removeProfileFile(this.deps.root, location)) === 'removed') {
        this.deps.metrics.profileOperations.inc({ operation: 'delete' });
        this.deps.log.info({ namespace, name }, 'profile removed');
      }
    } catch (e) {
      this.deps.metrics.profileErrors.inc({ reason: 'CannotRemoveSeccompProfile' });
      this.deps.log.error({ err: e, namespace, name }, 'cannot remove profile');
    }
  }

  private async fail(profile: SeccompProfile, failure: SyncFailure): Promise<void> {
    this.deps.metrics.profileErrors.inc({ reason: failure.reason });
    this.deps.events.emit(profile, 'Warning', failure.reason, failure.message);
    this.deps.log.warn(
      {
        namespace: profile.metadata.namespace,
        name: profile.metadata.name,
        reason: failure.reason,
        err: failure.message,
      },
      'profile not installed',
    );
    await this.report(profile, 'Error', `${failure.reason}: ${failure.message}`);
  }

  private async report(profile: SeccompProfile, state: ProfileState, message?: string): Promise<void> {
    try {
      await this.deps.status.report(profile, state, message);
    } catch (e) {
      this.deps.metrics.profileErrors.inc({ reason: 'CannotUpdateNodeStatus' });
      this.deps.log.error(
        { err: e, name: profile.metadata.name, code: isAppError(e) ? e.code : undefined },
        'cannot update node status',
      );
    }
  }

  /** Queues every profile, and removes files of profiles that no longer exist (deleted while this daemon was down). */
  async resync(): Promise<void> {
    const known = new Set(this.deps.store.list().map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
    for (const key of known) {
      const [namespace, name] = key.split('/') as [string, string];
      this.enqueue(namespace, name);
    }
    const operatorDir = join(this.deps.root, OPERATOR_DIR);
    const namespaces = await readdir(operatorDir).catch(() => [] as string[]);
    for (const namespace of namespaces) {
      if (this.deps.namespace !== undefined && namespace !== this.deps.namespace) {
        this.deps.log.debug(
          { namespace, watchNamespace: this.deps.namespace },
          'leaving profile files of another namespace alone (single-namespace mode)',
        );
        continue;
      }
      const files = await readdir(join(operatorDir, namespace)).catch(() => [] as string[]);
      for (const file of files) {
        if (!file.endsWith('.json')) continue;
        const name = file.slice(0, -'.json'.length);
        if (!known.has(`${namespace}/${name}`)) this.enqueue(namespace, name);
      }
    }
    await this.idle();
  }
}
