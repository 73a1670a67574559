import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { type Issue, joinPath } from './issues.js';
import {
  DNS1123_SUBDOMAIN,
  ProfileBindingSchema,
  ProfileRecordingSchema,
  RawSeccompProfileSchema,
  SeccompProfileSchema,
  SYSCALL_NAME,
} from './schema.js';
import { isKnownSyscall } from './syscalls/index.js';
import type { RawSeccompProfile, SeccompProfile, SeccompProfileSpec, SyscallRule } from './types.js';

export interface ValidationResult {
  readonly errors: Issue[];
  readonly warnings: Issue[];
}

const MAX_REPORTED = 50;

const PATTERN_TEXT: Readonly<Record<string, string>> = {
  [DNS1123_SUBDOMAIN]: 'must be a DNS-1123 name: lower-case letters, digits, "-" and "."',
  [SYSCALL_NAME]: 'must be a syscall name: lower-case letters, digits and "_"',
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$': 'must be a DNS-1123 label: lower-case letters, digits and "-"',
};

// ajv is built once per process: compiling the schemas is the expensive part and the result is immutable.
let compiled:
  | {
      seccompProfile: ValidateFunction;
      profileBinding: ValidateFunction;
      profileRecording: ValidateFunction;
      raw: ValidateFunction;
    }
  | undefined;

function validators() {
  if (compiled === undefined) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
    for (const keyword of ['x-kubernetes-list-type', 'x-kubernetes-list-map-keys']) ajv.addKeyword(keyword);
    ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    const compile = (schema: TSchema) => ajv.compile(schema);
    compiled = {
      seccompProfile: compile(SeccompProfileSchema),
      profileBinding: compile(ProfileBindingSchema),
      profileRecording: compile(ProfileRecordingSchema),
      raw: compile(RawSeccompProfileSchema),
    };
  }
  return compiled;
}

function pointerToPath(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = joinPath(path, /^\d+$/.test(segment) ? Number(segment) : segment);
  }
  return path;
}

function toIssue(err: ErrorObject): Issue {
  const path = pointerToPath(err.instancePath);
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required':
      return { path: joinPath(path, String(params['missingProperty'])), message: 'is required' };
    case 'additionalProperties':
      return { path: joinPath(path, String(params['additionalProperty'])), message: 'unknown field' };
    case 'enum':
      return { path, message: `must be one of ${(params['allowedValues'] as unknown[]).join(', ')}` };
    case 'pattern':
      return {
        path,
        message: PATTERN_TEXT[String(params['pattern'])] ?? `must match ${String(params['pattern'])}`,
      };
    default:
      return { path, message: err.message ?? `fails ${err.keyword}` };
  }
}

function schemaIssues(validate: ValidateFunction, value: unknown): Issue[] {
  if (validate(value)) return [];
  const seen = new Set<string>();
  const issues: Issue[] = [];
  for (const err of validate.errors ?? []) {
    const issue = toIssue(err);
    const key = `${issue.path}\0${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
    if (issues.length >= MAX_REPORTED) break;
  }
  return issues;
}

/** Checks the schema cannot express: conflicting rules, errnoRet on actions that ignore it, unknown names. */
function ruleIssues(syscalls: readonly SyscallRule[] | undefined, base: string): ValidationResult {
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  const unconditional = new Map<string, { action: string; at: string }>();
  (syscalls ?? []).forEach((rule, i) => {
    const at = joinPath(base, i);
    if (rule.errnoRet !== undefined && rule.action !== 'SCMP_ACT_ERRNO' && rule.action !== 'SCMP_ACT_TRACE') {
      errors.push({
        path: joinPath(at, 'errnoRet'),
        message: `only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not ${rule.action}`,
      });
    }
    rule.names.forEach((name, j) => {
      if (!isKnownSyscall(name)) {
        warnings.push({ path: joinPath(joinPath(at, 'names'), j), message: `unknown syscall "${name}"` });
      }
      if (rule.args !== undefined && rule.args.length > 0) return;
      const earlier = unconditional.get(name);
      if (earlier === undefined) {
        unconditional.set(name, { action: rule.action, at });
      } else if (earlier.action !== rule.action) {
        errors.push({
          path: joinPath(joinPath(at, 'names'), j),
          message: `"${name}" already has action ${earlier.action} in ${earlier.at}`,
        });
      }
    });
  });
  return { errors, warnings };
}

function specIssues(spec: SeccompProfileSpec | RawSeccompProfile, base: string): ValidationResult {
  return ruleIssues(spec.syscalls, joinPath(base, 'syscalls'));
}

export function validateSeccompProfile(value: unknown): ValidationResult {
  const errors = schemaIssues(validators().seccompProfile, value);
  if (errors.length > 0) return { errors, warnings: [] };
  return specIssues((value as SeccompProfile).spec, 'spec');
}

export function validateRawProfile(value: unknown): ValidationResult {
  const errors = schemaIssues(validators().raw, value);
  if (errors.length > 0) return { errors, warnings: [] };
  return specIssues(value as RawSeccompProfile, '');
}

export function validateProfileBinding(value: unknown): ValidationResult {
  return { errors: schemaIssues(validators().profileBinding, value), warnings: [] };
}

export function validateProfileRecording(value: unknown): ValidationResult {
  return { errors: schemaIssues(validators().profileRecording, value), warnings: [] };
}
