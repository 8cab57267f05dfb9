/**
 * The streamed turn: `GET /narrates/stories/{story_id}/generate` (and a turn's new take,
 * `GET /narrates/stories/{story_id}/turns/{n}/regenerate`) as typed events.
 *
 *     for await (const event of streamTurn({ baseUrl, storyId, action })) {
 *       if (event.type === 'token') process.stdout.write(event.data.text);
 *     }
 *
 * Written by hand (the rest of the SDK is generated): an OpenAPI schema cannot describe the
 * events of a Server-Sent Events stream. The events are parsed with eventsource-parser.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

import type { AgentReport, ImageOut, TurnResponse } from './client/types.gen.js';

export interface AgentCostEstimate {
  agent: string;
  model: string;
  estimated_input_tokens: number;
  estimated_output_tokens: number;
  estimated_cost_usd: string;
  price_known: boolean;
}

export type TurnEvent =
  | { type: 'status'; data: { stage: 'waiting' | 'planning' | 'saving'; message: string } }
  | {
      type: 'cost_estimate';
      data: { estimated_cost_usd: string; price_known: boolean; agents: AgentCostEstimate[] };
    }
  | { type: 'agent_start'; data: { agent: string; provider: string; model: string; chain: string[] } }
  | { type: 'agent_complete'; data: AgentReport & { output: unknown } }
  | { type: 'token'; data: { agent: 'writer'; text: string } }
  | { type: 'done'; data: { turn: TurnResponse } }
  | { type: 'error'; data: { status: number; error: string; message: string } & Record<string, unknown> }
  | { type: 'image_ready'; data: ImageOut };

export interface StreamTurnOptions {
  /** The server, e.g. `http://127.0.0.1:8001`. */
  baseUrl: string;
  storyId: string;
  action: string;
  branchId?: string;
  /**
   * A stream token (`POST /auth/stream-token`) when the server requires logins and the
   * caller cannot send headers; with `fetch`, `accessToken` (the header) is simpler.
   */
  streamToken?: string;
  /** An access token, sent as `Authorization: Bearer …`. */
  accessToken?: string;
  /** Aborting it ends the stream; the server then cancels the turn and stores nothing. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** An answer other than the event stream (404, 401, 429…): its status and JSON body. */
export class TurnStreamError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(
      typeof body === 'object' && body !== null && 'message' in body
        ? String((body as { message: unknown }).message)
        : `HTTP ${status}`,
    );
    this.name = 'TurnStreamError';
  }
}

/** The turn's events in order: `status`, `cost_estimate`, `agent_start`/`agent_complete` per
 * agent, the Writer's `token`s, then `done` (or `error`), then an `image_ready` per picture
 * drawn while the stream stays open. */
export function streamTurn(options: StreamTurnOptions): AsyncGenerator<TurnEvent> {
  const url = new URL(`/narrates/stories/${encodeURIComponent(options.storyId)}/generate`, options.baseUrl);
  url.searchParams.set('action', options.action);
  return streamEvents(url, options);
}

export interface StreamRegeneratedTurnOptions extends Omit<StreamTurnOptions, 'action'> {
  /** The turn to write again. */
  turnNumber: number;
  /** Another action for the new take; the turn's own by default. */
  action?: string;
}

/** Another take of turn N (`GET /narrates/stories/{id}/turns/{n}/regenerate`), with the events
 * of a new turn. When later turns or branches build on turn N, the take starts a new branch
 * (the `done` event's turn names it in `branch_created`). */
export function streamRegeneratedTurn(options: StreamRegeneratedTurnOptions): AsyncGenerator<TurnEvent> {
  const story = encodeURIComponent(options.storyId);
  const url = new URL(`/narrates/stories/${story}/turns/${options.turnNumber}/regenerate`, options.baseUrl);
  if (options.action) url.searchParams.set('action', options.action);
  return streamEvents(url, options);
}

async function* streamEvents(url: URL, options: Omit<StreamTurnOptions, 'action' | 'storyId'>): AsyncGenerator<TurnEvent> {
  if (options.branchId) url.searchParams.set('branch_id', options.branchId);
  if (options.streamToken) url.searchParams.set('access_token', options.streamToken);
  const headers: Record<string, string> = { Accept: 'text/event-stream' };
  if (options.accessToken) headers.Authorization = `Bearer ${options.accessToken}`;
  const response = await (options.fetch ?? fetch)(url, { headers, signal: options.signal });
  if (!response.ok || !response.body) {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the text itself
    }
    throw new TurnStreamError(response.status, body);
  }
  const pending: TurnEvent[] = [];
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      if (message.event) pending.push({ type: message.event, data: JSON.parse(message.data) } as TurnEvent);
    },
  });
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      yield* pending.splice(0);
    }
    parser.feed(decoder.decode());
    yield* pending.splice(0);
  } finally {
    reader.releaseLock();
  }
}
