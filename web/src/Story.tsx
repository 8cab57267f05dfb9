/** A story: its passages page by page (first, previous, next, last, or jump to a turn), each
 * with its pictures and tools; the timelines; and the action box that streams the next turn. */
import { getStory, listTurns, streamTurn, type TurnPage } from '@luna-narrates/sdk';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';

import { errorMessage } from './errors';
import { Passage } from './Passage';
import { currentToken } from './session';
import { StoryWorld } from './StoryWorld';
import { Timelines } from './Timelines';
import { TurnProgress } from './TurnProgress';
import { useTurnStream } from './useTurnStream';

const PAGE = 20;

export function Story({ storyId }: { storyId: string }) {
  const story = useQuery({
    queryKey: ['story', storyId],
    queryFn: async () => (await getStory({ path: { story_id: storyId }, throwOnError: true })).data,
  });
  const [tab, setTab] = useState<'passages' | 'timelines' | 'world'>('passages');
  // null: the latest page, once the first answer says where it starts.
  const [from, setFrom] = useState<number | null>(null);
  // The turn to scroll to once its page is shown (a jump, or the turn just stored).
  const [focus, setFocus] = useState<number | null>(null);
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
  useEffect(() => {
    if (focus === null || !page?.items.some((turn) => turn.turn_number === focus)) return;
    document.getElementById(`turn-${focus}`)?.scrollIntoView?.({ block: 'start' });
    setFocus(null);
  }, [focus, page]);

  function show(turnNumber: number) {
    setFrom(Math.max(1, turnNumber - PAGE + 1));
    setFocus(turnNumber);
    setTab('passages');
  }

  return (
    <article className="story">
      {story.error && <p role="alert" className="error">{errorMessage(story.error)}</p>}
      {story.data && (
        <header>
          <h1>{story.data.title}</h1>
          <p className="muted">{story.data.premise}</p>
        </header>
      )}
      <nav className="tabs" aria-label="Story views">
        <button type="button" aria-pressed={tab === 'passages'} onClick={() => setTab('passages')}>
          Passages
        </button>
        <button type="button" aria-pressed={tab === 'timelines'} onClick={() => setTab('timelines')}>
          Timelines
        </button>
        <button type="button" aria-pressed={tab === 'world'} onClick={() => setTab('world')}>
          Lore &amp; cast
        </button>
        <a href={`#/costs/${storyId}`}>Costs</a>
      </nav>
      {tab === 'timelines' && <Timelines storyId={storyId} onSwitched={() => setFrom(null)} />}
      {tab === 'world' && <StoryWorld storyId={storyId} />}
      {tab === 'passages' && (
        <>
          {turns.error && <p role="alert" className="error">{errorMessage(turns.error)}</p>}
          {page && (
            <>
              <Pager page={page} onPage={setFrom} onJump={show} />
              <ol className="passages">
                {page.items.map((turn) => (
                  <Passage
                    key={turn.turn_number /* a new take keeps the turn's tools and notices */}
                    storyId={storyId}
                    branchId={page.branch_id}
                    turn={turn}
                    last={turn.turn_number === page.total}
                    onBranched={() => setFrom(null)}
                  />
                ))}
              </ol>
              {page.items.length > 0 && <Pager page={page} onPage={setFrom} onJump={show} />}
            </>
          )}
          <NextTurn storyId={storyId} onStored={show} />
        </>
      )}
    </article>
  );
}

function Pager({
  page,
  onPage,
  onJump,
}: {
  page: TurnPage;
  onPage: (from: number) => void;
  onJump: (turnNumber: number) => void;
}) {
  const [target, setTarget] = useState('');
  if (page.total <= page.limit) return null;
  const last = page.last_from ?? page.from_turn;
  function jump(event: FormEvent) {
    event.preventDefault();
    const number = Number(target);
    if (Number.isInteger(number) && number >= 1 && number <= page.total) onJump(number);
  }
  return (
    <nav className="pager" aria-label="Pages of turns">
      <button type="button" disabled={page.from_turn === 1} onClick={() => onPage(1)}>
        First
      </button>
      <button type="button" disabled={page.prev_from === null} onClick={() => onPage(page.prev_from!)}>
        Earlier
      </button>
      <button type="button" disabled={page.next_from === null} onClick={() => onPage(page.next_from!)}>
        Later
      </button>
      <button type="button" disabled={last === page.from_turn} onClick={() => onPage(last)}>
        Latest
      </button>
      <form className="jump" onSubmit={jump}>
        <label>
          Go to turn
          <input
            type="number"
            min={1}
            max={page.total}
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            placeholder={`1–${page.total}`}
          />
        </label>
        <button type="submit" className="quiet">
          Go
        </button>
      </form>
    </nav>
  );
}

/** The action box (with the actions sent before, ↑ and ↓ in an empty box); `onStored` gets the
 * number of the turn the server stored, to show it. */
function NextTurn({ storyId, onStored }: { storyId: string; onStored: (turnNumber: number) => void }) {
  const [action, setAction] = useState('');
  const [history, setHistory] = useState<string[]>([]);
  const [back, setBack] = useState(0); // how far up the history the box is (0: a new action)
  const stream = useTurnStream(storyId);

  function send(event: FormEvent) {
    event.preventDefault();
    const sent = action.trim();
    void stream.run(
      (signal) =>
        streamTurn({ baseUrl: window.location.origin, accessToken: currentToken(), storyId, action: sent, signal }),
      (done) => {
        setAction('');
        setBack(0);
        setHistory((seen) => [...seen.filter((old) => old !== sent), sent]);
        onStored(done.data.turn.turn_number);
      },
    );
  }

  function recall(step: number) {
    const next = Math.min(Math.max(back + step, 0), history.length);
    setBack(next);
    setAction(next === 0 ? '' : history[history.length - next]);
  }

  return (
    <section aria-labelledby="next-title" className="next">
      <h2 id="next-title" className="visually-hidden">
        Your turn
      </h2>
      {stream.view && <TurnProgress view={stream.view} />}
      {stream.failure && <p role="alert" className="error">{stream.failure}</p>}
      <form className="stack" onSubmit={send}>
        <label>
          What do you do?
          <textarea
            value={action}
            onChange={(e) => setAction(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) e.currentTarget.form?.requestSubmit();
              if ((e.key === 'ArrowUp' || e.key === 'ArrowDown') && (action === '' || back > 0)) {
                e.preventDefault();
                recall(e.key === 'ArrowUp' ? 1 : -1);
              }
            }}
            rows={3}
            required
            maxLength={1000}
            disabled={stream.busy}
          />
        </label>
        <button type="submit" disabled={stream.busy}>
          {stream.busy ? 'The writers are at work…' : 'Send (Ctrl+Enter)'}
        </button>
        {history.length > 0 && <p className="muted">↑ and ↓ bring back your earlier actions.</p>}
      </form>
    </section>
  );
}
