// Test images made here, not pulled: a rootfs directory becomes one
// uncompressed layer in an OCI image layout tarball, imported into the
// `k8s.io` containerd namespace under a stable name the CRI plugin resolves.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CriClient } from './cri.js';
import { images, paths, repoRoot } from './layout.js';

interface ImageSpec {
  name: string;
  /** Files whose content decides the image: unchanged inputs reuse the last tarball. */
  inputs: () => string[];
  /** Fills the rootfs directory. */
  populate(rootfs: string): void;
  entrypoint: string[];
  cmd?: string[];
}

const imagesSrc = join(repoRoot, 'test/images');

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

function ccStatic(source: string, out: string): void {
  run('gcc', ['-static', '-Os', '-s', '-Wall', '-Wextra', '-o', out, join(imagesSrc, source)]);
}

function baseDirs(rootfs: string): void {
  for (const d of ['etc', 'tmp', 'proc', 'sys', 'dev']) mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  writeFileSync(
    join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  );
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
}

/** True for a 64-bit little-endian ELF without a PT_INTERP header, i.e. one that needs no dynamic loader. */
function isStaticElf(path: string): boolean {
  const elf = readFileSync(path);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    if (elf.readUInt32LE(phoff + i * phentsize) === 3) return false;
  }
  return true;
}

function busyboxBinary(): string {
  for (const candidate of ['/bin/busybox', '/usr/bin/busybox']) {
    // Debian's dynamic `busybox` package would not run in an empty rootfs.
    if (existsSync(candidate) && isStaticElf(candidate)) return candidate;
  }
  throw new Error('a static busybox is required: apt-get install busybox-static');
}

const specs: ImageSpec[] = [
  {
    name: images.busybox,
    inputs: () => [busyboxBinary()],
    populate(rootfs) {
      baseDirs(rootfs);
      mkdirSync(join(rootfs, 'bin'), { recursive: true });
      const bb = busyboxBinary();
      copyFileSync(bb, join(rootfs, 'bin/busybox'));
      chmodSync(join(rootfs, 'bin/busybox'), 0o755);
      for (const applet of run(bb, ['--list']).split('\n').filter(Boolean)) {
        if (applet !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', applet));
      }
    },
    entrypoint: [],
    cmd: ['/bin/sh'],
  },
  {
    name: images.pause,
    inputs: () => [join(imagesSrc, 'pause.c')],
    populate(rootfs) {
      baseDirs(rootfs);
      ccStatic('pause.c', join(rootfs, 'pause'));
    },
    entrypoint: ['/pause'],
  },
  {
    name: images.demo,
    inputs: () => [join(imagesSrc, 'demo.c')],
    populate(rootfs) {
      baseDirs(rootfs);
      ccStatic('demo.c', join(rootfs, 'demo'));
    },
    entrypoint: ['/demo'],
    cmd: ['pause'],
  },
];

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function goArch(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' };
  const arch = map[process.arch];
  if (!arch) throw new Error(`unsupported architecture ${process.arch}`);
  return arch;
}

export interface BuiltImage {
  name: string;
  tarball: string;
  /** The config digest: what CRI reports as the image id. */
  id: string;
}

/** Builds one image's OCI layout tarball under `.dev/images/`, unless its inputs are unchanged since the last build. */
function build(spec: ImageSpec): BuiltImage {
  const slug = spec.name.replace(/[^a-z0-9]+/gi, '-');
  const hash = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url)));
  for (const input of spec.inputs()) hash.update(input).update(readFileSync(input));
  const key = hash.digest('hex');
  const stamp = join(paths.imagesOut, `${slug}.json`);
  if (existsSync(stamp)) {
    const last = JSON.parse(readFileSync(stamp, 'utf8')) as BuiltImage & { key: string };
    if (last.key === key && existsSync(last.tarball))
      return { name: last.name, tarball: last.tarball, id: last.id };
  }
  const image = buildTarball(spec, slug);
  writeFileSync(stamp, JSON.stringify({ ...image, key }));
  return image;
}

function buildTarball(spec: ImageSpec, slug: string): BuiltImage {
  const work = join(paths.imagesOut, slug);
  rmSync(work, { recursive: true, force: true });
  const rootfs = join(work, 'rootfs');
  const layout = join(work, 'layout');
  const blobs = join(layout, 'blobs/sha256');
  mkdirSync(rootfs, { recursive: true });
  mkdirSync(blobs, { recursive: true });
  spec.populate(rootfs);

  // Fixed owner and mtime: the same inputs give the same digests, so re-imports are skipped.
  const layerPath = join(work, 'layer.tar');
  run('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-C',
    rootfs,
    '-cf',
    layerPath,
    '.',
  ]);
  const layer = readFileSync(layerPath);
  const layerDigest = sha256(layer);
  const blob = (data: Buffer | string) => {
    const digest = sha256(data);
    writeFileSync(join(blobs, digest.slice('sha256:'.length)), data);
    return { digest, size: Buffer.byteLength(data) };
  };
  blob(layer);

  const config = JSON.stringify({
    architecture: goArch(),
    os: 'linux',
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Entrypoint: spec.entrypoint.length ? spec.entrypoint : undefined,
      Cmd: spec.cmd,
      WorkingDir: '/',
    },
    rootfs: { type: 'layers', diff_ids: [layerDigest] },
  });
  const configDesc = blob(config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configDesc },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length },
    ],
  });
  const manifestDesc = blob(manifest);
  const tag = spec.name.slice(spec.name.lastIndexOf(':') + 1);
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifestDesc,
          platform: { architecture: goArch(), os: 'linux' },
          annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  const tarball = join(paths.imagesOut, `${slug}.oci.tar`);
  run('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-C',
    layout,
    '-cf',
    tarball,
    '.',
  ]);
  rmSync(work, { recursive: true, force: true });
  return { name: spec.name, tarball, id: configDesc.digest };
}

/** Builds all test images and imports those containerd does not already hold at the same id. */
export async function ensureImages(cri: CriClient, containerdSocket: string): Promise<BuiltImage[]> {
  mkdirSync(paths.imagesOut, { recursive: true });
  const present = await cri.listImages();
  const built: BuiltImage[] = [];
  for (const spec of specs) {
    const image = build(spec);
    built.push(image);
    if (present.some((p) => p.id === image.id && p.repoTags.includes(image.name))) continue;
    run('ctr', ['--address', containerdSocket, '--namespace', 'k8s.io', 'images', 'import', image.tarball]);
  }
  return built;
}
