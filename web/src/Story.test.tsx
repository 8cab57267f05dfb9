// The story screen against a fake of the server's HTTP API (the routes it calls, answered as the
// server answers them): the passages listed, a turn streamed in, and a refused turn explained.
import { client } from '@luna-narrates/sdk';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';

import { Story } from './Story';

const STORY_ID = '0b6c1f8e-8a55-4d1e-9a39-2f1f3c1d2e01';
const turns: { turn_number: number; user_action: string; narrative_text: string }[] = [
  { turn_number: 1, user_action: 'I wait by the canal.', narrative_text: 'Fog rolls in.' },
];

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

function sse(events: [string, unknown][]): Response {
  const text = events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join('');
  return new Response(text, { headers: { 'Content-Type': 'text/event-stream' } });
}

function page() {
  return {
    branch_id: 'b1',
    from_turn: 1,
    limit: 20,
    last_from: 1,
    next_from: null,
    prev_from: null,
    items: turns.map((t) => ({
      ...t,
      id: `t${t.turn_number}`,
      branch_id: 'b1',
      story_id: STORY_ID,
      created_at: '2026-11-23T21:00:00Z',
      origin: 'player',
      total_cost_usd: '0',
      total_execution_time_seconds: 1,
      version: 1,
    })),
  };
}

const agent = (name: string, seconds: number) => ({
  agent: name, provider: 'test', model: 'test', seconds, cost_usd: '0.0001', price_known: true,
  input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, tokens_estimated: false, output: {},
});

let refuseTurns = false;

async function server(input: RequestInfo | URL): Promise<Response> {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.pathname === `/stories/${STORY_ID}`) {
    return json({ id: STORY_ID, title: 'The Canal Thief', premise: 'A thief in Veyra.' });
  }
  if (url.pathname === `/stories/${STORY_ID}/turns`) return json(page());
  if (url.pathname === `/narrates/stories/${STORY_ID}/generate`) {
    if (refuseTurns) {
      return json({ error: 'rate_limited', message: 'Too many turns: wait a minute.' }, 429);
    }
    const action = url.searchParams.get('action')!;
    turns.push({ turn_number: 2, user_action: action, narrative_text: 'A boat. A lantern.' });
    return sse([
      ['status', { stage: 'planning', message: 'Planning the turn.' }],
      ...['preprocessor', 'strategist', 'writer'].flatMap((name, i): [string, unknown][] => [
        ['agent_start', { agent: name, provider: 'test', model: 'test', chain: ['test'] }],
        ...(name === 'writer' ? [['token', { agent: 'writer', text: 'A boat. ' }] as [string, unknown]] : []),
        ['agent_complete', agent(name, i + 0.5)],
      ]),
      ['done', { turn: { narrative_text: 'A boat. A lantern.', total_cost_usd: '0.0003', turn_number: 2 } }],
    ]);
  }
  return json({ error: 'not_found', message: 'No such route.' }, 404);
}

beforeEach(() => {
  refuseTurns = false;
  vi.stubGlobal('fetch', vi.fn(server));
  client.setConfig({ baseUrl: window.location.origin, throwOnError: true, fetch: globalThis.fetch });
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderStory() {
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queries}>
      <Story storyId={STORY_ID} />
    </QueryClientProvider>,
  );
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

it('says why a turn was refused', async () => {
  refuseTurns = true;
  renderStory();
  await act('I row out.');
  expect((await screen.findByRole('alert')).textContent).toBe('Too many turns: wait a minute. (HTTP 429)');
});
