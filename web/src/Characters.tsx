/** Characters: the card gallery with portraits; a card opened to edit, export (PNG or JSON), give
 * a portrait or delete; a new card written by hand or by the AI; and cards imported by dropping
 * PNG or JSON files (SillyTavern/TavernAI V1–V3, CHARX) or choosing them. */
import {
  createCard,
  deleteCard,
  generateCard,
  importCard,
  listCards,
  putPortrait,
  updateCard,
  type CardEdit,
  type CharacterOut,
} from '@luna-narrates/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ChangeEvent, type DragEvent, type FormEvent } from 'react';

import { Confirm } from './Confirm';
import { errorMessage } from './errors';
import { download, useFileUrl } from './media';

/** The card's text fields this screen edits, in the order a card shows them. */
const FIELDS = [
  ['description', 'Description', 5],
  ['personality', 'Personality', 3],
  ['scenario', 'Scenario', 3],
  ['first_mes', 'First message', 4],
  ['mes_example', 'Example dialogue', 4],
  ['creator_notes', "Creator's notes", 2],
] as const;
type Field = (typeof FIELDS)[number][0];

/** A file sent as the request's body (the server reads a card or an image by its content). */
const asFile = (file: File) => ({
  body: file as unknown as Record<string, unknown>,
  bodySerializer: (body: unknown) => body as Blob,
  headers: { 'Content-Type': file.type || 'application/octet-stream' },
});

export function Characters() {
  const [open, setOpen] = useState<string | null>(null);
  const cards = useQuery({
    queryKey: ['cards'],
    queryFn: async () => (await listCards({ query: { limit: 100 }, throwOnError: true })).data,
  });
  const chosen = cards.data?.items.find((card) => card.id === open);
  return (
    <article className="characters">
      <h1>Characters</h1>
      <Import onImported={setOpen} />
      <section aria-labelledby="gallery-title">
        <h2 id="gallery-title">Your cards</h2>
        {cards.error && <p role="alert" className="error">{errorMessage(cards.error)}</p>}
        {cards.data?.total === 0 && <p className="muted">No characters yet: import a card or create one.</p>}
        <ul className="gallery">
          {cards.data?.items.map((card) => (
            <li key={card.id}>
              <button
                type="button"
                className={`tile${card.id === open ? ' open' : ''}`}
                aria-pressed={card.id === open}
                onClick={() => setOpen(card.id === open ? null : card.id)}
              >
                <Portrait card={card} />
                <strong>{card.name}</strong>
                <span className="muted">{card.description.slice(0, 90)}</span>
              </button>
            </li>
          ))}
        </ul>
        {cards.data && cards.data.total > cards.data.items.length && (
          <p className="muted">
            Showing {cards.data.items.length} of {cards.data.total}.
          </p>
        )}
      </section>
      {chosen && <Card key={chosen.id} card={chosen} onGone={() => setOpen(null)} />}
      <NewCard onCreated={setOpen} />
    </article>
  );
}

function Portrait({ card }: { card: CharacterOut }) {
  const file = useFileUrl(`/character-cards/${card.id}/portrait?v=${encodeURIComponent(card.updated_at)}`);
  return file.url ? (
    <img className="portrait" src={file.url} alt={`Portrait of ${card.name}`} />
  ) : (
    <span className="portrait initial" aria-hidden="true">
      {card.name.charAt(0).toUpperCase()}
    </span>
  );
}

/** Drop PNG or JSON cards here, or choose them; each is imported in turn. */
function Import({ onImported }: { onImported: (id: string) => void }) {
  const queryClient = useQueryClient();
  const [over, setOver] = useState(false);
  const [said, setSaid] = useState<string[]>([]);
  const importing = useMutation({
    mutationFn: async (files: File[]) => {
      const names: string[] = [];
      for (const file of files) {
        const card = (await importCard({ ...asFile(file), throwOnError: true })).data;
        names.push(card.name);
        onImported(card.id);
        await queryClient.invalidateQueries({ queryKey: ['cards'] });
      }
      return names;
    },
    onSuccess: (names) => setSaid(names),
  });
  function take(files: FileList | null | undefined) {
    if (files && files.length > 0) {
      setSaid([]);
      importing.mutate([...files]);
    }
  }
  return (
    <section aria-labelledby="import-card-title">
      <h2 id="import-card-title">Import cards</h2>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        onDragOver={(e: DragEvent) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e: DragEvent) => {
          e.preventDefault();
          setOver(false);
          take(e.dataTransfer.files);
        }}
      >
        <p>Drop character cards here (PNG or JSON: SillyTavern, TavernAI V1–V3, CHARX), or</p>
        <input
          type="file"
          multiple
          aria-label="Import a card file"
          accept=".png,.json,.charx,image/png,application/json"
          disabled={importing.isPending}
          onChange={(e: ChangeEvent<HTMLInputElement>) => {
            take(e.target.files);
            e.target.value = '';
          }}
        />
      </div>
      <p role="status" className="muted">
        {importing.isPending ? 'Importing…' : said.length > 0 ? `Imported ${said.join(', ')}.` : ''}
      </p>
      {importing.error && <p role="alert" className="error">{errorMessage(importing.error)}</p>}
    </section>
  );
}

function Card({ card, onGone }: { card: CharacterOut; onGone: () => void }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Record<Field | 'name', string>>(() => ({
    name: card.name,
    ...(Object.fromEntries(FIELDS.map(([field]) => [field, card[field]])) as Record<Field, string>),
  }));
  const [deleting, setDeleting] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['cards'] });
  const save = useMutation({
    mutationFn: async () => {
      const body: CardEdit = {};
      for (const [name, value] of Object.entries(draft) as [Field | 'name', string][]) {
        if (value !== card[name]) body[name] = value;
      }
      return (await updateCard({ path: { character_id: card.id }, body, throwOnError: true })).data;
    },
    onSuccess: refresh,
  });
  const portrait = useMutation({
    mutationFn: async (file: File) =>
      (await putPortrait({ path: { character_id: card.id }, ...asFile(file), throwOnError: true })).data,
    onSuccess: refresh,
  });
  const exporting = useMutation({
    mutationFn: (format: 'png' | 'v3') =>
      download(
        `/character-cards/${card.id}/export?format=${format}`,
        `${card.name.replace(/[^\p{L}\p{N}]+/gu, '-') || 'character'}.${format === 'png' ? 'png' : 'json'}`,
      ),
  });
  const dirty = draft.name !== card.name || FIELDS.some(([field]) => draft[field] !== card[field]);

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate();
  }

  return (
    <section aria-labelledby="card-title" className="card-editor">
      <h2 id="card-title">{card.name}</h2>
      <p className="muted">
        {[card.spec, card.origin, card.tags.join(', '), card.creator && `by ${card.creator}`].filter(Boolean).join(' · ')}
      </p>
      {(card.warnings ?? []).length > 0 && (
        <ul className="muted">
          {(card.warnings ?? []).map((warning) => (
            <li key={warning}>{warning}</li>
          ))}
        </ul>
      )}
      <div className="row">
        <button type="button" className="quiet" disabled={exporting.isPending} onClick={() => exporting.mutate('png')}>
          Export as PNG
        </button>
        <button type="button" className="quiet" disabled={exporting.isPending} onClick={() => exporting.mutate('v3')}>
          Export as JSON
        </button>
        <label className="file-button">
          New portrait
          <input
            type="file"
            accept="image/png,image/jpeg,image/webp"
            disabled={portrait.isPending}
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) portrait.mutate(file);
              e.target.value = '';
            }}
          />
        </label>
        <button type="button" className="quiet" onClick={() => setDeleting(true)}>
          Delete
        </button>
      </div>
      {exporting.error && <p role="alert" className="error">{errorMessage(exporting.error)}</p>}
      {portrait.error && <p role="alert" className="error">{errorMessage(portrait.error)}</p>}
      {deleting && (
        <Confirm
          question={`Delete ${card.name}? Stories that cast them keep their own copy.`}
          yes={`Delete ${card.name}`}
          act={async () => {
            await deleteCard({ path: { character_id: card.id }, throwOnError: true });
            onGone();
            await refresh();
          }}
          cancel={() => setDeleting(false)}
        />
      )}
      <form className="stack" onSubmit={submit}>
        <label>
          Name
          <input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} required maxLength={200} />
        </label>
        {FIELDS.map(([field, label, rows]) => (
          <label key={field}>
            {label}
            <textarea rows={rows} value={draft[field]} onChange={(e) => setDraft({ ...draft, [field]: e.target.value })} />
          </label>
        ))}
        <button type="submit" disabled={!dirty || save.isPending}>
          Save {card.name}
        </button>
        {save.isSuccess && !dirty && <p role="status" className="muted">Saved.</p>}
        {save.error && <p role="alert" className="error">{errorMessage(save.error)}</p>}
      </form>
    </section>
  );
}

function NewCard({ onCreated }: { onCreated: (id: string) => void }) {
  const queryClient = useQueryClient();
  const [how, setHow] = useState<'ai' | 'hand'>('ai');
  const [name, setName] = useState('');
  const [idea, setIdea] = useState('');
  const [fields, setFields] = useState<Partial<Record<Field, string>>>({});
  const create = useMutation({
    mutationFn: async () =>
      how === 'ai'
        ? (await generateCard({ body: { name: name.trim(), description: idea.trim() }, throwOnError: true })).data
        : (await createCard({ body: { name: name.trim(), ...fields }, throwOnError: true })).data,
    onSuccess: async (card) => {
      setName('');
      setIdea('');
      setFields({});
      await queryClient.invalidateQueries({ queryKey: ['cards'] });
      onCreated(card.id);
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }
  return (
    <section aria-labelledby="new-card-title">
      <h2 id="new-card-title">A new character</h2>
      <div className="tabs" role="group" aria-label="How to write it">
        <button type="button" aria-pressed={how === 'ai'} onClick={() => setHow('ai')}>
          Written by the AI
        </button>
        <button type="button" aria-pressed={how === 'hand'} onClick={() => setHow('hand')}>
          Written by hand
        </button>
      </div>
      <form className="stack" onSubmit={submit}>
        <label>
          Character name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </label>
        {how === 'ai' ? (
          <label>
            Who they are (the AI writes the rest of the card)
            <textarea value={idea} onChange={(e) => setIdea(e.target.value)} rows={3} required />
          </label>
        ) : (
          FIELDS.slice(0, 4).map(([field, label, rows]) => (
            <label key={field}>
              {label}
              <textarea
                rows={rows}
                value={fields[field] ?? ''}
                onChange={(e) => setFields({ ...fields, [field]: e.target.value })}
              />
            </label>
          ))
        )}
        <button type="submit" disabled={create.isPending}>
          {create.isPending && how === 'ai' ? 'The AI is writing the card…' : 'Create the character'}
        </button>
        {create.error && <p role="alert" className="error">{errorMessage(create.error)}</p>}
      </form>
    </section>
  );
}
