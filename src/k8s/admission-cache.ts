import type { Logger } from 'pino';
import type { ProfileBinding, ProfileRecording } from '../profiles/types.js';
import { type BindingIndex, indexBindings, type ProfileNames } from '../webhook/binding.js';
import { sortRecordings } from '../webhook/recording.js';
import type { AdmissionState } from '../webhook/state.js';
import { type Informer, type KubeClient, type KubeObject, makeRestInformer } from './rest/index.js';
import { PROFILE_BINDINGS, PROFILE_RECORDINGS, type ResourceRef, SECCOMP_PROFILES } from './resources.js';

/**
 * Per-namespace views for admission, derived lazily from three informers and dropped when anything in that
 * namespace changes, so a review costs a map lookup and the index is rebuilt at most once per change.
 */
export class AdmissionCache implements AdmissionState {
  private readonly bindingInformer: Informer<ProfileBinding & KubeObject>;
  private readonly recordingInformer: Informer<ProfileRecording & KubeObject>;
  private readonly profileInformer: Informer<KubeObject>;
  private readonly bindingViews = new Map<string, BindingIndex>();
  private readonly recordingViews = new Map<string, readonly ProfileRecording[]>();
  private readonly profileViews = new Map<string, ProfileNames>();

  /** `namespace`: single-namespace mode, only that namespace is watched. */
  constructor(kube: KubeClient, log: Logger, namespace?: string) {
    // In single-namespace mode RBAC grants nothing outside the namespace, so the list and watch stay in it.
    const make = <T extends KubeObject>(ref: ResourceRef) =>
      makeRestInformer<T>(kube, { ...ref, namespace }, { log, what: ref.plural });
    this.bindingInformer = make(PROFILE_BINDINGS);
    this.recordingInformer = make(PROFILE_RECORDINGS);
    this.profileInformer = make(SECCOMP_PROFILES);
    this.bindingInformer.onChange((o) => this.bindingViews.delete(o.metadata?.namespace ?? ''));
    this.recordingInformer.onChange((o) => this.recordingViews.delete(o.metadata?.namespace ?? ''));
    this.profileInformer.onChange((o) => this.profileViews.delete(o.metadata?.namespace ?? ''));
  }

  async start(): Promise<void> {
    await Promise.all([
      this.bindingInformer.start(),
      this.recordingInformer.start(),
      this.profileInformer.start(),
    ]);
  }

  async stop(): Promise<void> {
    await Promise.all([
      this.bindingInformer.stop(),
      this.recordingInformer.stop(),
      this.profileInformer.stop(),
    ]);
  }

  synced(): boolean {
    return this.bindingInformer.synced() && this.recordingInformer.synced() && this.profileInformer.synced();
  }

  bindings(namespace: string): BindingIndex {
    let view = this.bindingViews.get(namespace);
    if (view === undefined) {
      view = indexBindings([...this.bindingInformer.cache.list(namespace)]);
      this.bindingViews.set(namespace, view);
    }
    return view;
  }

  recordings(namespace: string): readonly ProfileRecording[] {
    let view = this.recordingViews.get(namespace);
    if (view === undefined) {
      view = sortRecordings(this.recordingInformer.cache.list(namespace));
      this.recordingViews.set(namespace, view);
    }
    return view;
  }

  profiles(namespace: string): ProfileNames {
    let view = this.profileViews.get(namespace);
    if (view === undefined) {
      view = new Set(this.profileInformer.cache.list(namespace).map((p) => p.metadata?.name ?? ''));
      this.profileViews.set(namespace, view);
    }
    return view;
  }
}
