/** A story: its passages page by page, and the action box that streams the next turn. */
import { getStory, listTurns, streamTurn, type TurnEvent } from '@luna-narrates/sdk';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';

import { errorMessage } from './errors';
import { currentToken } from './session';
import { TurnProgress } from './TurnProgress';
import { turnView } from './turnView';

const PAGE = 20;

export function Story({ storyId }: { storyId: string }) {
  const story = useQuery({
    queryKey: ['story', storyId],
    queryFn: async () => (await getStory({ path: { story_id: storyId }, throwOnError: true })).data,
  });
  // null: the latest page, once the first answer says where it starts.
  const [from, setFrom] = useState<number | null>(null);
  const turns = useQuery({
    queryKey: ['turns', storyId, from],
    queryFn: async () =>
      (
        await listTurns({
          path: { story_id: storyId },
          query: { from: from ?? 1, limit: PAGE },
          throwOnError: true,
        })
      ).data,
  });
  const page = turns.data;
  useEffect(() => {
    if (from === null && page?.last_from && page.last_from !== page.from_turn) setFrom(page.last_from);
  }, [from, page]);

  return (
    <article className="story">
      {story.error && <p role="alert" className="error">{errorMessage(story.error)}</p>}
      {story.data && (
        <header>
          <h1>{story.data.title}</h1>
          <p className="muted">{story.data.premise}</p>
        </header>
      )}
      {turns.error && <p role="alert" className="error">{errorMessage(turns.error)}</p>}
      {page && (
        <>
          <Pager page={page} onPage={setFrom} />
          <ol className="passages">
            {page.items.map((turn) => (
              <li key={turn.id} value={turn.turn_number}>
                {turn.user_action && <p className="action">{turn.user_action}</p>}
                <p className="passage">{turn.narrative_text}</p>
              </li>
            ))}
          </ol>
          {page.items.length > 0 && <Pager page={page} onPage={setFrom} />}
        </>
      )}
      <NextTurn
        storyId={storyId}
        onStored={(turnNumber) => setFrom(Math.max(1, turnNumber - PAGE + 1))}
      />
    </article>
  );
}

interface PageLinks {
  prev_from: number | null;
  next_from: number | null;
  last_from: number | null;
  from_turn: number;
}

function Pager({ page, onPage }: { page: PageLinks; onPage: (from: number) => void }) {
  if (page.prev_from === null && page.next_from === null) return null;
  return (
    <nav className="pager" aria-label="Pages of turns">
      <button type="button" disabled={page.prev_from === null} onClick={() => onPage(page.prev_from!)}>
        Earlier
      </button>
      <button type="button" disabled={page.next_from === null} onClick={() => onPage(page.next_from!)}>
        Later
      </button>
      <button
        type="button"
        disabled={page.last_from === null || page.last_from === page.from_turn}
        onClick={() => onPage(page.last_from!)}
      >
        Latest
      </button>
    </nav>
  );
}

/** The action box; `onStored` gets the number of the turn the server stored, to show its page. */
function NextTurn({
  storyId,
  onStored,
}: {
  storyId: string;
  onStored: (turnNumber: number) => void;
}) {
  const queryClient = useQueryClient();
  const [action, setAction] = useState('');
  const [events, setEvents] = useState<TurnEvent[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const running = useRef<AbortController | null>(null);
  useEffect(() => () => running.current?.abort(), []);

  async function send(event: FormEvent) {
    event.preventDefault();
    running.current?.abort(); // a finished turn's stream may still be open for its pictures
    const controller = new AbortController();
    running.current = controller;
    setEvents([]);
    setFailure(null);
    let ended = false;
    try {
      for await (const next of streamTurn({
        baseUrl: window.location.origin,
        accessToken: currentToken(),
        storyId,
        action: action.trim(),
        signal: controller.signal,
      })) {
        setEvents((seen) => [...(seen ?? []), next]);
        ended ||= next.type === 'done' || next.type === 'error';
        if (next.type === 'done') {
          setAction('');
          onStored(next.data.turn.turn_number);
          void queryClient.invalidateQueries({ queryKey: ['turns', storyId] });
          void queryClient.invalidateQueries({ queryKey: ['stories'] });
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
  const busy = view !== null && !view.finished && failure === null;
  return (
    <section aria-labelledby="next-title" className="next">
      <h2 id="next-title" className="visually-hidden">
        Your turn
      </h2>
      {view && <TurnProgress view={view} />}
      {failure && <p role="alert" className="error">{failure}</p>}
      <form className="stack" onSubmit={send}>
        <label>
          What do you do?
          <textarea
            value={action}
            onChange={(e) => setAction(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) e.currentTarget.form?.requestSubmit();
            }}
            rows={3}
            required
            disabled={busy}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'The writers are at work…' : 'Send (Ctrl+Enter)'}
        </button>
      </form>
    </section>
  );
}
