import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
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
export function eventEmitter(kc: KubeConfig, component: string, nodeName: string, log: Logger): EmitEvent {
  const api = kc.makeApiClient(CoreV1Api);
  return (obj, type, reason, message) => {
    const now = new Date();
    void api
      .createNamespacedEvent({
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
