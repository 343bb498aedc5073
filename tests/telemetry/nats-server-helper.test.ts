import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect, StringCodec } from 'nats';
import { startNatsServer } from '../helpers/nats-server.ts';

describe('tests/helpers/nats-server', () => {
  it('starts JetStream on a free port, keeps streams across restart() and removes its store on stop()', async () => {
    const server = await startNatsServer();
    try {
      assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(existsSync(server.storeDir));
      let nc = await connect({ servers: server.url });
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: 'HELPER_TEST', subjects: ['helper.test'] });
      await nc.jetstream().publish('helper.test', StringCodec().encode('kept'));
      await nc.close();

      await server.restart();
      nc = await connect({ servers: server.url });
      const info = await (await nc.jetstreamManager()).streams.info('HELPER_TEST');
      assert.equal(info.state.messages, 1);
      await nc.close();
    } finally {
      await server.stop();
    }
    assert.equal(existsSync(server.storeDir), false);
  });

  it('enforces a token when one is given', async () => {
    const server = await startNatsServer({ jetstream: false, token: 's3cret-token' });
    try {
      await assert.rejects(connect({ servers: server.url, reconnect: false }), /Authorization/i);
      const nc = await connect({ servers: server.url, token: 's3cret-token' });
      await nc.flush();
      await nc.close();
    } finally {
      await server.stop();
    }
  });
});
