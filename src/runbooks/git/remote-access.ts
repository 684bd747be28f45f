import { createHash } from 'node:crypto';
import { GitRepositoryError } from './git-errors.js';
import { parseRepositoryUrl, type GitProtocol } from './repository-url.js';

/** One configured repository, as the caller stores it. Credentials are plain text here. */
export interface GitRepositorySettings {
  url: string;
  /** Without one, the remote's default branch (its HEAD), else `main`, else `master`. */
  branch?: string;
  httpUser?: string;
  httpPassword?: string;
  /** A PEM or OpenSSH private key. */
  sshKey?: string;
  sshUser?: string;
  sshKeyPassphrase?: string;
  /** known_hosts lines, raw or base64-encoded. */
  sshKnownHosts?: string;
}

export interface HttpAuth {
  /** `scheme://host[:port]`: git offers the credentials to this origin only. */
  origin: string;
  user: string;
  password: string;
}

export interface SshAuth {
  user: string;
  privateKey: string;
  passphrase?: string;
  /** Undefined when none are configured: the first key seen is then pinned (see git-environment.ts). */
  knownHosts?: string;
}

/** How to reach one repository: what git is given, and what must stay out of its command line. */
export interface RemoteAccess {
  protocol: GitProtocol;
  /** Handed to git as an argument, so it never holds a password. */
  fetchUrl: string;
  displayUrl: string;
  httpAuth?: HttpAuth;
  sshAuth?: SshAuth;
  /** Every secret value, to be scrubbed from anything git prints. */
  secrets: string[];
}

const DEFAULT_HTTP_USER = 'oauth2';
const DEFAULT_SSH_USER = 'git';
// A login name is put in the URL given to ssh, so it is kept to characters that need no quoting.
const SSH_USER = /^[A-Za-z0-9._][A-Za-z0-9._-]*$/;
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]+-----END [A-Z0-9 ]*PRIVATE KEY-----/;

function present(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

export function resolveRemoteAccess(settings: GitRepositorySettings): RemoteAccess {
  const url = parseRepositoryUrl(settings.url);
  const invalid = (why: string) => new GitRepositoryError('invalid', `git repository ${url.displayUrl}: ${why}`);
  const access: RemoteAccess = { protocol: url.protocol, fetchUrl: url.withUser(undefined), displayUrl: url.displayUrl, secrets: [] };

  if (url.origin !== undefined) {
    // A password written in the URL is honoured, but moved out of it so it never reaches a command line.
    const password = present(settings.httpPassword) ?? url.password;
    if (password !== undefined) {
      const user = present(settings.httpUser) ?? url.user ?? DEFAULT_HTTP_USER;
      // The credential helper protocol is line based.
      if (/[\r\n\0]/.test(user + password)) throw invalid('the HTTP user or password contains a line break');
      access.httpAuth = { origin: url.origin, user, password };
      access.secrets.push(password, encodeURIComponent(password));
    }
  } else if (url.protocol === 'ssh') {
    const privateKey = present(settings.sshKey)?.replace(/\r\n/g, '\n');
    // Without a key, ssh would fall back to the gateway user's own keys and agent.
    if (privateKey === undefined) throw invalid('an SSH repository needs an SSH private key');
    if (!PRIVATE_KEY_BLOCK.test(privateKey)) throw invalid('the SSH key is not a PEM or OpenSSH private key');
    const user = present(settings.sshUser) ?? url.user ?? DEFAULT_SSH_USER;
    if (!SSH_USER.test(user)) throw invalid('the SSH user may only contain letters, digits, ".", "_" and "-"');
    const passphrase = present(settings.sshKeyPassphrase);
    // ssh rejects a key file whose last line is not terminated.
    access.sshAuth = { user, privateKey: privateKey.endsWith('\n') ? privateKey : `${privateKey}\n`, passphrase };
    const knownHosts = present(settings.sshKnownHosts);
    if (knownHosts !== undefined) access.sshAuth.knownHosts = decodeKnownHosts(knownHosts);
    access.fetchUrl = url.withUser(user);
    if (passphrase !== undefined) access.secrets.push(passphrase);
  }
  return access;
}

/** known_hosts lines always contain spaces; base64 never does. */
function decodeKnownHosts(text: string): string {
  const trimmed = text.trim();
  if (/\s/.test(trimmed.replace(/[\r\n]/g, ''))) return `${trimmed}\n`;
  return `${Buffer.from(trimmed, 'base64').toString('utf8').trim()}\n`;
}

/**
 * Names a repository's cache: the URL and every credential, so settings that differ in any of
 * them never share fetched content. The branch is left out: branches of one repository share it.
 */
export function repositoryCacheKey(settings: GitRepositorySettings): string {
  const identity = [
    settings.url,
    settings.httpUser,
    settings.httpPassword,
    settings.sshKey,
    settings.sshUser,
    settings.sshKeyPassphrase,
    settings.sshKnownHosts,
  ].map((value) => value ?? '');
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}
