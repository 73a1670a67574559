import { createHash } from 'node:crypto';
import { type KubeClient, statusOf } from '../k8s/rest/index.js';
import { API_GROUP, NODE_STATUS_API_VERSION } from '../profiles/api-names.js';
import type { ProfileState, SeccompProfile } from '../profiles/types.js';
import type { NodeStatusSink } from './profile-sync.js';

export const NODE_STATUS_PLURAL = 'securityprofilenodestatuses';

/** `<profile>-<node>`, shortened with a hash when it would pass the 253-character name limit. */
export function nodeStatusName(profile: string, node: string): string {
  const name = `${profile}-${node}`;
  if (name.length <= 253) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return `${name.slice(0, 253 - 17).replace(/[-.]+$/, '')}-${hash}`;
}

/**
 * Writes this node's SecurityProfileNodeStatus objects. Each is owned by its profile, so the garbage collector
 * removes it with the profile; writes are skipped when nothing changed, so resyncs cost no API calls.
 */
export class NodeStatusWriter implements NodeStatusSink {
  private readonly written = new Map<string, string>();

  constructor(
    private readonly api: Pick<KubeClient, 'create' | 'get' | 'replace'>,
    private readonly nodeName: string,
  ) {}

  async report(profile: SeccompProfile, state: ProfileState, message?: string): Promise<void> {
    const namespace = profile.metadata.namespace ?? 'default';
    const name = nodeStatusName(profile.metadata.name, this.nodeName);
    const generation = (profile.metadata as { generation?: number }).generation;
    // The uid matters: a profile deleted and created again under the same name needs its status object again.
    const fingerprint = JSON.stringify([
      state,
      message ?? '',
      generation,
      (profile.metadata as { uid?: string }).uid,
    ]);
    const key = `${namespace}/${name}`;
    if (this.written.get(key) === fingerprint) return;
    const uid = (profile.metadata as { uid?: string }).uid;
    const body = {
      apiVersion: NODE_STATUS_API_VERSION,
      kind: 'SecurityProfileNodeStatus',
      metadata: {
        name,
        namespace,
        labels: { 'spo.x-k8s.io/node-status-for': 'SeccompProfile' },
        ...(uid !== undefined
          ? {
              ownerReferences: [
                {
                  apiVersion: profile.apiVersion,
                  kind: 'SeccompProfile',
                  name: profile.metadata.name,
                  uid,
                  blockOwnerDeletion: false,
                },
              ],
            }
          : {}),
      },
      nodeName: this.nodeName,
      profileName: profile.metadata.name,
      status: state,
      ...(message !== undefined ? { message } : {}),
      ...(generation !== undefined ? { profileGeneration: generation } : {}),
    };
    const target = { group: API_GROUP, version: 'v1alpha1', namespace, plural: NODE_STATUS_PLURAL };
    try {
      await this.api.create({ ...target, body });
    } catch (e) {
      if (statusOf(e) !== 409) throw e;
      const current = await this.api.get<{ metadata: { resourceVersion: string } }>({ ...target, name });
      await this.api.replace({
        ...target,
        name,
        body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } },
      });
    }
    this.written.set(key, fingerprint);
  }
}
