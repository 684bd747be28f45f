import { createHash } from 'node:crypto';

/**
 * Repository URLs: which ones are accepted, their normalized name (`host/path`, the
 * repository's name everywhere in the API), and the configuration id the reference derives
 * from the raw URL.
 */

const SCP_LIKE = /^[\w\-.]+@[\w.-]+:[\w.\-/~]+(\.git)?$/;
const REMOTE_SCHEMES = new Set(['http:', 'https:', 'git:', 'ssh:']);

export class RepositoryUrlError extends Error {}

/**
 * Accepts the reference's remote forms (http, https, git, ssh, scp-like `user@host:path`) and,
 * beyond it, local repositories: `file://` URLs and absolute paths.
 */
export function validateRepositoryUrl(url: string): void {
  if (!url) throw new RepositoryUrlError('URL is empty');
  if (SCP_LIKE.test(url)) return;
  if (url.startsWith('/')) return;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new RepositoryUrlError(`invalid URL format: ${(error as Error).message}`);
  }
  const scheme = parsed.protocol.toLowerCase();
  if (scheme === 'file:') {
    if (!parsed.pathname || parsed.pathname === '/') throw new RepositoryUrlError('URL must have a path');
    return;
  }
  if (!REMOTE_SCHEMES.has(scheme)) {
    throw new RepositoryUrlError(`invalid scheme: ${scheme.slice(0, -1)} (must be http, https, git, ssh or file)`);
  }
  // WHATWG parsing reads `https:///user/repo` as host "user"; the path is not a host.
  if (!parsed.hostname || /^[a-z+]+:\/\/\//i.test(url)) throw new RepositoryUrlError('URL must have a host');
}

/**
 * `https://github.com/org/repo.git` → `github.com/org/repo`; `git@host:org/repo.git` →
 * `host/org/repo`. Local repositories are named `local/<path>`.
 */
export function normalizeRepositoryUrl(url: string): string {
  let candidate = url;
  if (candidate.startsWith('/')) candidate = `file://${candidate}`;
  else if (candidate.includes(':') && !candidate.includes('://')) {
    const at = candidate.indexOf(':');
    const host = candidate.slice(0, at).replace(/^git@/, '');
    candidate = `ssh://${host}/${candidate.slice(at + 1)}`;
  }
  let parsed: URL;
  try {
    parsed = new URL(candidate);
  } catch {
    return '';
  }
  const host = parsed.protocol === 'file:' ? 'local' : parsed.hostname;
  const path = decodeURIComponent(parsed.pathname).replace(/\.git$/, '').replace(/^\/+|\/+$/g, '');
  return `${host}/${path}`;
}

const URL_NAMESPACE = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');

/** RFC 4122 UUIDv5 of the raw git URL in the URL namespace: the reference's configuration id. */
export function repositoryConfigId(gitUrl: string): string {
  const hash = createHash('sha1').update(URL_NAMESPACE).update(gitUrl, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
