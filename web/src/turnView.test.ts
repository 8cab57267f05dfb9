import type { TurnEvent } from '@luna-narrates/sdk';
import { describe, expect, it } from 'vitest';

import { turnView } from './turnView';

function report(agent: string, seconds: number, cost: string) {
  return {
    agent,
    provider: 'test',
    model: 'test',
    seconds,
    cost_usd: cost,
    price_known: true,
    input_tokens: 100,
    output_tokens: 20,
    cache_read_tokens: 0,
    tokens_estimated: false,
    output: {},
  };
}

const start = (agent: string): TurnEvent => ({
  type: 'agent_start',
  data: { agent, provider: 'test', model: `test-${agent}`, chain: ['test'] },
});

// A turn as the server streams it (narration/pipeline.py), in order.
const turn: TurnEvent[] = [
  { type: 'status', data: { stage: 'planning', message: 'The writers are reading the story.' } },
  {
    type: 'cost_estimate',
    data: { estimated_cost_usd: '0.0021', price_known: true, agents: [] },
  },
  start('preprocessor'),
  { type: 'agent_complete', data: report('preprocessor', 0.4, '0.0003') },
  start('strategist'),
  { type: 'agent_complete', data: report('strategist', 1.25, '0.0007') },
  start('writer'),
  { type: 'token', data: { agent: 'writer', text: 'The canal ' } },
  { type: 'token', data: { agent: 'writer', text: 'is dark.' } },
];

const done: TurnEvent = {
  type: 'done',
  data: {
    turn: {
      agents: [],
      branch_id: 'b1',
      briefing: {},
      plan: {},
      cost_complete: true,
      narrative_text: 'The canal is dark.',
      story_id: 's1',
      total_cost_usd: '0.0019',
      total_execution_time_seconds: 3.1,
      turn_id: 't1',
      turn_number: 4,
      user_action: 'I slip in.',
    },
  },
};

describe('turnView', () => {
  it('starts with every agent waiting and no text', () => {
    const view = turnView([]);
    expect(view.text).toBe('');
    expect(view.agents.map((a) => [a.name, a.status])).toEqual([
      ['preprocessor', 'waiting'],
      ['strategist', 'waiting'],
      ['writer', 'waiting'],
    ]);
    expect(view.finished).toBe(false);
  });

  it('shows the Writer at work and its text token by token', () => {
    const view = turnView(turn);
    expect(view.text).toBe('The canal is dark.');
    expect(view.status).toBe('The writers are reading the story.');
    expect(view.estimatedCostUsd).toBe('0.0021');
    expect(view.agents).toEqual([
      { name: 'preprocessor', status: 'done', model: 'test-preprocessor', seconds: 0.4 },
      { name: 'strategist', status: 'done', model: 'test-strategist', seconds: 1.25 },
      { name: 'writer', status: 'working', model: 'test-writer', seconds: null },
    ]);
    expect(view.finished).toBe(false);
  });

  it('takes the stored turn, its number and its cost from done', () => {
    const view = turnView([
      ...turn,
      { type: 'agent_complete', data: report('writer', 2.5, '0.0009') },
      done,
    ]);
    expect(view.agents.every((a) => a.status === 'done')).toBe(true);
    expect(view.agents[2].seconds).toBe(2.5);
    expect(view.costUsd).toBe('0.0019');
    expect(view.turnNumber).toBe(4);
    expect(view.finished).toBe(true);
    expect(view.error).toBeNull();
  });

  it('ends on an error event with its message, keeping what was written', () => {
    const view = turnView([
      ...turn.slice(0, 7),
      {
        type: 'error',
        data: { status: 502, error: 'model_failed', message: 'The writer model did not answer.' },
      },
    ]);
    expect(view.error).toBe('The writer model did not answer.');
    expect(view.finished).toBe(true);
    expect(view.agents[2].status).toBe('working');
  });
});
