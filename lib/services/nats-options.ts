// NATS connection options from the environment, shared by every service so that deploy/ can hand them
// the same settings: O2O_NATS_URL (comma-separated servers), and optionally a token (O2O_NATS_TOKEN, or
// O2O_NATS_TOKEN_FILE pointing at a mounted Secret), user/password, and TLS files (O2O_NATS_TLS_CA,
// O2O_NATS_TLS_CERT, O2O_NATS_TLS_KEY). Secrets are registered with lib/telemetry's redactor, so they
// never reach spans or logs, and are left out of describeNatsOptions().
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'nats';
import { registerSecret } from '../telemetry/redact.ts';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** Every environment variable natsOptionsFromEnv reads (deploy/ checks its manifests against this). */
export const NATS_ENV_VARS = [
  'O2O_NATS_URL',
  'O2O_NATS_TOKEN',
  'O2O_NATS_TOKEN_FILE',
  'O2O_NATS_USER',
  'O2O_NATS_PASSWORD',
  'O2O_NATS_TLS_CA',
  'O2O_NATS_TLS_CERT',
  'O2O_NATS_TLS_KEY',
] as const;

export class NatsConfigError extends Error {}

/**
 * Reconnect settings every service uses: keep trying for ever, once a second (plus jitter). nats.js's
 * default (10 attempts, 2 s apart) closes the connection for good when nats-server is down for ~20 s, and
 * a service with a closed connection never gets its phase requests again. JetStream state (file storage,
 * durable consumers) survives the restart, so reconnecting is all a service has to do.
 */
export const NATS_RECONNECT = {
  maxReconnectAttempts: -1,
  reconnectTimeWait: 1000,
  reconnectJitter: 200,
} as const satisfies ConnectionOptions;

function get(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function readSecretFile(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new NatsConfigError(`${name}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** nats.js connect() options from O2O_NATS_* variables; throws NatsConfigError naming the bad variable. */
export function natsOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ConnectionOptions {
  const servers = (get(env, 'O2O_NATS_URL') ?? DEFAULT_NATS_URL).split(',').map((s) => s.trim());
  for (const server of servers) {
    let url: URL;
    try {
      url = new URL(server.includes('://') ? server : `nats://${server}`);
    } catch {
      throw new NatsConfigError(`O2O_NATS_URL: not a URL: ${JSON.stringify(server)}`);
    }
    if (!['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol)) {
      throw new NatsConfigError(`O2O_NATS_URL: expected nats://host:port, got ${url.protocol}//`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new NatsConfigError(
        'O2O_NATS_URL: put credentials in O2O_NATS_TOKEN or O2O_NATS_USER/PASSWORD, not the URL',
      );
    }
  }
  const opts: ConnectionOptions = { servers, ...NATS_RECONNECT };

  const tokenValue = get(env, 'O2O_NATS_TOKEN');
  const tokenFile = get(env, 'O2O_NATS_TOKEN_FILE');
  if (tokenValue !== undefined && tokenFile !== undefined) {
    throw new NatsConfigError('O2O_NATS_TOKEN and O2O_NATS_TOKEN_FILE are both set; use one');
  }
  const token = tokenFile !== undefined ? readSecretFile('O2O_NATS_TOKEN_FILE', tokenFile) : tokenValue;
  if (token !== undefined) {
    if (token === '') throw new NatsConfigError('O2O_NATS_TOKEN_FILE: the file is empty');
    registerSecret(token);
    opts.token = token;
  }

  const user = get(env, 'O2O_NATS_USER');
  const pass = get(env, 'O2O_NATS_PASSWORD');
  if ((user === undefined) !== (pass === undefined)) {
    throw new NatsConfigError('O2O_NATS_USER and O2O_NATS_PASSWORD must be set together');
  }
  if (user !== undefined && pass !== undefined) {
    if (token !== undefined)
      throw new NatsConfigError('set either a NATS token or a user/password, not both');
    registerSecret(pass);
    opts.user = user;
    opts.pass = pass;
  }

  const ca = get(env, 'O2O_NATS_TLS_CA');
  const cert = get(env, 'O2O_NATS_TLS_CERT');
  const key = get(env, 'O2O_NATS_TLS_KEY');
  if ((cert === undefined) !== (key === undefined)) {
    throw new NatsConfigError('O2O_NATS_TLS_CERT and O2O_NATS_TLS_KEY must be set together');
  }
  if (ca !== undefined || cert !== undefined) {
    const tls: NonNullable<ConnectionOptions['tls']> = {};
    if (ca !== undefined) tls.caFile = ca;
    if (cert !== undefined && key !== undefined) {
      tls.certFile = cert;
      tls.keyFile = key;
    }
    opts.tls = tls;
  }
  return opts;
}

/** A loggable description (servers, which auth, whether TLS): never the secrets themselves. */
export function describeNatsOptions(opts: ConnectionOptions): string {
  const servers = Array.isArray(opts.servers)
    ? opts.servers.join(',')
    : String(opts.servers ?? DEFAULT_NATS_URL);
  const auth = opts.token !== undefined ? 'token' : opts.user !== undefined ? `user ${opts.user}` : 'none';
  const tls = opts.tls ? `tls${opts.tls.certFile ? ' (client cert)' : ''}` : 'plain';
  return `${servers} auth=${auth} ${tls}`;
}
