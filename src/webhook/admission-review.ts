import type { Decision } from './decision.js';
import { isObject, type Pod } from './pod.js';

export const ADMISSION_API_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;

export interface AdmissionRequest {
  readonly apiVersion: string;
  readonly uid: string;
  readonly operation: string;
  readonly namespace: string;
  readonly name: string;
  readonly kind: { group: string; version: string; kind: string };
  readonly subResource: string;
  readonly object: unknown;
}

export type ParsedReview = { ok: true; request: AdmissionRequest } | { ok: false; reason: string };

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Checks the AdmissionReview envelope; a review we cannot answer (no request, no uid) is a bad request. */
export function parseReview(body: unknown): ParsedReview {
  if (!isObject(body)) return { ok: false, reason: 'body is not a JSON object' };
  const apiVersion = body['apiVersion'];
  if (typeof apiVersion !== 'string' || !(ADMISSION_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    return { ok: false, reason: `apiVersion must be one of ${ADMISSION_API_VERSIONS.join(', ')}` };
  }
  if (body['kind'] !== 'AdmissionReview') return { ok: false, reason: 'kind must be AdmissionReview' };
  const request = body['request'];
  if (!isObject(request)) return { ok: false, reason: 'request is missing' };
  const uid = request['uid'];
  if (typeof uid !== 'string' || uid === '') return { ok: false, reason: 'request.uid is missing' };
  const kind = isObject(request['kind']) ? request['kind'] : {};
  return {
    ok: true,
    request: {
      apiVersion,
      uid,
      operation: str(request['operation']),
      namespace: str(request['namespace']),
      name: str(request['name']),
      kind: { group: str(kind['group']), version: str(kind['version']), kind: str(kind['kind']) },
      subResource: str(request['subResource']),
      object: request['object'],
    },
  };
}

/** A pod being created, or why this request is passed through unchanged. */
export function podToMutate(request: AdmissionRequest): { pod: Pod } | { skip: string } {
  const { kind } = request;
  if (kind.group !== '' || kind.kind !== 'Pod') {
    return { skip: `not a pod: ${kind.group ? `${kind.group}/` : ''}${kind.kind || 'unknown kind'}` };
  }
  if (request.subResource !== '') return { skip: `pod subresource ${request.subResource}` };
  if (request.operation !== 'CREATE') return { skip: `operation ${request.operation || 'unknown'}` };
  if (!isObject(request.object)) return { skip: 'request.object is not a pod' };
  return { pod: request.object as Pod };
}

export interface AdmissionResponseBody {
  apiVersion: string;
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: boolean;
    patchType?: 'JSONPatch';
    patch?: string;
    warnings?: string[];
    status?: { code?: number; message: string };
  };
}

// The apiserver truncates longer warnings; keep them readable in kubectl output.
const MAX_WARNING = 250;
const MAX_WARNINGS = 20;

function warningsOf(decision: Pick<Decision, 'warnings'>): string[] | undefined {
  if (decision.warnings.length === 0) return undefined;
  return decision.warnings
    .slice(0, MAX_WARNINGS)
    .map((w) => (w.length > MAX_WARNING ? `${w.slice(0, MAX_WARNING - 1)}…` : w));
}

export function allowResponse(
  apiVersion: string,
  uid: string,
  decision: Pick<Decision, 'patch' | 'warnings'>,
  message?: string,
): AdmissionResponseBody {
  const response: AdmissionResponseBody['response'] = { uid, allowed: true };
  if (decision.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
  }
  const warnings = warningsOf(decision);
  if (warnings) response.warnings = warnings;
  if (message !== undefined) response.status = { code: 200, message };
  return { apiVersion, kind: 'AdmissionReview', response };
}

export function denyResponse(
  apiVersion: string,
  uid: string,
  code: number,
  message: string,
): AdmissionResponseBody {
  return {
    apiVersion,
    kind: 'AdmissionReview',
    response: { uid, allowed: false, status: { code, message } },
  };
}
