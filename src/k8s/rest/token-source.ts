import { readFile } from 'node:fs/promises';
import { AppError } from '../../errors.js';

export type TokenSource = () => Promise<string>;

const REFRESH_MS = 60_000;

/**
 * A bearer token kept in a file and read again once a minute: projected ServiceAccount tokens are rotated by
 * the kubelet (hourly by default) and the old one stops working. A failed re-read keeps the last good token,
 * so a moment of kubelet churn does not fail requests; the first read must succeed.
 */
export async function fileTokenSource(
  path: string,
  refreshMs = REFRESH_MS,
  now = Date.now,
): Promise<TokenSource> {
  const read = async () => (await readFile(path, 'utf8')).trim();
  let token: string;
  try {
    token = await read();
  } catch (e) {
    throw new AppError('ERR_CONFIG', `cannot read token file ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (token === '') throw new AppError('ERR_CONFIG', `token file ${path} is empty`);
  let readAt = now();
  let pending: Promise<string> | undefined;
  return () => {
    if (now() - readAt < refreshMs) return Promise.resolve(token);
    pending ??= read()
      .then(
        (fresh) => {
          if (fresh !== '') token = fresh;
          return token;
        },
        () => token,
      )
      .finally(() => {
        readAt = now();
        pending = undefined;
      });
    return pending;
  };
}

export function staticTokenSource(token: string): TokenSource {
  return () => Promise.resolve(token);
}
