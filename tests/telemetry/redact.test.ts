import assert from 'node:assert/strict';
import { isSecretKey, REDACTED, redact, redactString, registerSecret } from '../../lib/telemetry/redact.ts';

describe('telemetry: redact', () => {
  it('replaces values under secret-looking keys, walking nested objects and arrays', () => {
    const config = {
      natsUrl: 'nats://127.0.0.1:4222',
      natsToken: 'abc123-token-value',
      O2O_NATS_PASSWORD: 'p4ssw0rd!',
      tls: {
        key: 'x',
        keyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
        cert: 'PUBLIC',
      },
      seed: 7,
      O2O_SEED: '7',
      tokenCount: 12,
      servers: [{ url: 'nats://alice:wonderland@nats:4222' }],
    };
    const out = redact(config);
    assert.equal(out.natsUrl, 'nats://127.0.0.1:4222');
    assert.equal(out.natsToken, REDACTED);
    assert.equal(out.O2O_NATS_PASSWORD, REDACTED);
    assert.equal(out.tls.keyPem, REDACTED);
    assert.equal(out.tls.cert, 'PUBLIC', 'certificates are public');
    assert.equal(out.seed, 7);
    assert.equal(out.O2O_SEED, '7');
    assert.equal(out.tokenCount, 12);
    assert.equal(out.servers[0]!.url, `nats://${REDACTED}@nats:4222`);
    assert.equal(config.natsToken, 'abc123-token-value', 'the input is not modified');
  });

  it('scrubs secrets out of free text', () => {
    assert.equal(
      redactString('connect nats://u:pw@h:4222 failed'),
      `connect nats://${REDACTED}@h:4222 failed`,
    );
    assert.equal(redactString('Authorization: Bearer eyJhbGciOi.x.y'), `Authorization: Bearer ${REDACTED}`);
    assert.equal(redactString('url?token=abcdef&x=1'), `url?token=${REDACTED}&x=1`);
    assert.equal(redactString('{"password": "hunter2"}'), `{"password": "${REDACTED}"}`);
    const pem = 'key: -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- end';
    assert.equal(redactString(pem), `key: ${REDACTED} end`);
    assert.equal(redactString('steps=100 seed=3'), 'steps=100 seed=3');
  });

  it('removes registered secret values wherever they appear', () => {
    registerSecret('zq-registered-8841');
    assert.equal(
      redactString('rejected zq-registered-8841 twice: zq-registered-8841'),
      `rejected ${REDACTED} twice: ${REDACTED}`,
    );
  });

  it('classifies keys', () => {
    for (const k of [
      'token',
      'nats.token',
      'O2O_NATS_TOKEN',
      'password',
      'tlsKey',
      'tls.key',
      'apiKey',
      'authorization',
      'secret',
    ]) {
      assert.ok(isSecretKey(k), k);
    }
    for (const k of ['seed', 'o2o.seed', 'url', 'service', 'tls.cert', 'author', 'keyframes', 'tokenCount']) {
      assert.ok(!isSecretKey(k), k);
    }
  });
});
