import { createHash } from 'node:crypto';
import type { KubeClient } from '../k8s/rest/index.js';

export type AuthDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly status: 401 | 403; readonly reason: string };

export interface MetricsAuthorizer {
  check(authorization: string | undefined, path: string): Promise<AuthDecision>;
}

const CACHE_MS = 60_000;

/**
 * Guards /metrics the way kube-rbac-proxy does, without the sidecar: the bearer token is authenticated with a
 * TokenReview and the caller must be allowed `get` on the non-resource URL (ClusterRole spo-metrics-client).
 * Answers are cached for a minute per token so a scrape every few seconds costs no API calls.
 */
export class TokenReviewAuthorizer implements MetricsAuthorizer {
  private readonly cache = new Map<string, { decision: AuthDecision; until: number }>();

  constructor(private readonly api: Pick<KubeClient, 'createTokenReview' | 'createSubjectAccessReview'>) {}

  async check(authorization: string | undefined, path: string): Promise<AuthDecision> {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (token === undefined) return { allowed: false, status: 401, reason: 'missing bearer token' };
    const key = `${createHash('sha256').update(token).digest('hex')} ${path}`;
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.until > Date.now()) return hit.decision;
    const decision = await this.decide(token, path);
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(key, { decision, until: Date.now() + CACHE_MS });
    return decision;
  }

  private async decide(token: string, path: string): Promise<AuthDecision> {
    const review = await this.api.createTokenReview({ body: { spec: { token } } });
    const user = review.status?.user;
    if (review.status?.authenticated !== true || user === undefined) {
      return { allowed: false, status: 401, reason: 'token not authenticated' };
    }
    const access = await this.api.createSubjectAccessReview({
      body: {
        spec: {
          user: user.username,
          groups: user.groups,
          uid: user.uid,
          extra: user.extra,
          nonResourceAttributes: { path, verb: 'get' },
        },
      },
    });
    if (access.status?.allowed !== true) {
      return { allowed: false, status: 403, reason: `${user.username} may not get ${path}` };
    }
    return { allowed: true };
  }
}
