import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import {
  describeNatsOptions,
  NATS_RECONNECT,
  NatsConfigError,
  natsOptionsFromEnv,
} from '../../lib/services/nats-options.ts';
import { redactString } from '../../lib/telemetry/redact.ts';
import { startNatsServer } from '../helpers/nats-server.ts';

describe('lib/services/nats-options', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-nats-opts-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to the loopback server without auth or TLS', () => {
    const opts = natsOptionsFromEnv({});
    assert.deepEqual(opts, { servers: ['nats://127.0.0.1:4222'], ...NATS_RECONNECT });
    assert.equal(opts.maxReconnectAttempts, -1, 'services keep reconnecting through a nats-server restart');
    assert.equal(describeNatsOptions(opts), 'nats://127.0.0.1:4222 auth=none plain');
  });

  it('reads a token from a mounted file, registers it for redaction and keeps it out of the description', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'tok-from-file-55aa\n');
    const opts = natsOptionsFromEnv({
      O2O_NATS_URL: 'nats://a:4222, nats://b:4222',
      O2O_NATS_TOKEN_FILE: file,
    });
    assert.deepEqual(opts.servers, ['nats://a:4222', 'nats://b:4222']);
    assert.equal(opts.token, 'tok-from-file-55aa');
    assert.ok(!describeNatsOptions(opts).includes('tok-from-file-55aa'));
    assert.equal(redactString('auth failed for tok-from-file-55aa'), 'auth failed for [REDACTED]');
  });

  it('passes TLS files through', () => {
    const opts = natsOptionsFromEnv({
      O2O_NATS_TLS_CA: '/etc/o2o/nats-tls/ca.crt',
      O2O_NATS_TLS_CERT: '/etc/o2o/nats-tls/tls.crt',
      O2O_NATS_TLS_KEY: '/etc/o2o/nats-tls/tls.key',
    });
    assert.deepEqual(opts.tls, {
      caFile: '/etc/o2o/nats-tls/ca.crt',
      certFile: '/etc/o2o/nats-tls/tls.crt',
      keyFile: '/etc/o2o/nats-tls/tls.key',
    });
  });

  it('names the variable that is wrong', () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ O2O_NATS_URL: 'http://x:1' }, /^O2O_NATS_URL: expected nats/],
      [{ O2O_NATS_URL: 'nats://u:p@x:1' }, /^O2O_NATS_URL: put credentials/],
      [{ O2O_NATS_TOKEN: 'a', O2O_NATS_TOKEN_FILE: '/x' }, /both set/],
      [{ O2O_NATS_TOKEN_FILE: join(dir, 'missing') }, /^O2O_NATS_TOKEN_FILE: cannot read/],
      [{ O2O_NATS_USER: 'u' }, /O2O_NATS_USER and O2O_NATS_PASSWORD/],
      [{ O2O_NATS_TLS_CERT: '/c' }, /O2O_NATS_TLS_CERT and O2O_NATS_TLS_KEY/],
    ];
    for (const [env, re] of cases) {
      assert.throws(
        () => natsOptionsFromEnv(env),
        (e: unknown) => e instanceof NatsConfigError && re.test(e.message),
      );
    }
  });

  it('connects to a token-protected nats-server with the options, and is refused without them', async () => {
    const server = await startNatsServer({ jetstream: false, token: 'real-token-3c1d' });
    try {
      const opts = natsOptionsFromEnv({ O2O_NATS_URL: server.url, O2O_NATS_TOKEN: 'real-token-3c1d' });
      const nc = await connect(opts);
      await nc.flush();
      await nc.close();
      await assert.rejects(
        connect({ ...natsOptionsFromEnv({ O2O_NATS_URL: server.url }), reconnect: false }),
      );
    } finally {
      await server.stop();
    }
  });

  it('connects over TLS to a TLS-only nats-server when O2O_NATS_TLS_CA names its CA, and fails without it', async function () {
    // A throwaway CA and a server certificate for 127.0.0.1, as the Kubernetes Secret o2o-nats-tls holds.
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    try {
      ssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '1',
        '-subj',
        '/CN=o2o-test-ca',
      );
    } catch {
      this.skip(); // no openssl on this machine
    }
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'tls.key',
      '-out',
      'tls.csr',
      '-subj',
      '/CN=127.0.0.1',
    );
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ssl(
      'x509',
      '-req',
      '-in',
      'tls.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'tls.crt',
      '-days',
      '1',
      '-extfile',
      'san.ext',
    );
    const server = await startNatsServer({
      jetstream: false,
      token: 'tls-token-9e2f',
      extraArgs: ['--tls', '--tlscert', join(dir, 'tls.crt'), '--tlskey', join(dir, 'tls.key')],
    });
    try {
      const env = { O2O_NATS_URL: server.url, O2O_NATS_TOKEN: 'tls-token-9e2f' };
      const nc = await connect(natsOptionsFromEnv({ ...env, O2O_NATS_TLS_CA: join(dir, 'ca.crt') }));
      await nc.flush();
      assert.equal(nc.info?.tls_required, true);
      await nc.close();
      await assert.rejects(connect({ ...natsOptionsFromEnv(env), reconnect: false }));
    } finally {
      await server.stop();
    }
  });
});
