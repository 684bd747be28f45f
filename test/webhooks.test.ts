import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startCluster, STORES, waitFor, type Cluster } from './support/cluster.js';
import { assertErrorBody } from './support/http-assertions.js';

/**
 * Outgoing webhooks end to end: a real HTTP receiver on loopback gets signed deliveries from
 * the gateway's outbox; failed sends are retried; a delivery queued while the receiver is down
 * survives a gateway restart; secrets are shown once and never logged.
 */

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Records every request; answers 500 to the next `failNext` requests of a path, 204 otherwise. */
class Receiver {
  readonly received: Received[] = [];
  readonly failNext = new Map<string, number>();
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        const path = request.url ?? '';
        this.received.push({ path, headers: request.headers, body });
        const failures = this.failNext.get(path) ?? 0;
        this.failNext.set(path, Math.max(failures - 1, 0));
        response.writeHead(failures > 0 ? 500 : 204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The requests to `path` carrying the session.finished event of `sessionId`. */
  forSession(path: string, sessionId: string): Received[] {
    return this.received.filter((r) => r.path === path && JSON.parse(r.body).data?.id === sessionId);
  }
}

function assertSigned(request: Received, secret: string): void {
  const timestamp = request.headers['gatehouse-webhook-timestamp'] as string;
  assert.match(timestamp, /^\d+$/);
  const expected = createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex');
  assert.equal(request.headers['gatehouse-webhook-signature'], `v1=${expected}`);
}

for (const store of STORES) {
  describe(`webhooks (${store})`, () => {
    let cluster: Cluster;
    const receiver = new Receiver();
    const secrets: string[] = [];
    /** Output of gateway processes already stopped (a restart replaces `cluster.gateway`). */
    let earlierGatewayLogs = '';
    let everything: { id: string; secret: string };
    let standardKey: string;

    const createWebhook = async (body: Record<string, unknown>) => {
      const created = await cluster.api('POST', '/api/webhooks', body);
      assert.equal(created.status, 201, created.text);
      secrets.push(created.body.secret);
      return created.body;
    };
    const deliveries = async (webhookId: string, query = '') => {
      const response = await cluster.api('GET', `/api/webhooks/${webhookId}/deliveries${query}`);
      assert.equal(response.status, 200, response.text);
      return response.body;
    };
    const run = async (script: string): Promise<string> => {
      const ran = await cluster.exec({ script });
      assert.equal(ran.status, 200, ran.text);
      return ran.body.session_id;
    };
    const waitForDelivery = (path: string, sessionId: string) =>
      waitFor(`a delivery of session ${sessionId} to ${path}`, async () => receiver.forSession(path, sessionId)[0], 60_000);

    before(async () => {
      await receiver.start();
      cluster = await startCluster(store, { GATEHOUSE_WEBHOOK_RETRY_BASE_MS: '200', GATEHOUSE_LOG_LEVEL: 'debug' });
      const key = await cluster.api('POST', '/api/api-keys', { name: 'developer', groups: ['developers'] });
      assert.equal(key.status, 201, key.text);
      standardKey = key.body.key;
    });

    after(async () => {
      await cluster?.stop();
      await receiver.stop();
    });

    it('only admins administer webhooks', async () => {
      const as = { authorization: `Bearer ${standardKey}` };
      assertErrorBody(await cluster.api('POST', '/api/webhooks', { name: 'x', url: receiver.url('/x') }, as), 403, 'access denied');
      assertErrorBody(await cluster.api('GET', '/api/webhooks', undefined, as), 403, 'access denied');
      assertErrorBody(await cluster.api('GET', '/api/webhooks/00000000-0000-4000-8000-000000000000/deliveries', undefined, as), 403);
    });

    it('creates a webhook: the secret is generated and shown once, masked afterwards', async () => {
      const created = await createWebhook({ name: 'everything', url: receiver.url('/everything') });
      assert.match(created.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(created.events, ['review.created', 'review.approved', 'review.rejected', 'review.executed', 'session.finished']);
      assert.equal(created.enabled, true);
      everything = { id: created.id, secret: created.secret };

      const fetched = await cluster.api('GET', `/api/webhooks/${created.id}`);
      assert.equal(fetched.status, 200, fetched.text);
      assert.equal(fetched.body.secret, '*****');
      const listed = await cluster.api('GET', '/api/webhooks');
      assert.ok(listed.body.some((w: any) => w.id === created.id));
      assert.ok(!listed.text.includes(created.secret));

      assertErrorBody(await cluster.api('POST', '/api/webhooks', { name: 'ftp', url: 'ftp://127.0.0.1/x' }), 400, 'url must be an http or https URL');
      assertErrorBody(await cluster.api('POST', '/api/webhooks', { name: 'bad', url: receiver.url('/x'), events: ['nope'] }), 400);
      assertErrorBody(await cluster.api('GET', '/api/webhooks/nope'), 404, 'webhook not found');
    });

    it('sends session.finished after POST /api/sessions, signed, to subscribed webhooks only', async () => {
      const reviewsOnly = await createWebhook({ name: 'reviews', url: receiver.url('/reviews'), events: ['review.created'], secret: 'reviews-secret-1234' });
      const sessionId = await run('echo top-secret-output');

      const request = await waitForDelivery('/everything', sessionId);
      assertSigned(request, everything.secret);
      assert.match(request.headers['content-type']!, /^application\/json/);
      const body = JSON.parse(request.body);
      assert.equal(request.headers['gatehouse-webhook-id'], body.id);
      assert.equal(body.type, 'session.finished');
      assert.ok(!Number.isNaN(Date.parse(body.created_at)));
      assert.deepEqual(Object.keys(body.data).sort(), ['connection', 'end_date', 'end_reason', 'exit_code', 'id', 'start_date', 'status', 'user']);
      assert.deepEqual([body.data.connection, body.data.status, body.data.exit_code], ['bash', 'done', 0]);
      assert.ok(!request.body.includes('top-secret-output'));

      // Deliveries are queued before the exec answers, so none queued now means none ever.
      assert.equal((await deliveries(reviewsOnly.id)).total, 0);
      assert.equal(receiver.received.filter((r) => r.path === '/reviews').length, 0);
    });

    it('retries a failed delivery with backoff until the receiver takes it, and logs the attempts', async () => {
      const flaky = await createWebhook({ name: 'flaky', url: receiver.url('/flaky'), events: ['session.finished'] });
      receiver.failNext.set('/flaky', 2);
      const sessionId = await run('true');

      const delivered = await waitFor(
        'the flaky delivery to be delivered',
        async () => (await deliveries(flaky.id)).data.find((d: any) => d.status === 'delivered'),
        60_000,
      );
      assert.equal(delivered.attempts, 3);
      assert.equal(delivered.last_status_code, 204);
      assert.equal(delivered.last_error, null);
      assert.equal(delivered.next_attempt_at, null);
      assert.equal(delivered.event_type, 'session.finished');
      const sends = receiver.forSession('/flaky', sessionId);
      assert.equal(sends.length, 3);
      assert.equal(new Set(sends.map((s) => s.headers['gatehouse-webhook-id'])).size, 1, 'one delivery id across retries');
      for (const send of sends) assertSigned(send, flaky.secret);

      const retried = await cluster.api('POST', `/api/webhooks/${flaky.id}/deliveries/${delivered.id}/retry`);
      assert.equal(retried.status, 200, retried.text);
      assert.equal(retried.body.status, 'pending');
      await waitFor('the retried delivery', async () => (receiver.forSession('/flaky', sessionId).length === 4 ? true : undefined));
      assertErrorBody(await cluster.api('POST', `/api/webhooks/${flaky.id}/deliveries/00000000-0000-4000-8000-000000000000/retry`), 404);
    });

    it('pages the delivery log', async () => {
      const page = await deliveries(everything.id, '?limit=1');
      assert.equal(page.data.length, 1);
      assert.ok(page.total >= 2);
      assert.equal(page.has_next_page, true);
      const last = await deliveries(everything.id, `?limit=1&offset=${page.total - 1}`);
      assert.equal(last.has_next_page, false);
      assertErrorBody(await cluster.api('GET', `/api/webhooks/${everything.id}/deliveries?limit=x`), 400);
    });

    it('updates a webhook; the masked secret keeps it; a disabled webhook gets nothing', async () => {
      const updated = await cluster.api('PUT', `/api/webhooks/${everything.id}`, { name: 'everything', url: receiver.url('/everything'), secret: '*****' });
      assert.equal(updated.status, 200, updated.text);
      const sessionId = await run('true');
      assertSigned(await waitForDelivery('/everything', sessionId), everything.secret);

      const muted = await createWebhook({ name: 'muted', url: receiver.url('/muted'), enabled: false });
      await run('true');
      assert.equal((await deliveries(muted.id)).total, 0);
      assert.equal((await cluster.api('DELETE', `/api/webhooks/${muted.id}`)).status, 204);
      assert.equal((await cluster.api('GET', `/api/webhooks/${muted.id}`)).status, 404);
    });

    it('loses nothing across a gateway restart: a delivery queued while the receiver is down arrives later', async () => {
      await receiver.stop();
      const sessionId = await run('true');
      const queued = (await deliveries(everything.id)).data[0];
      assert.equal(queued.status, 'pending');
      earlierGatewayLogs += cluster.gateway.output();
      await cluster.stopGateway();

      await receiver.start();
      await cluster.startGateway();
      const request = await waitForDelivery('/everything', sessionId);
      assertSigned(request, everything.secret);
      assert.equal(JSON.parse(request.body).id, queued.id);
    });

    it('never writes a secret to the gateway logs', () => {
      const logs = earlierGatewayLogs + cluster.gateway.output();
      assert.ok(logs.includes('webhook delivery failed'), 'the failed sends were logged');
      for (const secret of secrets) assert.ok(!logs.includes(secret), 'a webhook secret is in the logs');
    });
  });
}
