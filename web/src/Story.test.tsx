// The story screen against a fake of the server's HTTP API (the routes it calls, answered as the
// server answers them): the passages listed, a turn streamed in, a refused turn explained, a
// turn's pictures and what the AI saw, another take, an edit, a branch, and jumping to a turn.
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, expect, it, vi } from 'vitest';

import { Story } from './Story';
import { fakeServer, json, renderWithQueries, sse } from './testing';

const STORY_ID = '0b6c1f8e-8a55-4d1e-9a39-2f1f3c1d2e01';
const BRANCH = 'b1';
let turns: { turn_number: number; user_action: string; narrative_text: string; versions?: number }[];
let refuseTurns = false;
const sent: { method: string; path: string; query: string; body?: unknown }[] = [];



function page(from: number, limit: number) {
  const items = turns.filter((t) => t.turn_number >= from && t.turn_number < from + limit);
  const last = Math.max(1, turns.length - limit + 1);
  return {
    branch_id: BRANCH,
    total: turns.length,
    from_turn: from,
    limit,
    last_from: last,
    next_from: from + limit <= turns.length ? from + limit : null,
    prev_from: from > 1 ? Math.max(1, from - limit) : null,
    items: items.map((t) => ({
      versions: 1,
      ...t,
      id: `t${t.turn_number}-v${t.versions ?? 1}`, // each take is a row of its own
      branch_id: BRANCH,
      story_id: STORY_ID,
      created_at: '2026-11-23T21:00:00Z',
      origin: 'generated',
      total_cost_usd: '0',
      total_execution_time_seconds: 1,
      version: t.versions ?? 1,
      forks: [],
    })),
  };
}

const agent = (name: string, seconds: number) => ({
  agent: name, provider: 'test', model: 'test', seconds, cost_usd: '0.0001', price_known: true,
  input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, tokens_estimated: false, output: {},
});

function turnEvents(text: string, turnNumber: number, extra: Record<string, unknown> = {}): [string, unknown][] {
  return [
    ['status', { stage: 'planning', message: 'Planning the turn.' }],
    ...['preprocessor', 'strategist', 'writer'].flatMap((name, i): [string, unknown][] => [
      ['agent_start', { agent: name, provider: 'test', model: 'test', chain: ['test'] }],
      ...(name === 'writer' ? [['token', { agent: 'writer', text: 'A boat. ' }] as [string, unknown]] : []),
      ['agent_complete', agent(name, i + 0.5)],
    ]),
    ['done', { turn: { narrative_text: text, total_cost_usd: '0.0003', turn_number: turnNumber, ...extra } }],
  ];
}

const IMAGE = {
  id: 'i1', story_id: STORY_ID, image_type: 'background', subject: 'the canal', status: 'complete',
  placeholder: true, speculative: false, url: '/images/i1', turn_number: 1, prompt: 'a canal at night',
  negative_prompt: '', settings: {}, created_at: '2026-11-23T21:00:00Z',
};

const TURN_DETAIL = {
  id: 't1', story_id: STORY_ID, branch_id: BRANCH, turn_number: 1, user_action: 'I wait by the canal.',
  narrative_text: 'Fog rolls in.', origin: 'generated', version: 1, versions: 1, forks: [],
  created_at: '2026-11-23T21:00:00Z', total_cost_usd: '0.0002', total_execution_time_seconds: 3,
  briefing: {
    situation: 'Night on the canal.',
    player_intent: 'To wait unseen.',
    open_threads: ['Who rings the bell?'],
    memory: [
      { kind: 'lore', text: 'Veyra floods every spring.', source: { turn: 0, title: 'Veyra', lore_entry_id: 'l1', fired: true } },
      { kind: 'fact', text: 'Ila owes the guild.', source: { turn: 0, fact_id: 'f1' } },
    ],
  },
  plan: { scene_location: 'The canal', tone: 'tense', characters_present: ['Ila'], beats: ['Fog hides the quay.'] },
  agents: [
    { ...agent('writer', 2), stage: 'writer', cache_write_tokens: 0, prompt_hash: 'h', fallbacks: [], prompt: [], input: {} },
  ],
};

async function server(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const body = ['POST', 'PATCH', 'PUT'].includes(request.method) ? JSON.parse(await request.text()) : undefined;
  sent.push({ method: request.method, path: url.pathname, query: url.search, body });
  const path = url.pathname;
  const base = `/stories/${STORY_ID}`;
  if (path === base) return json({ id: STORY_ID, title: 'The Canal Thief', premise: 'A thief in Veyra.' });
  if (path === `${base}/turns`) {
    return json(page(Number(url.searchParams.get('from') ?? 1), Number(url.searchParams.get('limit') ?? 20)));
  }
  if (path === `${base}/images`) return json(url.searchParams.get('turn_number') === '1' ? [IMAGE] : []);
  if (path === '/images/i1') return new Response(new Blob(['png']), { headers: { 'Content-Type': 'image/png' } });
  if (path === `${base}/turns/1` && request.method === 'GET') return json(TURN_DETAIL);
  if (path === `${base}/turns/1` && request.method === 'PATCH') {
    turns[0] = { ...turns[0], narrative_text: body.narrative_text, versions: 2 };
    return json({ ...TURN_DETAIL, narrative_text: body.narrative_text, origin: 'edited', version: 2, versions: 2 });
  }
  if (path === `${base}/branches` && request.method === 'POST') {
    return json({ id: 'b2', name: body.branch_name, is_main: false, is_active: true, fork_turn_number: 1 }, 201);
  }
  if (path === `/narrates/stories/${STORY_ID}/turns/1/regenerate`) {
    turns[0] = { ...turns[0], narrative_text: 'The fog lifts.', versions: 2 };
    return sse(turnEvents('The fog lifts.', 1, { branch_created: { id: 'b3', name: 'Take 2 of turn 1' } }));
  }
  if (path === `/narrates/stories/${STORY_ID}/generate`) {
    if (refuseTurns) {
      return json({ error: 'rate_limited', message: 'Too many turns: wait a minute.' }, 429);
    }
    const action = url.searchParams.get('action')!;
    turns.push({ turn_number: turns.length + 1, user_action: action, narrative_text: 'A boat. A lantern.' });
    return sse(turnEvents('A boat. A lantern.', turns.length));
  }
  return json({ error: 'not_found', message: 'No such route.' }, 404);
}

fakeServer(server);

beforeEach(() => {
  turns = [{ turn_number: 1, user_action: 'I wait by the canal.', narrative_text: 'Fog rolls in.' }];
  refuseTurns = false;
  sent.length = 0;
  URL.createObjectURL = vi.fn(() => 'blob:picture');
  URL.revokeObjectURL = vi.fn();
});


function renderStory() {
  renderWithQueries(<Story storyId={STORY_ID} />);
}

async function act(text: string) {
  fireEvent.change(await screen.findByLabelText('What do you do?'), { target: { value: text } });
  fireEvent.click(screen.getByRole('button', { name: /Send/ }));
}

it('lists the passages and streams the next turn with its agents and cost', async () => {
  renderStory();
  expect(await screen.findByText('The Canal Thief')).toBeTruthy();
  expect(await screen.findByText('Fog rolls in.')).toBeTruthy();

  await act('I row out.');

  expect(await screen.findByText('Turn 2 stored · cost $0.0003')).toBeTruthy();
  expect(screen.getByText('2.5 s')).toBeTruthy(); // the Writer's seconds
  expect(await screen.findByText('A boat. A lantern.')).toBeTruthy(); // the stored passage, refetched
  expect(screen.getByText('I row out.')).toBeTruthy();
});

it('brings back the earlier actions with the arrow keys', async () => {
  renderStory();
  await act('I row out.');
  await screen.findByText('Turn 2 stored · cost $0.0003');
  const box = screen.getByLabelText('What do you do?') as HTMLTextAreaElement;
  await waitFor(() => expect(box.value).toBe(''));
  fireEvent.keyDown(box, { key: 'ArrowUp' });
  expect(box.value).toBe('I row out.');
  fireEvent.keyDown(box, { key: 'ArrowDown' });
  expect(box.value).toBe('');
});

it('says why a turn was refused', async () => {
  refuseTurns = true;
  renderStory();
  await act('I row out.');
  expect((await screen.findByRole('alert')).textContent).toBe('Too many turns: wait a minute. (HTTP 429)');
});

it("shows a turn's pictures and what the AI saw, with citations and the Strategist's beats", async () => {
  renderStory();
  const picture = (await screen.findByAltText('background: the canal')) as HTMLImageElement;
  expect(picture.src).toBe('blob:picture');
  expect(screen.getByText(/placeholder: no image worker is configured/)).toBeTruthy();
  expect(sent.some((r) => r.path === `/stories/${STORY_ID}/images` && r.query.includes('turn_number=1'))).toBe(true);

  fireEvent.click(screen.getByRole('button', { name: 'What the AI saw' }));
  const drawer = await screen.findByRole('complementary', { name: 'What the AI saw for turn 1' });
  expect(await within(drawer).findByText('Night on the canal.')).toBeTruthy();
  expect(within(drawer).getByText('[lore: Veyra]')).toBeTruthy();
  expect(within(drawer).getByText('[turn 0]')).toBeTruthy();
  expect(within(drawer).getByText('Veyra: fired on this turn')).toBeTruthy();
  expect(within(drawer).getByText('Fog hides the quay.')).toBeTruthy();
  expect(within(drawer).getByText(/test:test · 1 in \/ 1 out · 2.0 s · \$0.0001/)).toBeTruthy();
});

it('streams another take and says when it had to start a branch', async () => {
  renderStory();
  fireEvent.click(await screen.findByRole('button', { name: 'Another take' }));
  expect(await screen.findByRole('status')).toHaveProperty(
    'textContent',
    'Later turns build on this one, so the new take starts the branch “Take 2 of turn 1”.',
  );
  expect(await screen.findByText('The fog lifts.')).toBeTruthy(); // the new take, a new row
  expect(screen.getByRole('status').textContent).toContain('starts the branch “Take 2 of turn 1”');
  const call = sent.find((r) => r.path.endsWith('/turns/1/regenerate'))!;
  expect(call.query).toContain(`branch_id=${BRANCH}`);
});

it('saves an edited passage as a new take', async () => {
  renderStory();
  fireEvent.click(await screen.findByRole('button', { name: 'Edit' }));
  fireEvent.change(screen.getByLabelText('The passage of turn 1'), { target: { value: 'Fog, and a bell.' } });
  fireEvent.click(screen.getByRole('button', { name: 'Save as a new take' }));
  expect(await screen.findByText('Fog, and a bell.')).toBeTruthy();
  expect(sent.find((r) => r.method === 'PATCH')).toEqual({
    method: 'PATCH', path: `/stories/${STORY_ID}/turns/1`, query: `?branch_id=${BRANCH}`, body: { narrative_text: 'Fog, and a bell.' },
  });
  expect(await screen.findByText(/take 2 of 2/)).toBeTruthy();
});

it('starts a branch from a turn', async () => {
  renderStory();
  fireEvent.click(await screen.findByRole('button', { name: 'Branch from here' }));
  fireEvent.change(screen.getByLabelText('Name of the branch after turn 1'), { target: { value: 'The bell' } });
  fireEvent.click(screen.getByRole('button', { name: 'Start the branch' }));
  expect(await screen.findByText(/The branch “The bell” starts after turn 1/)).toBeTruthy();
  expect(sent.find((r) => r.path.endsWith('/branches'))?.body).toEqual({
    branch_name: 'The bell', from_turn_number: 1, from_branch_id: BRANCH, make_active: true,
  });
});

it('goes to the first, the latest, or any turn of a long story', async () => {
  turns = Array.from({ length: 45 }, (_, i) => ({
    turn_number: i + 1, user_action: `Action ${i + 1}`, narrative_text: `Passage ${i + 1}.`,
  }));
  renderStory();
  expect(await screen.findByText('Passage 45.')).toBeTruthy(); // the latest page first
  expect(screen.queryByText('Passage 25.')).toBeNull();

  fireEvent.change(screen.getAllByLabelText('Go to turn')[0], { target: { value: '3' } });
  fireEvent.click(screen.getAllByRole('button', { name: 'Go' })[0]);
  expect(await screen.findByText('Passage 3.')).toBeTruthy();
  expect(screen.queryByText('Passage 45.')).toBeNull();

  fireEvent.click(screen.getAllByRole('button', { name: 'Latest' })[0]);
  expect(await screen.findByText('Passage 45.')).toBeTruthy();
  fireEvent.click(screen.getAllByRole('button', { name: 'First' })[0]);
  expect(await screen.findByText('Passage 1.')).toBeTruthy();
});
