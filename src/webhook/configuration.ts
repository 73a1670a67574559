import { ENABLE_BINDING_LABEL, ENABLE_RECORDING_LABEL, SYSTEM_NAMESPACES } from '../manager/opt-in.js';
import { BINDING_PATH, RECORDING_PATH } from './paths.js';

export const WEBHOOK_CONFIGURATION_NAME = 'spo-mutating-webhook-configuration';
export const BINDING_WEBHOOK_NAME = 'binding.spo.io';
export const RECORDING_WEBHOOK_NAME = 'recording.spo.io';
export const WEBHOOK_SERVICE_NAME = 'webhook-service';

/** Pod labels of the operator's own workloads; single-namespace mode keeps them out of its webhooks. */
export const OPERATOR_POD_NAMES = ['spo-webhook', 'spo-manager', 'spod'] as const;

export type WebhookTarget =
  | { readonly service: { readonly namespace: string; readonly name: string; readonly port: number } }
  | { readonly url: string };

export interface WebhookConfigurationOptions {
  /**
   * Single-namespace mode: select this namespace by name (no opt-in label, since the manager labels nothing)
   * and skip the operator's own pods, which then live there too. The configuration is named after the
   * namespace, so several such installs (and a cluster-wide one) live side by side.
   */
  readonly watchNamespace?: string | undefined;
}

/** The configuration's name: one per install, so a single-namespace install never touches another's. */
export function webhookConfigurationName(watchNamespace?: string): string {
  return watchNamespace === undefined
    ? WEBHOOK_CONFIGURATION_NAME
    : `${WEBHOOK_CONFIGURATION_NAME}-${watchNamespace}`;
}

/**
 * The MutatingWebhookConfiguration: in-cluster it targets the Service, in local runs a URL. Kept as code so
 * the manifest and the local cluster cannot drift (a unit test compares them).
 */
export function webhookConfiguration(
  target: WebhookTarget,
  operatorNamespace: string,
  caBundle?: string,
  options: WebhookConfigurationOptions = {},
) {
  const { watchNamespace } = options;
  const clientConfig = (path: string) => ({
    ...('url' in target ? { url: `${target.url}${path}` } : { service: { ...target.service, path } }),
    ...(caBundle ? { caBundle } : {}),
  });
  const entry = (
    name: string,
    path: string,
    label: string,
    failurePolicy: 'Fail' | 'Ignore',
    reinvocationPolicy: 'IfNeeded' | 'Never',
    leaveTo?: string,
  ) => ({
    name,
    admissionReviewVersions: ['v1'],
    clientConfig: clientConfig(path),
    rules: [
      {
        apiGroups: [''],
        apiVersions: ['v1'],
        operations: ['CREATE'],
        resources: ['pods'],
        scope: 'Namespaced',
      },
    ],
    failurePolicy,
    matchPolicy: 'Equivalent',
    sideEffects: 'None',
    timeoutSeconds: 5,
    reinvocationPolicy,
    ...(watchNamespace === undefined
      ? {
          namespaceSelector: {
            matchExpressions: [
              { key: label, operator: 'Exists' },
              ...(leaveTo !== undefined ? [{ key: leaveTo, operator: 'DoesNotExist' }] : []),
              {
                key: 'kubernetes.io/metadata.name',
                operator: 'NotIn',
                values: [...SYSTEM_NAMESPACES, operatorNamespace],
              },
            ],
          },
        }
      : {
          namespaceSelector: {
            matchExpressions: [
              { key: 'kubernetes.io/metadata.name', operator: 'In', values: [watchNamespace] },
            ],
          },
          // The operator's own pods must be creatable while no webhook answers (binding fails closed).
          objectSelector: {
            matchExpressions: [
              { key: 'app.kubernetes.io/name', operator: 'NotIn', values: [...OPERATOR_POD_NAMES] },
            ],
          },
        }),
  });
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: webhookConfigurationName(watchNamespace),
      labels: { 'app.kubernetes.io/name': 'seccomp-profiles-operator' },
    },
    webhooks: [
      // Recording first, binding last: binding reads the recording's logs annotation, and as the last of our
      // webhooks only it needs reinvocation (for containers a later webhook, e.g. a sidecar injector, adds).
      // Recording with IfNeeded would be called a third time after every bound pod: +~4 ms per create.
      // Namespaces that bind as well are left to the binding webhook, which records there too
      // (recorded-then-bound.ts): one call per pod instead of two. Single-namespace mode selects by name, so
      // both are called there; the second pass is idempotent.
      entry(
        RECORDING_WEBHOOK_NAME,
        RECORDING_PATH,
        ENABLE_RECORDING_LABEL,
        'Ignore',
        'Never',
        ENABLE_BINDING_LABEL,
      ),
      entry(BINDING_WEBHOOK_NAME, BINDING_PATH, ENABLE_BINDING_LABEL, 'Fail', 'IfNeeded'),
    ],
  };
}
