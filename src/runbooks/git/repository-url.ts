import path from 'node:path';
import { GitRepositoryError } from './git-errors.js';

/** The git transports a runbook repository may use; anything else (ext::, fd::, ftp…) is refused. */
export type GitProtocol = 'https' | 'http' | 'ssh' | 'git' | 'file';

export interface RepositoryUrl {
  protocol: GitProtocol;
  /** The URL without user info, for messages and logs. */
  displayUrl: string;
  /** User info written in the URL, percent-decoded. */
  user?: string;
  password?: string;
  /** `scheme://host[:port]` of an http(s) URL: the only place its credentials are offered to. */
  origin?: string;
  /** The URL handed to git: never a password; for SSH, `user` as the login name (not a secret). */
  withUser(user: string | undefined): string;
}

const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
// `[user@]host:path`, git's "scp-like" SSH syntax. The host may not start with "-" so it can
// never be read as an ssh option; `transport::address` (remote helpers such as ext::) does
// not match because its "host" would be followed by a second colon.
const SCP_LIKE = /^(?:([^@/:]+)@)?([A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):([^:].*)$/;
const PROTOCOLS: Record<string, GitProtocol> = { https: 'https', http: 'http', ssh: 'ssh', git: 'git', file: 'file' };

function invalidUrl(url: string, why: string): GitRepositoryError {
  return new GitRepositoryError('invalid', `git repository ${redactUrl(url)}: ${why}`);
}

function decodeUserInfo(url: string, value: string): string | undefined {
  if (value === '') return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    throw invalidUrl(url, 'the user info in the URL is not valid percent-encoding');
  }
}

/**
 * Reads a repository URL: `http(s)://`, `ssh://`, `user@host:path`, `git://`, `file://` or an
 * absolute local path. Throws a GitRepositoryError of kind `invalid` for anything else.
 */
export function parseRepositoryUrl(url: string): RepositoryUrl {
  if (url.trim() === '') throw new GitRepositoryError('invalid', 'git repository URL is empty');
  if (/[\x00-\x1f\x7f]/.test(url) || url.startsWith('-')) throw invalidUrl(url, 'the URL contains forbidden characters');
  const displayUrl = redactUrl(url);

  const scheme = SCHEME_PREFIX.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    const protocol = PROTOCOLS[scheme];
    if (!protocol) throw invalidUrl(url, `unsupported URL scheme "${scheme}" (use https, http, ssh, git or file)`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalidUrl(url, 'not a valid URL');
    }
    if (protocol !== 'file' && (parsed.hostname === '' || parsed.hostname.startsWith('-'))) {
      throw invalidUrl(url, 'the URL has no valid host');
    }
    const user = decodeUserInfo(url, parsed.username);
    const password = decodeUserInfo(url, parsed.password);
    parsed.username = '';
    parsed.password = '';
    const withoutUserInfo = parsed.href;
    return {
      protocol,
      displayUrl,
      user,
      password,
      origin: protocol === 'https' || protocol === 'http' ? parsed.origin : undefined,
      withUser(login) {
        if (login === undefined) return withoutUserInfo;
        const withLogin = new URL(withoutUserInfo);
        withLogin.username = login;
        return withLogin.href;
      },
    };
  }

  const scp = SCP_LIKE.exec(url);
  if (scp) {
    const [, user, host, repositoryPath] = scp;
    return {
      protocol: 'ssh',
      displayUrl,
      user,
      withUser: (login) => `${login === undefined ? '' : `${login}@`}${host}:${repositoryPath}`,
    };
  }

  // A relative path would depend on the gateway's working directory.
  if (path.isAbsolute(url)) return { protocol: 'file', displayUrl, withUser: () => url };
  throw invalidUrl(url, 'unsupported repository URL (use https://, ssh://, user@host:path, git://, file:// or an absolute path)');
}

/** The URL with any user info (`user[:password]@`) removed; tolerant of malformed input. */
export function redactUrl(url: string): string {
  const scheme = SCHEME_PREFIX.exec(url);
  const prefix = scheme?.[0] ?? '';
  const rest = url.slice(prefix.length);
  // User info can only be in the authority, i.e. before the first "/" (or "?"/"#" in a URL).
  const authorityEnd = rest.search(scheme ? /[/?#]/ : /\//);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  return at < 0 ? url : prefix + rest.slice(at + 1);
}

/** Removes the user info of every `scheme://user:password@host` found in free text (git's messages). */
export function redactUrlsInText(text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/?#]*@/g, '$1');
}
