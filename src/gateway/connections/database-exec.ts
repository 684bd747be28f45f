/**
 * Exec on database connections (type `database`, subtype `postgres` or `mysql`): the reference's
 * default commands and secrets (HOST, PORT, USER, PASS, DB, SSLMODE), with the password handed to
 * the client only through its environment variable, never on its command line.
 */
import { UnprocessableError } from '../../errors.js';

interface DatabaseProfile {
  /** The reference's default command; `$NAME` arguments are filled from the connection's secrets. */
  defaultCommand: string[];
  defaultPort: string;
  /** The client's own environment variable for the password. */
  passwordVariable: string;
  /** Variables whose absence drops the argument that uses them, instead of failing. */
  optional: string[];
}

const PROFILES: Record<string, DatabaseProfile> = {
  postgres: {
    defaultCommand: ['psql', '-v', 'ON_ERROR_STOP=1', '-A', '-F\t', '-P', 'pager=off', '-h', '$HOST', '-U', '$USER', '--port=$PORT', '$DB'],
    defaultPort: '5432',
    passwordVariable: 'PGPASSWORD',
    optional: ['DB'],
  },
  mysql: {
    defaultCommand: ['mysql', '-h$HOST', '-u$USER', '--port=$PORT', '-D$DB'],
    defaultPort: '3306',
    passwordVariable: 'MYSQL_PWD',
    optional: ['DB'],
  },
};

const REQUIRED = ['HOST', 'USER', 'PASS'];
const SSL_MODES = ['disable', 'prefer', 'require', 'verify-full'];
const VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

function profileOf(type: string, subtype: string): DatabaseProfile | undefined {
  return type === 'database' ? PROFILES[subtype] : undefined;
}

/** A connection whose sessions go through a database client (postgres or mysql). */
export function isDatabaseConnection(connection: { type: string; subtype: string }): boolean {
  return profileOf(connection.type, connection.subtype) !== undefined;
}

/** The command a new database connection gets when it names none. */
export function defaultDatabaseCommand(type: string, subtype: string | undefined): string[] | undefined {
  return profileOf(type, subtype ?? '')?.defaultCommand;
}

/** Throws 422 when a required secret is missing or SSLMODE is not one the clients know. */
function checkSecrets(subtype: string, value: (name: string) => string | undefined): void {
  if (REQUIRED.some((name) => value(name) === undefined)) {
    throw new UnprocessableError(`missing required secrets for ${subtype} connection [${REQUIRED.join(', ')}]`);
  }
  const sslMode = subtype === 'postgres' ? value('SSLMODE') : undefined;
  if (sslMode !== undefined && !SSL_MODES.includes(sslMode)) {
    throw new UnprocessableError(`wrong option ("${sslMode}") for SSLMODE, accept only: [${SSL_MODES.join(' ')}]`);
  }
}

/** Where and as whom the agent logs in for native PostgreSQL access. */
export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string | undefined;
  sslmode: string | undefined;
}

/** The login of a postgres connection, from its secrets (`envvar:NAME` → base64), checked as exec checks them. */
export function postgresTarget(secrets: Record<string, string>): PostgresTarget {
  const value = (name: string): string | undefined => {
    const encoded = secrets[`envvar:${name}`];
    return encoded ? Buffer.from(encoded, 'base64').toString('utf8') || undefined : undefined;
  };
  checkSecrets('postgres', value);
  const port = Number(value('PORT') ?? PROFILES.postgres!.defaultPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UnprocessableError(`PORT must be a TCP port number, not "${value('PORT')}"`);
  return { host: value('HOST')!, port, user: value('USER')!, password: value('PASS')!, database: value('DB'), sslmode: value('SSLMODE') };
}

/** What the agent must do for a database session: the argv, and the address it checks first. */
export interface DatabaseExec {
  command: string[];
  /** `host:port` the agent dials before starting the client, to fail with a clear message. */
  reachabilityCheck: string;
}

/**
 * For a database connection: checks its secrets, fills in the default port, hands the password
 * to the client's variable, and fills `$NAME` arguments (after the program) from `env`, which it
 * completes in place. Undefined for any other connection.
 */
export function prepareDatabaseExec(connection: { type: string; subtype: string }, command: string[], env: Record<string, Buffer>): DatabaseExec | undefined {
  const profile = profileOf(connection.type, connection.subtype);
  if (!profile) return undefined;
  const value = (name: string): string | undefined => (env[name]?.length ? env[name]!.toString('utf8') : undefined);
  checkSecrets(connection.subtype, value);
  if (value('PORT') === undefined) env.PORT = Buffer.from(profile.defaultPort);
  if (connection.subtype === 'postgres' && value('SSLMODE') !== undefined) env.PGSSLMODE = env.SSLMODE!;
  env[profile.passwordVariable] = env.PASS!;
  const [program = '', ...args] = command;
  const missing = new Set<string>();
  const expanded: string[] = [];
  for (const arg of args) {
    const undefinedNames = [...arg.matchAll(VARIABLE)].map((m) => m[1] ?? m[2] ?? '').filter((name) => value(name) === undefined);
    if (undefinedNames.length === 0) {
      expanded.push(arg.replace(VARIABLE, (_, braced: string | undefined, bare: string | undefined) => value(braced ?? bare ?? '') ?? ''));
    } else if (!undefinedNames.every((name) => profile.optional.includes(name))) {
      for (const name of undefinedNames) missing.add(`$${name}`);
    }
  }
  if (missing.size) throw new UnprocessableError(`could not find environment variable for commands [${[...missing].join(', ')}]`);
  return { command: [program, ...expanded], reachabilityCheck: `${value('HOST')}:${value('PORT')}` };
}
