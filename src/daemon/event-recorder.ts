import type { KubeClient } from '../k8s/rest/index.js';
import type { Logger } from 'pino';
import type { SeccompProfile } from '../profiles/types.js';
import type { EventSink } from './profile-sync.js';

/** Kubernetes Events on the profile, so `kubectl describe sp` tells what each node did. Never blocks the sync. */
export class EventRecorder implements EventSink {
  constructor(
    private readonly api: Pick<KubeClient, 'createEvent'>,
    private readonly component: string,
    private readonly nodeName: string,
    private readonly log: Logger,
  ) {}

  emit(profile: SeccompProfile, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const namespace = profile.metadata.namespace ?? 'default';
    const now = new Date();
    void this.api
      .createEvent({
        namespace,
        body: {
          metadata: { generateName: `${profile.metadata.name}.`, namespace },
          involvedObject: {
            apiVersion: profile.apiVersion,
            kind: 'SeccompProfile',
            name: profile.metadata.name,
            namespace,
            uid: (profile.metadata as { uid?: string }).uid,
          },
          type,
          reason,
          message,
          source: { component: this.component, host: this.nodeName },
          reportingComponent: this.component,
          reportingInstance: this.nodeName,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      })
      .catch((err: unknown) =>
        this.log.warn({ err, reason, name: profile.metadata.name }, 'cannot record event'),
      );
  }
}
