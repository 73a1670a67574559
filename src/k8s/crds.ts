import type { TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import {
  API_GROUP,
  NodeStatusFieldsSchema,
  ProfileBindingSpecSchema,
  ProfileRecordingSpecSchema,
  SeccompProfileSpecSchema,
  SeccompProfileStatusSchema,
  SpodSpecSchema,
  SpodStatusSchema,
} from '../profiles/schema.js';

type JsonSchema = { [key: string]: unknown };

/**
 * Turns a TypeBox schema into a structural openAPI v3 schema the apiserver accepts: the apiserver rejects
 * `additionalProperties` next to `properties` and has no `patternProperties`, so string maps become
 * `additionalProperties: {type: string}` and closed objects rely on the apiserver's pruning instead.
 */
export function toStructural(schema: TSchema | JsonSchema): JsonSchema {
  const plain = JSON.parse(JSON.stringify(schema)) as JsonSchema;
  return convert(plain);
}

function convert(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'patternProperties') {
      const [only] = Object.values(value as Record<string, JsonSchema>);
      if (only !== undefined) out['additionalProperties'] = convert(only);
      continue;
    }
    if (key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, convert(v)]),
      );
    } else if (key === 'items' && typeof value === 'object' && value !== null) {
      out[key] = convert(value as JsonSchema);
    } else {
      out[key] = value;
    }
  }
  return out;
}

interface Column {
  readonly name: string;
  readonly type: string;
  readonly jsonPath: string;
  readonly priority?: number;
  readonly description?: string;
}

interface CrdInput {
  readonly kind: string;
  readonly plural: string;
  readonly shortNames?: readonly string[];
  readonly version: string;
  readonly columns: readonly Column[];
  /** The object's own fields besides apiVersion/kind/metadata: spec and status, or top-level fields. */
  readonly fields: Record<string, TSchema | JsonSchema>;
  readonly required: readonly string[];
  readonly statusSubresource: boolean;
}

const AGE: Column = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

function crd(input: CrdInput) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${input.plural}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      names: {
        kind: input.kind,
        listKind: `${input.kind}List`,
        plural: input.plural,
        singular: input.kind.toLowerCase(),
        ...(input.shortNames !== undefined ? { shortNames: [...input.shortNames] } : {}),
        categories: ['security'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: input.version,
          served: true,
          storage: true,
          ...(input.statusSubresource ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: input.columns.map((c) => ({ ...c })),
          schema: {
            openAPIV3Schema: {
              type: 'object',
              ...(input.required.length > 0 ? { required: [...input.required] } : {}),
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                ...Object.fromEntries(Object.entries(input.fields).map(([k, v]) => [k, toStructural(v)])),
              },
            },
          },
        },
      ],
    },
  };
}

const activeWorkloads: JsonSchema = {
  type: 'object',
  properties: {
    activeWorkloads: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
  },
};

/** The CustomResourceDefinitions, generated from the same schemas that validate documents. */
export function customResourceDefinitions() {
  return [
    crd({
      kind: 'SeccompProfile',
      plural: 'seccompprofiles',
      shortNames: ['sp'],
      version: 'v1beta1',
      fields: { spec: SeccompProfileSpecSchema, status: SeccompProfileStatusSchema },
      required: ['spec'],
      statusSubresource: true,
      columns: [
        { name: 'Status', type: 'string', jsonPath: '.status.status' },
        AGE,
        { name: 'LocalhostProfile', type: 'string', jsonPath: '.status.localhostProfile', priority: 10 },
      ],
    }),
    crd({
      kind: 'ProfileBinding',
      plural: 'profilebindings',
      shortNames: ['pb'],
      version: 'v1alpha1',
      fields: { spec: ProfileBindingSpecSchema, status: activeWorkloads },
      required: ['spec'],
      statusSubresource: true,
      columns: [
        { name: 'Profile', type: 'string', jsonPath: '.spec.profileRef.name' },
        { name: 'Image', type: 'string', jsonPath: '.spec.image' },
        AGE,
      ],
    }),
    crd({
      kind: 'ProfileRecording',
      plural: 'profilerecordings',
      shortNames: ['prec'],
      version: 'v1alpha1',
      fields: { spec: ProfileRecordingSpecSchema, status: activeWorkloads },
      required: ['spec'],
      statusSubresource: true,
      columns: [
        { name: 'Recorder', type: 'string', jsonPath: '.spec.recorder' },
        { name: 'Kind', type: 'string', jsonPath: '.spec.kind' },
        AGE,
        { name: 'PodSelector', type: 'string', jsonPath: '.spec.podSelector', priority: 10 },
      ],
    }),
    crd({
      kind: 'SecurityProfileNodeStatus',
      plural: 'securityprofilenodestatuses',
      shortNames: ['spns'],
      version: 'v1alpha1',
      fields: Type.Object(NodeStatusFieldsSchema).properties,
      required: ['nodeName', 'profileName', 'status'],
      statusSubresource: false,
      columns: [
        { name: 'Profile', type: 'string', jsonPath: '.profileName' },
        { name: 'Node', type: 'string', jsonPath: '.nodeName' },
        { name: 'Status', type: 'string', jsonPath: '.status' },
        AGE,
      ],
    }),
    crd({
      kind: 'SecurityProfilesOperatorDaemon',
      plural: 'securityprofilesoperatordaemons',
      shortNames: ['spod'],
      version: 'v1alpha1',
      fields: { spec: SpodSpecSchema, status: SpodStatusSchema },
      required: [],
      statusSubresource: true,
      columns: [
        { name: 'State', type: 'string', jsonPath: '.status.state' },
        AGE,
        { name: 'Verbosity', type: 'integer', jsonPath: '.spec.verbosity', priority: 10 },
        { name: 'BpfRecorder', type: 'boolean', jsonPath: '.spec.enableBpfRecorder', priority: 10 },
        { name: 'LogEnricher', type: 'boolean', jsonPath: '.spec.enableLogEnricher', priority: 10 },
        { name: 'Profiling', type: 'boolean', jsonPath: '.spec.enableProfiling', priority: 10 },
      ],
    }),
  ];
}
