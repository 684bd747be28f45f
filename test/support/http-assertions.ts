import assert from 'node:assert/strict';
import pg from 'pg';

/** One query on its own connection, for tests that look into the PostgreSQL store. */
export async function queryDatabase(uri: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

/** An error answer: the status, and a `{"message"}` body (equal to or matching `message`). */
export function assertErrorBody(response: { status: number; body: any; text: string }, status: number, message?: string | RegExp): void {
  assert.equal(response.status, status, response.text);
  assert.equal(typeof response.body?.message, 'string', response.text);
  if (typeof message === 'string') assert.equal(response.body.message, message);
  else if (message) assert.match(response.body.message, message);
}
