// TLS and mutual TLS for every gRPC server and client, from O2O_TLS_* variables, so deploy/ hands all
// services the same settings:
//   server side   O2O_TLS_CERT + O2O_TLS_KEY   (PEM) serve TLS instead of plaintext;
//                 O2O_TLS_CLIENT_AUTH=require  mutual TLS: only clients with a certificate signed by
//                                              O2O_TLS_CA are accepted;
//   client side   O2O_TLS_CA                   dial with TLS, trusting servers signed by this CA;
//                 O2O_TLS_CLIENT_CERT + O2O_TLS_CLIENT_KEY   the certificate to present (mTLS);
//                 O2O_TLS_SERVER_NAME          name to check in server certificates when dialling by IP.
// Files are read once at start-up; a missing or unreadable one is a GrpcTlsConfigError naming the
// variable and the path. Private keys are registered with lib/telemetry's redactor.
import { readFileSync } from 'node:fs';
import { type ChannelCredentials, type ChannelOptions, credentials, ServerCredentials } from '@grpc/grpc-js';
import { registerSecret } from '../telemetry/redact.ts';

/** Every variable read here (deploy/ checks manifests against the variables a service reads). */
export const GRPC_TLS_ENV_VARS = [
  'O2O_TLS_CERT',
  'O2O_TLS_KEY',
  'O2O_TLS_CA',
  'O2O_TLS_CLIENT_AUTH',
  'O2O_TLS_CLIENT_CERT',
  'O2O_TLS_CLIENT_KEY',
  'O2O_TLS_SERVER_NAME',
] as const;

export class GrpcTlsConfigError extends Error {
  override readonly name = 'GrpcTlsConfigError';
}

export interface ServerTls {
  cert: Buffer;
  key: Buffer;
  /** Verifies client certificates (required with requireClientCert). */
  ca?: Buffer;
  requireClientCert: boolean;
}

export interface ClientTls {
  /** Trusted roots; absent: the system's. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Expected name in the server certificate (ssl target name override). */
  serverName?: string;
}

/** What one process needs: how its server listens and how its clients dial (undefined: plaintext). */
export interface GrpcTlsSettings {
  server?: ServerTls;
  client?: ClientTls;
  /** Loggable summary (paths and modes, never contents). */
  description: string;
}

function get(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function readPem(name: string, path: string, what: 'certificate' | 'private key'): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new GrpcTlsConfigError(`${name}=${path}: cannot read the ${what}: ${(err as Error).message}`);
  }
  const text = data.toString('utf8');
  const marker =
    what === 'certificate' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  if (!marker.test(text)) throw new GrpcTlsConfigError(`${name}=${path}: not a PEM ${what}`);
  if (what === 'private key') registerSecret(text.trim());
  return data;
}

/** Reads and validates the O2O_TLS_* variables; throws GrpcTlsConfigError naming the variable. */
export function grpcTlsFromEnv(env: NodeJS.ProcessEnv = process.env): GrpcTlsSettings {
  const certPath = get(env, 'O2O_TLS_CERT');
  const keyPath = get(env, 'O2O_TLS_KEY');
  const caPath = get(env, 'O2O_TLS_CA');
  const clientAuth = (get(env, 'O2O_TLS_CLIENT_AUTH') ?? 'none').toLowerCase();
  const clientCertPath = get(env, 'O2O_TLS_CLIENT_CERT');
  const clientKeyPath = get(env, 'O2O_TLS_CLIENT_KEY');
  const serverName = get(env, 'O2O_TLS_SERVER_NAME');

  if ((certPath === undefined) !== (keyPath === undefined))
    throw new GrpcTlsConfigError('O2O_TLS_CERT and O2O_TLS_KEY must be set together');
  if ((clientCertPath === undefined) !== (clientKeyPath === undefined))
    throw new GrpcTlsConfigError('O2O_TLS_CLIENT_CERT and O2O_TLS_CLIENT_KEY must be set together');
  if (clientAuth !== 'none' && clientAuth !== 'require')
    throw new GrpcTlsConfigError(`O2O_TLS_CLIENT_AUTH: expected 'none' or 'require', got '${clientAuth}'`);
  if (clientAuth === 'require' && (certPath === undefined || caPath === undefined))
    throw new GrpcTlsConfigError(
      'O2O_TLS_CLIENT_AUTH=require needs O2O_TLS_CERT, O2O_TLS_KEY and O2O_TLS_CA (the CA that signs client certificates)',
    );
  if (serverName !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(serverName))
    throw new GrpcTlsConfigError(`O2O_TLS_SERVER_NAME: '${serverName}' is not a host name`);

  const ca = caPath === undefined ? undefined : readPem('O2O_TLS_CA', caPath, 'certificate');
  const out: GrpcTlsSettings = { description: 'plaintext' };
  const parts: string[] = [];
  if (certPath !== undefined && keyPath !== undefined) {
    out.server = {
      cert: readPem('O2O_TLS_CERT', certPath, 'certificate'),
      key: readPem('O2O_TLS_KEY', keyPath, 'private key'),
      ...(ca === undefined ? {} : { ca }),
      requireClientCert: clientAuth === 'require',
    };
    parts.push(`server TLS (${certPath})${clientAuth === 'require' ? ' requiring client certificates' : ''}`);
  }
  if (ca !== undefined || clientCertPath !== undefined) {
    const client: ClientTls = {};
    if (ca !== undefined) client.ca = ca;
    if (clientCertPath !== undefined && clientKeyPath !== undefined) {
      client.cert = readPem('O2O_TLS_CLIENT_CERT', clientCertPath, 'certificate');
      client.key = readPem('O2O_TLS_CLIENT_KEY', clientKeyPath, 'private key');
    }
    if (serverName !== undefined) client.serverName = serverName;
    out.client = client;
    parts.push(`client TLS${client.cert === undefined ? '' : ' with a client certificate'}`);
  }
  if (parts.length > 0) out.description = parts.join(', ');
  return out;
}

/** Credentials for Server.bindAsync: TLS (optionally requiring client certificates) or plaintext. */
export function serverCredentials(tls: ServerTls | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(
    tls.ca ?? null,
    [{ private_key: tls.key, cert_chain: tls.cert }],
    tls.requireClientCert,
  );
}

/** Credentials for a generated client, plus the channel options TLS needs (target name override). */
export function channelCredentials(tls: ClientTls | undefined): {
  credentials: ChannelCredentials;
  options: ChannelOptions;
} {
  if (tls === undefined) return { credentials: credentials.createInsecure(), options: {} };
  return {
    credentials: credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null),
    options: tls.serverName === undefined ? {} : { 'grpc.ssl_target_name_override': tls.serverName },
  };
}

let processClientTls: { value: ClientTls | undefined } | undefined;

/**
 * The client TLS of this process, from its environment (read once): what every client uses unless it
 * is given explicit settings. The services validate the same variables at start-up (config.ts), so a
 * bad setting stops them there rather than at the first call.
 */
export function defaultClientTls(): ClientTls | undefined {
  processClientTls ??= { value: grpcTlsFromEnv(process.env).client };
  return processClientTls.value;
}
