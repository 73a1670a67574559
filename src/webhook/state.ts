import type { ProfileRecording } from '../profiles/types.js';
import type { BindingIndex, ProfileNames } from './binding.js';

/** What admission reads: in-memory views kept by informers, per namespace. Never a call to the API server. */
export interface AdmissionState {
  synced(): boolean;
  bindings(namespace: string): BindingIndex;
  /** Sorted by name, terminating ones left out. */
  recordings(namespace: string): readonly ProfileRecording[];
  profiles(namespace: string): ProfileNames;
}
