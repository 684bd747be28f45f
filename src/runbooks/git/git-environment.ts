import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RemoteAccess, SshAuth } from './remote-access.js';

/**
 * The environment git runs in. Nothing comes from the gateway's own environment but PATH and
 * proxy and CA settings: no other GIT_* variable, no system or global git config, no ssh config
 * or agent.
 * Credentials travel only in environment variables and in 0600 files inside a private temp
 * directory removed after the call, never on a command line and never in the cache's config.
 */

const PASSED_THROUGH = [
  'PATH',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
  'http_proxy',
  'https_proxy',
  'HTTPS_PROXY',
  'all_proxy',
  'ALL_PROXY',
  'no_proxy',
  'NO_PROXY',
];

// Read by the credential helper and the askpass script below, so their values are never written anywhere.
const HTTP_USER_VARIABLE = 'GATEHOUSE_GIT_HTTP_USER';
const HTTP_PASSWORD_VARIABLE = 'GATEHOUSE_GIT_HTTP_PASSWORD';
const SSH_PASSPHRASE_VARIABLE = 'GATEHOUSE_GIT_SSH_PASSPHRASE';

const CREDENTIAL_HELPER =
  `!f() { test "$1" = get && printf 'username=%s\\npassword=%s\\n' "$${HTTP_USER_VARIABLE}" "$${HTTP_PASSWORD_VARIABLE}"; }; f`;
const ASKPASS_SCRIPT = `#!/bin/sh\nprintf '%s\\n' "$${SSH_PASSPHRASE_VARIABLE}"\n`;

/** For git commands that only read or write the local cache. */
export function localGitEnvironment(home: string): NodeJS.ProcessEnv {
  return baseEnvironment(home, []);
}

function baseEnvironment(home: string, config: Array<[key: string, value: string]>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED_THROUGH) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  // HOME is read by curl (.netrc) and XDG_CONFIG_HOME by git: both point at a directory of ours.
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: home,
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  });
  // Auto gc runs inside the fetch, so it finishes under the repository's lock and timeout.
  const entries: Array<[string, string]> = [['gc.autoDetach', 'false'], ...config];
  env.GIT_CONFIG_COUNT = String(entries.length);
  entries.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

export interface NetworkEnvironment {
  env: NodeJS.ProcessEnv;
  /** Removes the private temp directory and what it holds. */
  dispose(): Promise<void>;
}

/**
 * The environment of one git call that talks to the remote. `pinnedKnownHostsFile` keeps the
 * host keys of an SSH remote that has none configured.
 */
export async function prepareNetworkEnvironment(access: RemoteAccess, pinnedKnownHostsFile: string): Promise<NetworkEnvironment> {
  // mkdtemp creates the directory with mode 0700.
  const privateDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-git-'));
  const dispose = () => rm(privateDir, { recursive: true, force: true });
  try {
    const config: Array<[string, string]> = [];
    const secretVariables: NodeJS.ProcessEnv = {};
    if (access.httpAuth) {
      // Scoped to the repository's origin: a redirect elsewhere is never offered the credentials.
      config.push([`credential.${access.httpAuth.origin}.helper`, CREDENTIAL_HELPER]);
      secretVariables[HTTP_USER_VARIABLE] = access.httpAuth.user;
      secretVariables[HTTP_PASSWORD_VARIABLE] = access.httpAuth.password;
    }
    const env = { ...baseEnvironment(privateDir, config), ...secretVariables, GIT_ALLOW_PROTOCOL: access.protocol };
    if (access.sshAuth) Object.assign(env, await sshEnvironment(access.sshAuth, privateDir, pinnedKnownHostsFile));
    return { env, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

async function sshEnvironment(auth: SshAuth, privateDir: string, pinnedKnownHostsFile: string): Promise<NodeJS.ProcessEnv> {
  const keyFile = path.join(privateDir, 'identity');
  await writeFile(keyFile, auth.privateKey, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = { GIT_SSH_VARIANT: 'ssh' };

  let knownHostsFile = pinnedKnownHostsFile;
  // With known hosts configured, only they are trusted. Without, the first key each host shows
  // is kept in the repository's cache and required from then on (trust on first use): it
  // survives restarts and a changed host key fails until the operator configures known hosts.
  let hostKeyPolicy = 'accept-new';
  if (auth.knownHosts !== undefined) {
    knownHostsFile = path.join(privateDir, 'known_hosts');
    await writeFile(knownHostsFile, auth.knownHosts, { mode: 0o600 });
    hostKeyPolicy = 'yes';
  }

  // BatchMode would also forbid asking for the key's passphrase, which the askpass script answers.
  let batchMode = 'yes';
  if (auth.passphrase !== undefined) {
    const askpass = path.join(privateDir, 'askpass');
    await writeFile(askpass, ASKPASS_SCRIPT, { mode: 0o700 });
    Object.assign(env, { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', [SSH_PASSPHRASE_VARIABLE]: auth.passphrase });
    batchMode = 'no';
  }

  const command = [
    'ssh',
    '-F', '/dev/null',
    '-o', `IdentityFile=${sshFileValue(keyFile)}`,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'PasswordAuthentication=no',
    '-o', 'KbdInteractiveAuthentication=no',
    '-o', `BatchMode=${batchMode}`,
    '-o', `UserKnownHostsFile=${sshFileValue(knownHostsFile)}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', `StrictHostKeyChecking=${hostKeyPolicy}`,
    '-o', 'UpdateHostKeys=no',
  ];
  // git runs this through sh, appending the host and the remote command.
  env.GIT_SSH_COMMAND = command.map(shellQuote).join(' ');
  return env;
}

// ssh reads -o values like config lines and expands "%x" tokens and "${VAR}" in file options.
function sshFileValue(file: string): string {
  if (/["%$\\]/.test(file)) throw new Error(`cannot hand the path ${file} to ssh: it contains one of " % $ \\`);
  return `"${file}"`;
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\-=/.,:]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
