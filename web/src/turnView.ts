/**
 * What the player sees of a turn while it streams: the Writer's text so far, which agent is
 * working, each agent's seconds, the turn's cost, or what went wrong. A pure fold over the
 * stream's events, so the screen re-renders from `turnView(events)` and tests need no server.
 */
import type { TurnEvent } from '@luna-narrates/sdk';

export const AGENTS = ['preprocessor', 'strategist', 'writer'] as const;

export type AgentStatus = 'waiting' | 'working' | 'done';

export interface AgentView {
  name: string;
  status: AgentStatus;
  model: string | null;
  seconds: number | null;
}

export interface TurnView {
  /** The stage the server last announced (`waiting`, `planning`, `saving`) and its message. */
  status: string | null;
  text: string;
  agents: AgentView[];
  estimatedCostUsd: string | null;
  costUsd: string | null;
  turnNumber: number | null;
  finished: boolean;
  error: string | null;
}

export const initialTurnView: TurnView = {
  status: null,
  text: '',
  agents: AGENTS.map((name) => ({ name, status: 'waiting', model: null, seconds: null })),
  estimatedCostUsd: null,
  costUsd: null,
  turnNumber: null,
  finished: false,
  error: null,
};

export function applyTurnEvent(view: TurnView, event: TurnEvent): TurnView {
  switch (event.type) {
    case 'status':
      return { ...view, status: event.data.message };
    case 'cost_estimate':
      return { ...view, estimatedCostUsd: event.data.estimated_cost_usd };
    case 'agent_start':
      return withAgent(view, event.data.agent, { status: 'working', model: event.data.model });
    case 'agent_complete':
      return withAgent(view, event.data.agent, { status: 'done', seconds: event.data.seconds });
    case 'token':
      return { ...view, text: view.text + event.data.text };
    case 'done':
      return {
        ...view,
        text: event.data.turn.narrative_text,
        costUsd: event.data.turn.total_cost_usd,
        turnNumber: event.data.turn.turn_number,
        finished: true,
        status: null,
      };
    case 'error':
      return { ...view, error: event.data.message, finished: true, status: null };
    default:
      return view; // image_ready: the passage shows its pictures, refetched (useTurnStream)
  }
}

export function turnView(events: readonly TurnEvent[]): TurnView {
  return events.reduce(applyTurnEvent, initialTurnView);
}

function withAgent(view: TurnView, name: string, change: Partial<AgentView>): TurnView {
  const known = view.agents.some((agent) => agent.name === name);
  const agents = known
    ? view.agents.map((agent) => (agent.name === name ? { ...agent, ...change } : agent))
    : [...view.agents, { name, status: 'waiting' as const, model: null, seconds: null, ...change }];
  return { ...view, agents };
}
