// The costs screen against a fake of the server's cost routes (answered as the server answers
// them): the month's figures beside their chart, the agents' table, the projection, a story's
// turns charted (at $0 too, with their tokens), the empty state, and a refused call explained.
import { cleanup, screen, within } from '@testing-library/react';
import { beforeEach, expect, it } from 'vitest';

import { Costs } from './Costs';
import { fakeServer, json, renderWithQueries } from './testing';

const STORY = 's1';
let turnCost = '0.0004';
let played = true;
let refuse = false;
const asked: string[] = [];


const spend = (agent: string, cost: string) => ({
  agent, provider: 'anthropic', model: 'claude-haiku-4-5', cost_usd: cost, calls: 2,
  input_tokens: 900, output_tokens: 300, cache_read_tokens: 0, unpriced_calls: 0,
});

function turn(n: number) {
  return {
    turn_id: `t${n}`, turn_number: n, version: 1, is_selected: true, cost_usd: turnCost, calls: 3,
    input_tokens: 1000 + n, output_tokens: 200, cache_read_tokens: 0, unpriced_calls: 0,
    by_agent: [spend('writer', turnCost)],
  };
}

async function server(request: Request): Promise<Response> {
  const url = new URL(request.url);
  asked.push(url.pathname + url.search);
  if (refuse) return json({ error: 'not_found', message: 'No story s1 here.' }, 404);
  switch (url.pathname) {
    case '/stories':
      return json({ items: [{ id: STORY, title: 'The Canal Thief' }], total: 1, limit: 100, offset: 0 });
    case '/cost-analytics/monthly':
      return json(
        played
          ? [{ period: '2026-11-01', cost_usd: '0.0123', turns: 30, calls: 90, input_tokens: 30000, output_tokens: 6000, cache_read_tokens: 0, unpriced_calls: 0 }]
          : [],
      );
    case '/cost-analytics/agents':
      return json(played ? [spend('preprocessor', '0.0020'), spend('writer', '0.0090')] : []);
    case '/cost-analytics/projection':
      return json({
        turns_per_month: Number(url.searchParams.get('turns_per_month')), sample_turns: 30,
        avg_turn_cost_usd: '0.0004', projected_monthly_usd: '0.40', avg_input_tokens: 1000.4,
        avg_output_tokens: 200, compare_model: 'anthropic:claude-sonnet-4-5',
        compare_turn_cost_usd: '0.006', compare_monthly_usd: '6.00', saving_usd: '5.60', summary: '',
      });
    case `/cost-analytics/stories/${STORY}`:
      return json({
        story_id: STORY, turns: played ? 2 : 0, calls: 6, cost_usd: played ? String(Number(turnCost) * 2) : '0',
        avg_turn_cost_usd: turnCost, input_tokens: 2003, output_tokens: 400, cache_read_tokens: 0,
        unpriced_calls: 0, by_agent: played ? [spend('writer', turnCost)] : [],
      });
    case `/cost-analytics/stories/${STORY}/turns`:
      return json(played ? { items: [turn(1), turn(2)], total: 2 } : { items: [], total: 0 });
  }
  return json({ error: 'not_found', message: 'No such route.' }, 404);
}

fakeServer(server);

beforeEach(() => {
  turnCost = '0.0004';
  played = true;
  refuse = false;
  asked.length = 0;
});


function renderCosts(storyId?: string) {
  renderWithQueries(<Costs storyId={storyId} />);
}

it("charts the months with their figures, the agents, and the month's projection", async () => {
  renderCosts();
  const figure = await screen.findByRole('figure', { name: 'Cost per month' });
  expect(figure.querySelector('svg')).toBeTruthy();
  const month = screen.getByRole('rowheader', { name: /Nov 2026/ }).closest('tr')!;
  expect([...month.querySelectorAll('td')].map((td) => td.textContent)).toEqual(['$0.0123', '30', '30000 / 6000']);

  const agents = await screen.findByRole('table', { name: 'Every story by agent' });
  expect(within(agents).getByRole('rowheader', { name: 'writer' }).closest('tr')!.textContent).toContain('$0.0090');
  expect(await screen.findByText('$0.40')).toBeTruthy();
  expect(screen.getByText(/a month for 1000 turns at \$0.0004 a turn, measured on your last 30 turn/)).toBeTruthy();
  expect(screen.getByText(/your mix saves \$5.60/)).toBeTruthy();
  expect(asked).toContain('/cost-analytics/projection?turns_per_month=1000');
});

it("charts a story's turns, and says so when they cost nothing", async () => {
  renderCosts(STORY);
  const figure = await screen.findByRole('figure', { name: 'Cost per turn' });
  expect(figure.querySelector('svg')).toBeTruthy();
  expect(screen.getByText(/\$0.0008 for 2 turn\(s\)/)).toBeTruthy();
  expect(within(figure).queryByText(/cost nothing/)).toBeNull();
  cleanup();

  turnCost = '0';
  renderCosts(STORY);
  const free = await screen.findByRole('figure', { name: 'Cost per turn' });
  expect(within(free).getByText(/Every turn cost \$0: local and test models cost nothing./)).toBeTruthy();
});

it('says plainly when nothing has been spent', async () => {
  played = false;
  renderCosts(STORY);
  expect(await screen.findByText('No turns yet: nothing has been spent on this story.')).toBeTruthy();
  expect(await screen.findByText('Nothing spent yet: no turn has been played.')).toBeTruthy();
  expect(screen.queryByRole('figure')).toBeNull();
});

it("shows the server's message when it refuses", async () => {
  refuse = true;
  renderCosts(STORY);
  expect((await screen.findAllByRole('alert'))[0].textContent).toBe('No story s1 here.');
});
