import t from 'tap';
import { normalizeImage } from '../../../src/webhook/image.js';

const cases: Array<[string, string]> = [
  ['nginx', 'docker.io/library/nginx:latest'],
  ['nginx:1.19.1', 'docker.io/library/nginx:1.19.1'],
  ['library/nginx:1.19.1', 'docker.io/library/nginx:1.19.1'],
  ['docker.io/nginx', 'docker.io/library/nginx:latest'],
  ['index.docker.io/library/nginx:1.19.1', 'docker.io/library/nginx:1.19.1'],
  ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
  ['quay.io/org/app', 'quay.io/org/app:latest'],
  ['localhost/spo-test/busybox:1', 'localhost/spo-test/busybox:1'],
  ['localhost:5000/app', 'localhost:5000/app:latest'],
  ['registry.local:5000/team/app:v2', 'registry.local:5000/team/app:v2'],
  ['nginx@sha256:abc', 'docker.io/library/nginx@sha256:abc'],
  ['nginx:1.19@sha256:abc', 'docker.io/library/nginx@sha256:abc'],
  ['  nginx:1.19.1  ', 'docker.io/library/nginx:1.19.1'],
  ['', ''],
  ['not an image', 'not an image'],
];

for (const [input, want] of cases) {
  t.equal(normalizeImage(input), want, JSON.stringify(input));
}
t.equal(normalizeImage(normalizeImage('nginx')), normalizeImage('nginx'), 'normalising is idempotent');
