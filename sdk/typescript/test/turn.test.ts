/**
 * Against a real LUNA-Narrates server (tests/sdk/test_typescript_sdk.py starts one on the
 * test models and passes its address as LUNA_URL): the generated client creates a story and
 * reads it back, and streamTurn yields the turn's events, typed, ending in `done`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  client,
  createStory,
  getStory,
  listVersions,
  streamRegeneratedTurn,
  streamTurn,
  TurnStreamError,
  type TurnEvent,
} from '../src/index.js';

const baseUrl = process.env.LUNA_URL;
assert.ok(baseUrl, 'LUNA_URL names the server under test');
client.setConfig({ baseUrl });

test('the generated client creates and reads a story', async () => {
  const created = await createStory({ body: { title: 'The Canal Thief', premise: 'A thief in Veyra.' } });
  assert.equal(created.response.status, 201);
  const id = created.data!.id;
  const read = await getStory({ path: { story_id: id } });
  assert.equal(read.data?.title, 'The Canal Thief');
  const missing = await getStory({ path: { story_id: '00000000-0000-0000-0000-00000000abcd' } });
  assert.equal(missing.response.status, 404);
});

test('streamTurn yields the typed events of a turn, the passage token by token', async () => {
  const created = await createStory({ body: { title: 'Streamed', premise: 'A thief in Veyra.' } });
  const events: TurnEvent[] = [];
  for await (const event of streamTurn({ baseUrl: baseUrl!, storyId: created.data!.id, action: 'I slip in.' })) {
    events.push(event);
  }
  const kinds = events.map((e) => e.type);
  assert.equal(kinds.at(-1), 'done');
  assert.deepEqual(
    kinds.filter((k) => k === 'agent_start'),
    ['agent_start', 'agent_start', 'agent_start'],
  );
  const text = events.flatMap((e) => (e.type === 'token' ? [e.data.text] : [])).join('');
  const done = events.at(-1)!;
  assert.ok(done.type === 'done');
  assert.equal(done.data.turn.narrative_text, text);
  assert.equal(done.data.turn.turn_number, 1);
});

test('streamRegeneratedTurn streams another take of a turn, kept beside the first', async () => {
  const created = await createStory({ body: { title: 'Two takes', premise: 'A thief in Veyra.' } });
  const storyId = created.data!.id;
  for await (const _ of streamTurn({ baseUrl: baseUrl!, storyId, action: 'I slip in.' })) {
    // the first take
  }
  const events: TurnEvent[] = [];
  for await (const event of streamRegeneratedTurn({ baseUrl: baseUrl!, storyId, turnNumber: 1, action: 'I climb in.' })) {
    events.push(event);
  }
  const done = events.find((e) => e.type === 'done');
  assert.ok(done?.type === 'done');
  assert.equal(done.data.turn.turn_number, 1);
  assert.equal(done.data.turn.user_action, 'I climb in.');
  assert.equal(done.data.turn.branch_created, null);
  const versions = await listVersions({ path: { story_id: storyId, turn_number: 1 } });
  assert.deepEqual(
    versions.data?.items.map((v) => [v.version, v.user_action, v.is_selected]),
    [
      [1, 'I slip in.', false],
      [2, 'I climb in.', true],
    ],
  );
});

test('an answer other than the stream is a TurnStreamError with its status', async () => {
  await assert.rejects(
    async () => {
      for await (const _ of streamTurn({ baseUrl: baseUrl!, storyId: '00000000-0000-0000-0000-00000000abcd', action: 'x' })) {
        // never reached
      }
    },
    (error: unknown) => error instanceof TurnStreamError && error.status === 404,
  );
});
