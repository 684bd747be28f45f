import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isWithinTimeWindow } from '../src/gateway/reviews/time-window.js';
import { b64, startCluster, STORES, waitFor, type Cluster } from './support/cluster.js';
import { assertErrorBody } from './support/http-assertions.js';

/**
 * Reviews end to end: a connection with reviewers holds every exec until its groups approve;
 * the approved one-time review runs once (a database claim, whatever the concurrency or
 * gateway restarts), time windows, time-bound (jit) access with expiry and revocation, and who
 * may read and decide.
 */

const window = (start: string, end: string) => ({ type: 'time_range', configuration: { start_time: start, end_time: end } });
const hhmm = (date: Date) => date.toISOString().slice(11, 16);
const hoursFromNow = (hours: number) => hhmm(new Date(Date.now() + hours * 3600_000));

describe('time windows (UTC, both ends included)', () => {
  const at = (time: string) => new Date(`2024-05-01T${time}Z`);
  it('a day window admits only the hours between', () => {
    assert.equal(isWithinTimeWindow(window('09:00', '17:00'), at('09:00:00')), true);
    assert.equal(isWithinTimeWindow(window('09:00', '17:00'), at('17:00:00')), true);
    assert.equal(isWithinTimeWindow(window('09:00', '17:00'), at('17:00:01')), false);
    assert.equal(isWithinTimeWindow(window('09:00', '17:00'), at('08:59:59')), false);
  });
  it('an overnight window admits the hours before and after midnight', () => {
    assert.equal(isWithinTimeWindow(window('22:00', '02:00'), at('23:30:00')), true);
    assert.equal(isWithinTimeWindow(window('22:00', '02:00'), at('01:30:00')), true);
    assert.equal(isWithinTimeWindow(window('22:00', '02:00'), at('12:00:00')), false);
  });
});

for (const store of STORES) {
  describe(`reviews (${store})`, () => {
    let cluster: Cluster;
    let outputDir: string;
    const keys: Record<string, string> = {};
    const emails: Record<string, string> = {};
    const as = (who: string) => ({ authorization: `Bearer ${keys[who]}` });
    const exec = (who: string, body: Record<string, unknown>) => cluster.api('POST', '/api/sessions', body, as(who));
    const decide = (who: string, id: string, body: Record<string, unknown>) => cluster.api('PUT', `/api/reviews/${id}`, body, as(who));
    const runReviewed = (who: string, sessionId: string) => cluster.api('POST', `/api/sessions/${sessionId}/exec`, undefined, as(who));
    const review = async (sessionId: string) => {
      const found = await cluster.api('GET', `/api/reviews/${sessionId}`);
      assert.equal(found.status, 200, found.text);
      return found.body;
    };

    /** Asks for a reviewed exec; answers its session id. */
    async function request(who: string, body: Record<string, unknown>): Promise<string> {
      const asked = await exec(who, { connection: 'reviewed', ...body });
      assert.equal(asked.status, 200, asked.text);
      assert.equal(asked.body.has_review, true, asked.text);
      return asked.body.session_id;
    }

    /** Both groups approve (min approvals is 2). */
    async function approve(sessionId: string, extra: Record<string, unknown> = {}): Promise<void> {
      assert.equal((await decide('sre', sessionId, { status: 'APPROVED', ...extra })).status, 200);
      const approved = await decide('dba', sessionId, { status: 'approved' });
      assert.equal(approved.status, 200, approved.text);
      assert.equal(approved.body.status, 'APPROVED');
    }

    before(async () => {
      cluster = await startCluster(store, { GATEHOUSE_EXEC_WAIT_SECONDS: '20' });
      outputDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-reviews-'));
      for (const [name, groups] of [
        ['owner', ['dev']],
        ['sre', ['sre']],
        ['dba', ['dba']],
        ['sre-owner', ['sre']],
        ['security', ['security']],
        ['outsider', ['marketing']],
        ['auditor', ['auditor']],
      ] as const) {
        const created = await cluster.api('POST', '/api/api-keys', { name: `key-${name}`, groups });
        assert.equal(created.status, 201, created.text);
        keys[name] = created.body.key;
        // An API key acts as a user whose email is the key name.
        emails[name] = `key-${name}`;
      }
      const agentId = (await cluster.api('GET', '/api/agents/test-agent')).body.id;
      for (const connection of [
        { name: 'reviewed', reviewers: ['sre', 'dba'], min_review_approvals: 2, force_approve_groups: ['security'] },
        { name: 'jit-db', reviewers: ['sre'], access_max_duration: 3600 },
      ]) {
        const created = await cluster.api('POST', '/api/connections', { type: 'custom', command: ['bash'], agent_id: agentId, ...connection });
        assert.equal(created.status, 201, created.text);
      }
    });

    after(async () => {
      await cluster?.stop();
      if (outputDir) await rm(outputDir, { recursive: true, force: true });
    });

    it('holds the exec in a pending review that keeps the env var values secret', async () => {
      const asked = await exec('owner', { connection: 'reviewed', script: 'echo held', env_vars: { 'envvar:TOKEN': b64('s3cr3t-value') }, client_args: ['-e'] });
      assert.equal(asked.status, 200, asked.text);
      assert.equal(asked.body.has_review, true);
      const sessionId = asked.body.session_id;
      assert.ok(asked.body.output.endsWith(`/sessions/${sessionId}`), asked.text);

      const pending = await cluster.api('GET', `/api/reviews/${sessionId}`, undefined, as('owner'));
      assert.equal(pending.status, 200, pending.text);
      assert.equal(pending.body.status, 'PENDING');
      assert.equal(pending.body.type, 'onetime');
      assert.equal(pending.body.session, sessionId);
      assert.deepEqual(pending.body.input_env_vars, ['envvar:TOKEN']);
      assert.deepEqual(pending.body.input_client_args, ['-e']);
      assert.deepEqual(pending.body.review_groups_data.map((g: any) => [g.group, g.status, g.reviewed_by]), [['sre', 'PENDING', null], ['dba', 'PENDING', null]]);
      assert.ok(!pending.text.includes('s3cr3t') && !pending.text.includes(b64('s3cr3t-value')));

      const session = await cluster.api('GET', `/api/sessions/${sessionId}`, undefined, as('owner'));
      assert.equal(session.body.status, 'open');
      assert.equal(session.body.review.id, pending.body.id);
      // Reviewers read the session they decide on (its script), not its recording.
      const forReviewer = await cluster.api('GET', `/api/sessions/${sessionId}`, undefined, as('sre'));
      assert.equal(forReviewer.status, 200, forReviewer.text);
      assert.equal(forReviewer.body.script.data, 'echo held');
      const recording = await cluster.api('GET', `/api/sessions/${sessionId}?expand=event_stream`, undefined, as('sre'));
      assert.equal(recording.status, 200, recording.text);
      assert.equal(recording.body.event_stream, undefined);
      assertErrorBody(await cluster.api('GET', `/api/sessions/${sessionId}?extension=txt`, undefined, as('sre')), 403);
      assertErrorBody(await cluster.api('GET', `/api/sessions/${sessionId}`, undefined, as('outsider')), 403);
    });

    it('approves when both groups did (min approvals 2), recording who decided', async () => {
      const sessionId = await request('owner', { script: 'echo approved' });
      const first = await decide('sre', sessionId, { status: 'APPROVED' });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.status, 'PENDING');
      assertErrorBody(await decide('sre', sessionId, { status: 'APPROVED' }), 400, 'your groups have already approved this review');
      const second = await cluster.api('PUT', `/api/sessions/${sessionId}/review`, { status: 'APPROVED' }, as('dba'));
      assert.equal(second.status, 200, second.text);
      assert.equal(second.body.status, 'APPROVED');
      const groups = Object.fromEntries(second.body.review_groups_data.map((g: any) => [g.group, g]));
      assert.equal(groups.sre.status, 'APPROVED');
      assert.equal(groups.sre.reviewed_by.email, emails.sre);
      assert.equal(groups.dba.reviewed_by.email, emails.dba);
      assert.ok(!Number.isNaN(Date.parse(groups.dba.review_date)));
      assert.equal((await cluster.api('GET', `/api/sessions/${sessionId}`)).body.status, 'ready');
    });

    it('a force-approval group member approves alone', async () => {
      const sessionId = await request('owner', { script: 'echo forced' });
      const forced = await decide('security', sessionId, { status: 'APPROVED', force_review: true });
      assert.equal(forced.status, 200, forced.text);
      assert.equal(forced.body.status, 'APPROVED');
      assert.equal(forced.body.review_groups_data.find((g: any) => g.group === 'security').forced_review, true);
    });

    it('a rejection ends the review and its session', async () => {
      const sessionId = await request('owner', { script: 'echo rejected' });
      const rejected = await decide('dba', sessionId, { status: 'REJECTED', rejection_reason: 'not today' });
      assert.equal(rejected.status, 200, rejected.text);
      assert.equal(rejected.body.status, 'REJECTED');
      assert.equal(rejected.body.rejection_reason, 'not today');
      const session = (await cluster.api('GET', `/api/sessions/${sessionId}`)).body;
      assert.equal(session.status, 'done');
      assert.match(session.end_reason, /denied by .*not today/);
      assertErrorBody(await decide('sre', sessionId, { status: 'APPROVED' }), 400, 'review is in wrong state');
      assertErrorBody(await runReviewed('owner', sessionId), 403, /review not approved/);
    });

    it('refuses self-approval, non-reviewers and auditors; auditors and reviewers read', async () => {
      const sessionId = await request('sre-owner', { script: 'echo mine' });
      assertErrorBody(await decide('sre-owner', sessionId, { status: 'APPROVED' }), 403, 'unable to self approve review');
      assertErrorBody(await decide('outsider', sessionId, { status: 'APPROVED' }), 403, 'not eligible for review');
      assertErrorBody(await decide('outsider', sessionId, { status: 'REJECTED' }), 403, 'not eligible for review');
      assertErrorBody(await decide('auditor', sessionId, { status: 'APPROVED' }), 403, 'access denied');
      assertErrorBody(await decide('sre', sessionId, { status: 'MAYBE' }), 400, /unknown status/);
      assertErrorBody(await cluster.api('GET', `/api/reviews/${sessionId}`, undefined, as('outsider')), 403);
      for (const reader of ['auditor', 'dba', 'sre-owner']) {
        const read = await cluster.api('GET', `/api/reviews/${sessionId}`, undefined, as(reader));
        assert.equal(read.status, 200, `${reader}: ${read.text}`);
      }
      assert.equal((await review(sessionId)).status, 'PENDING');

      const listed = await cluster.api('GET', '/api/reviews?limit=1', undefined, as('auditor'));
      assert.equal(listed.status, 200, listed.text);
      assert.equal(listed.body.data.length, 1);
      assert.equal(listed.body.has_next_page, true);
      const outsiders = await cluster.api('GET', '/api/reviews', undefined, as('outsider'));
      assert.deepEqual(outsiders.body.data, []);
      const pending = await cluster.api('GET', '/api/reviews?status=PENDING&connection=reviewed', undefined, as('sre'));
      assert.ok(pending.body.data.some((r: any) => r.session === sessionId));
      assert.ok(pending.body.data.every((r: any) => r.status === 'PENDING'));
      assertErrorBody(await cluster.api('GET', '/api/reviews?limit=0'), 422, 'failed listing reviews, invalid "limit" option: must be at least 1, got 0');
    });

    it('runs the approved review once, as its owner, with the reviewed script byte for byte', async () => {
      const script = `printf '%s\\n' "$GREETING" "$1"\n# tab\there, ünïcödé, "quotes" and a trailing line\n`;
      const sessionId = await request('owner', { script, env_vars: { 'envvar:GREETING': b64('hello') }, client_args: ['-s', 'arg-one'] });
      await approve(sessionId);
      assertErrorBody(await runReviewed('sre', sessionId), 403, 'unable to execute session');
      const ran = await runReviewed('owner', sessionId);
      assert.equal(ran.status, 200, ran.text);
      assert.equal(ran.body.output, 'hello\narg-one\n');
      assert.equal(ran.body.exit_code, 0);
      assert.equal((await review(sessionId)).status, 'EXECUTED');

      const session = (await cluster.api('GET', `/api/sessions/${sessionId}?expand=event_stream`)).body;
      assert.equal(session.status, 'done');
      const inputs = session.event_stream.filter((e: any) => e[1] === 'i').map((e: any) => Buffer.from(e[2], 'base64'));
      assert.deepEqual(Buffer.concat(inputs), Buffer.from(script));
      assert.equal(session.user, emails.owner);

      assertErrorBody(await runReviewed('owner', sessionId), 409, /already executed/);
    });

    it('two concurrent execs: exactly one runs', async () => {
      const file = path.join(outputDir, 'concurrent.txt');
      const sessionId = await request('owner', { script: `echo ran >> '${file}'` });
      await approve(sessionId);
      const answers = await Promise.all([runReviewed('owner', sessionId), runReviewed('owner', sessionId), runReviewed('owner', sessionId)]);
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409, 409], answers.map((a) => a.text).join('\n'));
      assert.equal(await readFile(file, 'utf8'), 'ran\n');
    });

    it('refuses an exec outside its time window; runs inside one (set at approval, over midnight)', async () => {
      const outside = await request('owner', { script: 'echo late', time_window: window(hoursFromNow(2), hoursFromNow(3)) });
      await approve(outside);
      assertErrorBody(await runReviewed('owner', outside), 403, /execution not allowed outside the time window .* UTC/);
      assert.equal((await review(outside)).status, 'APPROVED');

      // Starts an hour ago, ends half an hour before that: every time of day but that half hour.
      const inside = await request('owner', { script: 'echo on time' });
      await approve(inside, { time_window: window(hoursFromNow(-1), hoursFromNow(-1.5)) });
      assert.deepEqual((await review(inside)).time_window, window(hoursFromNow(-1), hoursFromNow(-1.5)));
      const ran = await runReviewed('owner', inside);
      assert.equal(ran.status, 200, ran.text);
      assert.equal(ran.body.output, 'on time\n');
      assertErrorBody(await decide('sre', await request('owner', {}), { status: 'APPROVED', time_window: window('25:00', '02:00') }), 400, /invalid start_time format/);
    });

    it('survives a gateway restart between request, approval and exec', async () => {
      const file = path.join(outputDir, 'restart.txt');
      const approvedBefore = await request('owner', { script: `echo first >> '${file}'` });
      await approve(approvedBefore);
      const pendingBefore = await request('owner', { script: `echo second >> '${file}'` });
      await cluster.stopGateway();
      await cluster.startGateway();
      await cluster.waitAgentStatus('CONNECTED');
      assert.equal((await review(pendingBefore)).status, 'PENDING');
      assert.equal((await cluster.api('GET', `/api/sessions/${pendingBefore}`)).body.status, 'open');
      await approve(pendingBefore);
      for (const sessionId of [approvedBefore, pendingBefore]) {
        const ran = await runReviewed('owner', sessionId);
        assert.equal(ran.status, 200, ran.text);
      }
      assert.equal(await readFile(file, 'utf8'), 'first\nsecond\n');
    });

    it('time-bound access: any number of execs until it expires', async () => {
      assertErrorBody(await exec('owner', { connection: 'jit-db', access_duration_sec: 7200 }), 400, 'jit access input exceeds connection max duration of 3600s');
      const asked = await exec('owner', { connection: 'jit-db', access_duration_sec: 2 });
      assert.equal(asked.body.has_review, true, asked.text);
      const jit = await review(asked.body.session_id);
      assert.equal(jit.type, 'jit');
      assert.equal(jit.access_duration_sec, 2);
      assert.equal(jit.access_duration, 2_000_000_000);
      assertErrorBody(await runReviewed('owner', asked.body.session_id), 404, 'session not found');

      const approved = await decide('sre', asked.body.session_id, { status: 'APPROVED' });
      assert.equal(approved.body.status, 'APPROVED', approved.text);
      const expiresAt = Date.parse(approved.body.revoke_at);
      for (const n of [1, 2]) {
        const ran = await exec('owner', { connection: 'jit-db', script: `echo run ${n}` });
        // Access may already be over on a slow machine; then the exec is held again.
        if (Date.now() >= expiresAt) break;
        assert.equal(ran.status, 200, ran.text);
        assert.equal(ran.body.has_review, false);
      }
      // Someone else's access is their own.
      assert.equal((await exec('outsider', { connection: 'jit-db', script: 'echo me' })).body.has_review, true);

      await waitFor('the access to expire', async () => (Date.now() > expiresAt + 200 ? true : undefined), 10_000);
      const held = await exec('owner', { connection: 'jit-db', script: 'echo expired' });
      assert.equal(held.body.has_review, true, held.text);
    });

    it('time-bound access ends when revoked', async () => {
      const asked = await exec('owner', { connection: 'jit-db', access_duration_sec: 3600 });
      assert.equal((await decide('sre', asked.body.session_id, { status: 'APPROVED' })).status, 200);
      const ran = await exec('owner', { connection: 'jit-db', script: 'echo granted' });
      assert.equal(ran.body.output, 'granted\n', ran.text);
      const revoked = await decide('sre', asked.body.session_id, { status: 'REVOKED' });
      assert.equal(revoked.status, 200, revoked.text);
      assert.equal(revoked.body.status, 'REVOKED');
      assert.equal((await exec('owner', { connection: 'jit-db', script: 'echo again' })).body.has_review, true);
      assertErrorBody(await decide('sre', await request('owner', {}), { status: 'REVOKED' }), 400, 'only time-bound (jit) reviews can be revoked');
    });
  });
}
