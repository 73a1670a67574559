import { parseAllDocuments, stringify } from 'yaml';
import { AppError } from '../errors.js';
import { rawToSpec, seccompProfileResource, specToRaw } from './convert.js';
import { formatIssue, type Issue } from './issues.js';
import type { ProfileBinding, ProfileRecording, RawSeccompProfile, SeccompProfile } from './types.js';
import {
  type ValidationResult,
  validateProfileBinding,
  validateProfileRecording,
  validateRawProfile,
  validateSeccompProfile,
} from './validate.js';

/** Profiles are small; anything near this is not a profile, and refusing it early bounds memory. */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;
// YAML aliases can expand exponentially ("billion laughs"); a profile never needs more than a handful.
const MAX_ALIASES = 50;

/** A document that failed to read or validate; `issues` locate each problem by field path. */
export class DocumentError extends AppError {
  readonly source: string;
  readonly issues: readonly Issue[];

  constructor(code: 'ERR_INPUT_PARSE' | 'ERR_INVALID_PROFILE', source: string, issues: readonly Issue[]) {
    super(code, issues.map((i) => `${source}: ${formatIssue(i)}`).join('\n'));
    this.name = 'DocumentError';
    this.source = source;
    this.issues = issues;
  }
}

function parseError(source: string, message: string): DocumentError {
  return new DocumentError('ERR_INPUT_PARSE', source, [{ path: '', message }]);
}

/** Decodes file bytes as UTF-8 text, refusing binary data and oversized input with a reason. */
export function decodeText(bytes: Uint8Array, source: string): string {
  if (bytes.length > MAX_DOCUMENT_BYTES) {
    throw parseError(
      source,
      `file is ${bytes.length} bytes; profiles are limited to ${MAX_DOCUMENT_BYTES} bytes`,
    );
  }
  if (bytes.includes(0)) throw parseError(source, 'binary data (NUL byte); expected YAML or JSON text');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw parseError(source, 'not UTF-8 text; expected YAML or JSON');
  }
}

/** Parses YAML or JSON text into plain values, one per document; empty documents are dropped. */
export function parseDocuments(text: string, source: string): unknown[] {
  if (text.length > MAX_DOCUMENT_BYTES) {
    throw parseError(source, `input is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  }
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  if (!Array.isArray(docs)) return [];
  const values: unknown[] = [];
  for (const doc of docs) {
    const [err] = doc.errors;
    if (err !== undefined) {
      throw parseError(source, (err.message.split('\n')[0] ?? err.message).replace(/:$/, ''));
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (e) {
      throw parseError(source, (e as Error).message);
    }
    if (value !== null && value !== undefined) values.push(value);
  }
  if (values.length === 0) throw parseError(source, 'no document found (the file is empty)');
  return values;
}

export type KnownDocument =
  | { readonly kind: 'SeccompProfile'; readonly value: SeccompProfile }
  | { readonly kind: 'ProfileBinding'; readonly value: ProfileBinding }
  | { readonly kind: 'ProfileRecording'; readonly value: ProfileRecording }
  | { readonly kind: 'raw'; readonly value: RawSeccompProfile };

export interface CheckedDocument {
  readonly document?: KnownDocument;
  readonly result: ValidationResult;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates one parsed document of any kind this project reads: the three resources, or raw seccomp JSON. */
export function checkDocument(value: unknown): CheckedDocument {
  if (!isObject(value)) {
    return { result: { errors: [{ path: '', message: 'expected a mapping (YAML object)' }], warnings: [] } };
  }
  if (value['kind'] === undefined && value['apiVersion'] === undefined && 'defaultAction' in value) {
    const result = validateRawProfile(value);
    return {
      result,
      ...(result.errors.length === 0 ? { document: { kind: 'raw', value: value as RawSeccompProfile } } : {}),
    };
  }
  const validators = {
    SeccompProfile: validateSeccompProfile,
    ProfileBinding: validateProfileBinding,
    ProfileRecording: validateProfileRecording,
  } as const;
  const kind = value['kind'];
  if (typeof kind !== 'string' || !(kind in validators)) {
    return {
      result: {
        errors: [
          {
            path: 'kind',
            message:
              'must be SeccompProfile, ProfileBinding or ProfileRecording (or omit apiVersion/kind for raw seccomp JSON with defaultAction)',
          },
        ],
        warnings: [],
      },
    };
  }
  const typed = kind as keyof typeof validators;
  const result = validators[typed](value);
  if (result.errors.length > 0) return { result };
  return { result, document: { kind: typed, value } as KnownDocument };
}

export interface ParsedProfile {
  readonly format: 'cr' | 'raw';
  readonly profile: SeccompProfile;
  readonly warnings: readonly Issue[];
}

/**
 * Reads one seccomp profile, either a SeccompProfile resource or raw OCI JSON.
 * Raw profiles get `name` (default "profile") so every profile can be handled as a resource.
 */
export function parseProfileText(text: string, source: string, name = 'profile'): ParsedProfile {
  const docs = parseDocuments(text, source);
  if (docs.length > 1) {
    throw parseError(source, `${docs.length} documents found; expected exactly one seccomp profile`);
  }
  const checked = checkDocument(docs[0]);
  const doc = checked.document;
  if (doc === undefined) throw new DocumentError('ERR_INVALID_PROFILE', source, checked.result.errors);
  if (doc.kind === 'raw') {
    let spec: ReturnType<typeof rawToSpec>;
    try {
      spec = rawToSpec(doc.value);
    } catch (e) {
      throw new DocumentError('ERR_INVALID_PROFILE', source, [{ path: '', message: (e as Error).message }]);
    }
    return {
      format: 'raw',
      profile: seccompProfileResource({ name }, spec),
      warnings: checked.result.warnings,
    };
  }
  if (doc.kind !== 'SeccompProfile') {
    throw new DocumentError('ERR_INVALID_PROFILE', source, [
      { path: 'kind', message: `is ${doc.kind}; expected a SeccompProfile or raw seccomp JSON` },
    ]);
  }
  return { format: 'cr', profile: doc.value, warnings: checked.result.warnings };
}

/** Serialises a profile: the resource as YAML (status dropped), or the runtime's raw JSON. */
export function renderProfile(profile: SeccompProfile, format: 'cr' | 'raw'): string {
  if (format === 'raw') return `${JSON.stringify(toRaw(profile), null, 2)}\n`;
  const { status: _status, ...resource } = profile;
  return stringify(resource, { lineWidth: 0 });
}

export function toRaw(profile: SeccompProfile): RawSeccompProfile {
  return specToRaw(profile.spec);
}
