import type { KubeClient } from '../k8s/rest/index.js';
import type { Logger } from 'pino';

export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid?: string;
}

export type EmitEvent = (
  obj: InvolvedObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
) => void;

/** Events on any object (the pod being recorded, the profile made from it); never blocks the caller. */
export function eventEmitter(
  api: Pick<KubeClient, 'createEvent'>,
  component: string,
  nodeName: string,
  log: Logger,
): EmitEvent {
  return (obj, type, reason, message) => {
    const now = new Date();
    void api
      .createEvent({
        namespace: obj.namespace,
        body: {
          metadata: { generateName: `${obj.name}.`, namespace: obj.namespace },
          involvedObject: { ...obj },
          type,
          reason,
          message,
          source: { component, host: nodeName },
          reportingComponent: component,
          reportingInstance: nodeName,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      })
      .catch((err: unknown) => log.warn({ err, reason, name: obj.name }, 'cannot record event'));
  };
}
