/** Following a streamed turn (a new one, or another take of one): its events as they come, the
 * failure to show, and the stream closed when a new one starts or the component goes. */
import type { TurnEvent } from '@luna-narrates/sdk';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';

import { errorMessage } from './errors';
import { turnView, type TurnView } from './turnView';

export interface TurnStream {
  view: TurnView | null;
  failure: string | null;
  busy: boolean;
  /** Runs the stream `open` makes; `onDone` gets the stored turn's `done` event. */
  run: (
    open: (signal: AbortSignal) => AsyncGenerator<TurnEvent>,
    onDone: (event: Extract<TurnEvent, { type: 'done' }>) => void,
  ) => Promise<void>;
}

export function useTurnStream(storyId: string): TurnStream {
  const queryClient = useQueryClient();
  const [events, setEvents] = useState<TurnEvent[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const running = useRef<AbortController | null>(null);
  useEffect(() => () => running.current?.abort(), []);

  async function run(
    open: (signal: AbortSignal) => AsyncGenerator<TurnEvent>,
    onDone: (event: Extract<TurnEvent, { type: 'done' }>) => void,
  ) {
    running.current?.abort(); // a finished turn's stream may still be open for its pictures
    const controller = new AbortController();
    running.current = controller;
    setEvents([]);
    setFailure(null);
    let ended = false;
    try {
      for await (const next of open(controller.signal)) {
        setEvents((seen) => [...(seen ?? []), next]);
        ended ||= next.type === 'done' || next.type === 'error';
        if (next.type === 'done') {
          onDone(next);
          void queryClient.invalidateQueries({ queryKey: ['turns', storyId] });
          void queryClient.invalidateQueries({ queryKey: ['tree', storyId] });
          void queryClient.invalidateQueries({ queryKey: ['turn', storyId] });
          void queryClient.invalidateQueries({ queryKey: ['versions', storyId] });
          void queryClient.invalidateQueries({ queryKey: ['costs'] });
          void queryClient.invalidateQueries({ queryKey: ['stories'] });
        }
        if (next.type === 'image_ready') {
          void queryClient.invalidateQueries({ queryKey: ['images', storyId] });
        }
      }
      if (!ended && !controller.signal.aborted) {
        setFailure('The connection closed before the turn was stored; try again.');
      }
    } catch (error) {
      if (!controller.signal.aborted) setFailure(errorMessage(error));
    } finally {
      if (running.current === controller) running.current = null;
    }
  }

  const view = events && turnView(events);
  return { view, failure, busy: view !== null && !view.finished && failure === null, run };
}
