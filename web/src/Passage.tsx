/** One turn of the story: the player's action, the passage and its pictures, and the turn's
 * tools: what the AI saw, its takes (another take, choose one), editing the passage, a branch
 * from here, and redo from here. */
import {
  createBranch,
  deleteTurnsAfter,
  editTurn,
  listImages,
  listVersions,
  selectVersion,
  streamRegeneratedTurn,
  type ImageOut,
  type TurnSummary,
} from '@luna-narrates/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

import { Confirm } from './Confirm';
import { errorMessage } from './errors';
import { useFileUrl } from './media';
import { currentToken } from './session';
import { TurnDrawer } from './TurnDrawer';
import { TurnProgress } from './TurnProgress';
import { useTurnStream } from './useTurnStream';

type Tool = 'saw' | 'takes' | 'edit' | 'branch' | 'redo' | null;

export function Passage({
  storyId,
  branchId,
  turn,
  last,
  onBranched,
}: {
  storyId: string;
  /** The branch whose lineage is shown (the turn may belong to an ancestor). */
  branchId: string;
  turn: TurnSummary;
  last: boolean;
  /** The active branch changed (a branch made here, or a take that had to start one). */
  onBranched: () => void;
}) {
  const queryClient = useQueryClient();
  const [tool, setTool] = useState<Tool>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const number = turn.turn_number;
  const versions = turn.versions ?? 1;
  const forks = turn.forks ?? [];
  const where = { path: { story_id: storyId, turn_number: number }, query: { branch_id: branchId } };
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['turns', storyId] });
    void queryClient.invalidateQueries({ queryKey: ['tree', storyId] });
    void queryClient.invalidateQueries({ queryKey: ['turn', storyId] });
    void queryClient.invalidateQueries({ queryKey: ['versions', storyId] });
  };

  const stream = useTurnStream(storyId);
  function anotherTake() {
    setTool(null);
    setNotice(null);
    void stream.run(
      (signal) =>
        streamRegeneratedTurn({
          baseUrl: window.location.origin,
          accessToken: currentToken(),
          storyId,
          turnNumber: number,
          branchId,
          signal,
        }),
      (done) => {
        const branch = done.data.turn.branch_created;
        if (branch) {
          setNotice(`Later turns build on this one, so the new take starts the branch “${branch.name}”.`);
          onBranched();
        }
      },
    );
  }
  const toggle = (next: Tool) => setTool(tool === next ? null : next);

  return (
    <li id={`turn-${number}`} value={number} className="turn">
      {turn.user_action && <p className="action">{turn.user_action}</p>}
      <div className="turn-body">
        {tool === 'edit' ? (
          <EditPassage
            turn={turn}
            save={async (text) => {
              await editTurn({ ...where, body: { narrative_text: text }, throwOnError: true });
              refresh();
              setTool(null);
            }}
            cancel={() => setTool(null)}
          />
        ) : (
          <p className="passage">{turn.narrative_text}</p>
        )}
        <Pictures storyId={storyId} branchId={branchId} turnNumber={number} />
      </div>
      <p className="muted turn-meta">
        Turn {number}
        {versions > 1 && ` · take ${turn.version} of ${versions}`}
        {turn.origin === 'edited' && ' · edited'}
        {turn.origin === 'imported' && ' · imported'}
        {forks.length > 0 && ` · branches from here: ${forks.map((fork) => fork.name).join(', ')}`}
      </p>
      <div className="tools" role="toolbar" aria-label={`Turn ${number}`}>
        <button type="button" className="quiet" aria-expanded={tool === 'saw'} onClick={() => toggle('saw')}>
          What the AI saw
        </button>
        <button type="button" className="quiet" disabled={stream.busy} onClick={anotherTake}>
          Another take
        </button>
        {versions > 1 && (
          <button type="button" className="quiet" aria-expanded={tool === 'takes'} onClick={() => toggle('takes')}>
            Takes ({versions})
          </button>
        )}
        <button type="button" className="quiet" aria-expanded={tool === 'edit'} onClick={() => toggle('edit')}>
          Edit
        </button>
        <button type="button" className="quiet" aria-expanded={tool === 'branch'} onClick={() => toggle('branch')}>
          Branch from here
        </button>
        {!last && (
          <button type="button" className="quiet" aria-expanded={tool === 'redo'} onClick={() => toggle('redo')}>
            Redo from here
          </button>
        )}
      </div>
      {notice && <p className="muted" role="status">{notice}</p>}
      {stream.view && !stream.view.finished && <TurnProgress view={stream.view} />}
      {stream.view?.error && <p role="alert" className="error">{stream.view.error}</p>}
      {stream.failure && <p role="alert" className="error">{stream.failure}</p>}
      {tool === 'saw' && (
        <TurnDrawer storyId={storyId} branchId={branchId} turnNumber={number} onClose={() => setTool(null)} />
      )}
      {tool === 'takes' && <Takes storyId={storyId} branchId={branchId} turnNumber={number} onChosen={refresh} />}
      {tool === 'branch' && (
        <NewBranch
          turnNumber={number}
          create={async (name) => {
            await createBranch({
              path: { story_id: storyId },
              body: { branch_name: name, from_turn_number: number, from_branch_id: branchId, make_active: true },
              throwOnError: true,
            });
            setTool(null);
            setNotice(`The branch “${name}” starts after turn ${number}; it is the one you are playing now.`);
            refresh();
            onBranched();
          }}
        />
      )}
      {tool === 'redo' && (
        <Confirm
          question={`Delete every turn after turn ${number} on this branch, and go on from here?`}
          yes="Delete the later turns"
          act={async () => {
            const done = (await deleteTurnsAfter({ ...where, throwOnError: true })).data;
            setTool(null);
            setNotice(`${done.deleted_turns} later turn(s) deleted; the story goes on from turn ${number}.`);
            refresh();
            onBranched();
          }}
          cancel={() => setTool(null)}
        />
      )}
    </li>
  );
}

/** The turn's finished pictures (a placeholder one says so). */
function Pictures({ storyId, branchId, turnNumber }: { storyId: string; branchId: string; turnNumber: number }) {
  const images = useQuery({
    queryKey: ['images', storyId, branchId, turnNumber],
    queryFn: async () =>
      (
        await listImages({
          path: { story_id: storyId },
          query: { turn_number: turnNumber, branch_id: branchId },
          throwOnError: true,
        })
      ).data,
  });
  const ready = (images.data ?? []).filter((image) => image.url);
  if (ready.length === 0) return null;
  return (
    <div className="pictures">
      {ready.map((image) => (
        <Picture key={image.id} image={image} />
      ))}
    </div>
  );
}

function Picture({ image }: { image: ImageOut }) {
  const file = useFileUrl(image.url ?? null);
  const label = `${image.image_type}: ${image.subject}`;
  return (
    <figure className="picture">
      {file.url ? <img src={file.url} alt={label} /> : <div className="picture-wait" aria-hidden="true" />}
      <figcaption className="muted">
        {label}
        {image.placeholder && ' (placeholder: no image worker is configured)'}
      </figcaption>
      {file.error && <p className="error">{file.error}</p>}
    </figure>
  );
}

function EditPassage({
  turn,
  save,
  cancel,
}: {
  turn: TurnSummary;
  save: (text: string) => Promise<void>;
  cancel: () => void;
}) {
  const [text, setText] = useState(turn.narrative_text);
  const saving = useMutation({ mutationFn: save });
  function submit(event: FormEvent) {
    event.preventDefault();
    saving.mutate(text.trim());
  }
  return (
    <form className="stack" onSubmit={submit}>
      <label>
        The passage of turn {turn.turn_number}
        <textarea value={text} onChange={(e) => setText(e.target.value)} rows={8} required maxLength={100000} />
      </label>
      <p className="muted">Saving keeps the current text as an earlier take.</p>
      <div className="row">
        <button type="submit" disabled={saving.isPending || text.trim() === turn.narrative_text}>
          Save as a new take
        </button>
        <button type="button" className="quiet" onClick={cancel}>
          Cancel
        </button>
      </div>
      {saving.error && <p role="alert" className="error">{errorMessage(saving.error)}</p>}
    </form>
  );
}

function Takes({
  storyId,
  branchId,
  turnNumber,
  onChosen,
}: {
  storyId: string;
  branchId: string;
  turnNumber: number;
  onChosen: () => void;
}) {
  const where = { path: { story_id: storyId, turn_number: turnNumber }, query: { branch_id: branchId } };
  const versions = useQuery({
    queryKey: ['versions', storyId, branchId, turnNumber],
    queryFn: async () => (await listVersions({ ...where, throwOnError: true })).data,
  });
  const choose = useMutation({
    mutationFn: async (version: number) => (await selectVersion({ ...where, body: { version }, throwOnError: true })).data,
    onSuccess: onChosen,
  });
  return (
    <section className="takes" aria-label={`Takes of turn ${turnNumber}`}>
      {versions.error && <p role="alert" className="error">{errorMessage(versions.error)}</p>}
      {choose.error && <p role="alert" className="error">{errorMessage(choose.error)}</p>}
      <ol className="cards">
        {versions.data?.items.map((take) => (
          <li key={take.turn_id} className="card">
            <strong>
              Take {take.version}
              {take.is_selected && ' (in the story)'}
            </strong>
            <span className="muted">
              {take.origin} · ${take.total_cost_usd} · {take.user_action}
            </span>
            <span className="passage">{take.narrative_text}</span>
            {!take.is_selected && (
              <button type="button" disabled={choose.isPending} onClick={() => choose.mutate(take.version)}>
                Use take {take.version}
              </button>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

function NewBranch({ turnNumber, create }: { turnNumber: number; create: (name: string) => Promise<void> }) {
  const [name, setName] = useState('');
  const making = useMutation({ mutationFn: create });
  function submit(event: FormEvent) {
    event.preventDefault();
    making.mutate(name.trim());
  }
  return (
    <form className="stack" onSubmit={submit}>
      <label>
        Name of the branch after turn {turnNumber}
        <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
      </label>
      <button type="submit" disabled={making.isPending}>
        Start the branch
      </button>
      {making.error && <p role="alert" className="error">{errorMessage(making.error)}</p>}
    </form>
  );
}
