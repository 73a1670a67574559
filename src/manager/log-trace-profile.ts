import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { statusOf } from '../k8s/client.js';
import { SECCOMP_PROFILES } from '../k8s/resources.js';
import { SECCOMP_PROFILE_API_VERSION } from '../profiles/schema.js';
import { LOG_ENRICHER_PROFILE } from '../webhook/recording.js';

/**
 * The profile `recorder: logs` recordings run under: everything allowed and logged, so the kernel writes one
 * audit line per syscall for the enricher. It lives in the operator's own namespace, at the path the recording
 * webhook points containers at (operator/<operator-namespace>/log-enricher-trace.json).
 */
export async function ensureLogTraceProfile(kc: KubeConfig, namespace: string, log: Logger): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  try {
    await api.createNamespacedCustomObject({
      ...SECCOMP_PROFILES,
      namespace,
      body: {
        apiVersion: SECCOMP_PROFILE_API_VERSION,
        kind: 'SeccompProfile',
        metadata: {
          name: LOG_ENRICHER_PROFILE,
          namespace,
          labels: { 'app.kubernetes.io/part-of': 'seccomp-profiles-operator' },
        },
        spec: { defaultAction: 'SCMP_ACT_LOG' },
      },
    });
    log.info({ namespace, name: LOG_ENRICHER_PROFILE }, 'log trace profile created');
  } catch (e) {
    if (statusOf(e) !== 409) throw e;
  }
}
