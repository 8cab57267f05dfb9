/** Worlds and lorebooks: the player's lorebooks (upload a world info file, create, export,
 * delete), one book's entries page by page (filter, edit, add, delete), and the player's worlds
 * (create, open to edit, delete). Which entries fired in a turn is on the story screen. */
import {
  addEntry,
  createLorebook,
  createWorld,
  deleteEntry,
  deleteLorebook,
  deleteWorld,
  getLorebook,
  getWorld,
  listEntries,
  listLorebooks,
  listTemplates,
  listWorlds,
  updateEntry,
  updateLorebook,
  updateWorld,
  uploadLorebook,
  type EntryOut,
  type EntryWrite,
  type LorebookOut,
  type LorebookUpdate,
  type WorldUpdate,
} from '@luna-narrates/sdk';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ChangeEvent, type FormEvent, type ReactNode } from 'react';

import { Confirm } from './Confirm';
import { errorMessage } from './errors';
import './Lore.css';
import { download } from './media';

type Tier = LorebookOut['storage_tier'];
type Kind = EntryOut['kind'];
type Sort = 'updated_at' | 'name' | 'entry_count' | 'created_at';
type Open = { screen: 'book'; id: string } | { screen: 'world'; id: string } | null;

const BOOKS_PAGE = 50;
const ENTRIES_PAGE = 50;
const KINDS: Kind[] = ['lore', 'character', 'location', 'item', 'faction', 'event'];
const TIERS: Record<Tier, string> = {
  hot: 'Hot: always considered',
  warm: 'Warm: also found by meaning',
  cold: 'Cold: packed, unpacked when a key appears',
};
const FORMATS = {
  world_info: 'SillyTavern World Info',
  character_book: 'Character book (for a card)',
  lorebook_v3: 'Lorebook V3',
} as const;

export function Lore() {
  const [open, setOpen] = useState<Open>(null);
  return (
    <article className="lore">
      <h1>Worlds &amp; lorebooks</h1>
      {open?.screen === 'book' && (
        <Book id={open.id} onBack={() => setOpen(null)} onGone={() => setOpen(null)} />
      )}
      {open?.screen === 'world' && (
        <World
          id={open.id}
          onBack={() => setOpen(null)}
          onOpenBook={(id) => setOpen({ screen: 'book', id })}
        />
      )}
      {open === null && (
        <>
          <Lorebooks onOpen={(id) => setOpen({ screen: 'book', id })} />
          <Worlds onOpen={(id) => setOpen({ screen: 'world', id })} />
        </>
      )}
    </article>
  );
}

// ---- Lorebooks ---------------------------------------------------------------------------

function Lorebooks({ onOpen }: { onOpen: (id: string) => void }) {
  const [offset, setOffset] = useState(0);
  const [sort, setSort] = useState<Sort>('updated_at');
  const books = useQuery({
    queryKey: ['lorebooks', sort, offset],
    queryFn: async () =>
      (await listLorebooks({ query: { sort_by: sort, limit: BOOKS_PAGE, offset }, throwOnError: true })).data,
    placeholderData: keepPreviousData,
  });
  return (
    <section aria-labelledby="lorebooks-title">
      <h2 id="lorebooks-title">Lorebooks</h2>
      <Upload />
      {books.isPending && <p className="muted">Loading your lorebooks…</p>}
      {books.error && <p role="alert" className="error">{errorMessage(books.error)}</p>}
      {books.data?.total === 0 && <p className="muted">No lorebooks yet: upload one or create one.</p>}
      {books.data && books.data.total > 1 && (
        <label className="inline">
          Sort by
          <select
            value={sort}
            onChange={(e) => {
              setSort(e.target.value as Sort);
              setOffset(0);
            }}
          >
            <option value="updated_at">Last changed</option>
            <option value="name">Name</option>
            <option value="entry_count">Most entries</option>
            <option value="created_at">Newest</option>
          </select>
        </label>
      )}
      <ul className="cards">
        {books.data?.items.map((book) => (
          <BookCard key={book.id} book={book} onOpen={() => onOpen(book.id)} />
        ))}
      </ul>
      {books.data && (
        <Pager label="Pages of lorebooks" offset={offset} limit={BOOKS_PAGE} total={books.data.total} onPage={setOffset} />
      )}
      <NewLorebook onCreated={onOpen} />
    </section>
  );
}

function BookCard({ book, onOpen }: { book: LorebookOut; onOpen: () => void }) {
  const queryClient = useQueryClient();
  const [asking, setAsking] = useState(false);
  const exporting = useExport(book);
  return (
    <li className="card">
      <strong>{book.name}</strong>
      {book.description && <span className="premise">{book.description}</span>}
      <span className="muted">{aboutBook(book)}</span>
      <div className="row">
        <button type="button" onClick={onOpen} aria-label={`Open ${book.name}`}>
          Open
        </button>
        <button
          type="button"
          className="quiet"
          disabled={exporting.isPending}
          onClick={() => exporting.mutate('world_info')}
          aria-label={`Export ${book.name}`}
        >
          Export
        </button>
        <button type="button" className="quiet" onClick={() => setAsking(true)} aria-label={`Delete ${book.name}`}>
          Delete
        </button>
      </div>
      {exporting.error && <p role="alert" className="error">{errorMessage(exporting.error)}</p>}
      {asking && (
        <Confirm
          question={`Delete “${book.name}” and its ${count(book.entry_count, 'entry', 'entries')}? Stories and worlds that use it lose it.`}
          yes="Delete lorebook"
          act={async () => {
            await deleteLorebook({ path: { lorebook_id: book.id }, throwOnError: true });
            await queryClient.invalidateQueries({ queryKey: ['lorebooks'] });
          }}
          cancel={() => setAsking(false)}
        />
      )}
    </li>
  );
}

function Upload() {
  const queryClient = useQueryClient();
  const [tier, setTier] = useState<Tier>('warm');
  const upload = useMutation({
    mutationFn: async (file: File) =>
      (
        await uploadLorebook({
          body: { file, storage_tier: tier },
          bodySerializer: multipart,
          headers: { 'Content-Type': null }, // the browser writes multipart's with its boundary
          throwOnError: true,
        })
      ).data,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['lorebooks'] }),
  });

  function chosen(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    event.target.value = ''; // the same file can be chosen again
    if (file) upload.mutate(file);
  }

  return (
    <div className="stack">
      <label>
        Upload a world info file
        <input
          type="file"
          aria-label="Upload world info"
          accept=".json,.lorebook,.png,application/json,image/png"
          onChange={chosen}
          disabled={upload.isPending}
        />
      </label>
      <p className="muted">
        SillyTavern World Info, a character book or Lorebook V3, NovelAI, KoboldAI, Agnai or RisuAI.
      </p>
      <label>
        Keep it
        <select value={tier} onChange={(e) => setTier(e.target.value as Tier)}>
          {Object.entries(TIERS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <p role="status" className="muted">
        {upload.isPending && 'Uploading…'}
        {upload.data && `Uploaded ${upload.data.name} (${count(upload.data.entry_count, 'entry', 'entries')}).`}
      </p>
      {upload.error && <p role="alert" className="error">{errorMessage(upload.error)}</p>}
    </div>
  );
}

function NewLorebook({ onCreated }: { onCreated: (id: string) => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: async () =>
      (
        await createLorebook({
          body: { name: name.trim(), description: description.trim() },
          throwOnError: true,
        })
      ).data,
    onSuccess: (book) => {
      void queryClient.invalidateQueries({ queryKey: ['lorebooks'] });
      onCreated(book.id);
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }
  return (
    <>
      <h3>Create an empty lorebook</h3>
      <form className="stack" onSubmit={submit}>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </label>
        <label>
          Description
          <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={2} />
        </label>
        <button type="submit" disabled={create.isPending}>
          Create lorebook
        </button>
      </form>
      {create.error && <p role="alert" className="error">{errorMessage(create.error)}</p>}
    </>
  );
}

// ---- One lorebook ------------------------------------------------------------------------

function Book({ id, onBack, onGone }: { id: string; onBack: () => void; onGone: () => void }) {
  const queryClient = useQueryClient();
  const heading = useFocus();
  const book = useQuery({
    queryKey: ['lorebook', id],
    queryFn: async () =>
      (await getLorebook({ path: { lorebook_id: id }, query: { entries_limit: 1 }, throwOnError: true })).data,
  });
  const [asking, setAsking] = useState(false);
  const [format, setFormat] = useState<keyof typeof FORMATS>('world_info');
  const exporting = useExport(book.data);
  return (
    <section aria-labelledby="book-title">
      <button type="button" className="quiet" onClick={onBack}>
        ← All worlds &amp; lorebooks
      </button>
      <h2 id="book-title" ref={heading} tabIndex={-1}>
        {book.data?.name ?? 'Lorebook'}
      </h2>
      {book.isPending && <p className="muted">Loading the lorebook…</p>}
      {book.error && <p role="alert" className="error">{errorMessage(book.error)}</p>}
      {book.data && (
        <>
          <p className="muted">{aboutBook(book.data)}</p>
          <BookSettings book={book.data} />
          <div className="row">
            <label className="inline">
              Export as
              <select value={format} onChange={(e) => setFormat(e.target.value as keyof typeof FORMATS)}>
                {Object.entries(FORMATS).map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" className="quiet" disabled={exporting.isPending} onClick={() => exporting.mutate(format)}>
              Export
            </button>
            <button type="button" className="quiet" onClick={() => setAsking(true)}>
              Delete lorebook
            </button>
          </div>
          {exporting.error && <p role="alert" className="error">{errorMessage(exporting.error)}</p>}
          {asking && (
            <Confirm
              question={`Delete “${book.data.name}” and its ${count(book.data.entry_count, 'entry', 'entries')}? Stories and worlds that use it lose it.`}
              yes="Delete lorebook"
              act={async () => {
                await deleteLorebook({ path: { lorebook_id: id }, throwOnError: true });
                queryClient.removeQueries({ queryKey: ['lorebook', id] });
                await queryClient.invalidateQueries({ queryKey: ['lorebooks'] });
                onGone();
              }}
              cancel={() => setAsking(false)}
            />
          )}
          <Entries bookId={id} />
        </>
      )}
    </section>
  );
}

function BookSettings({ book }: { book: LorebookOut }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(book.name);
  const [description, setDescription] = useState(book.description);
  const [universe, setUniverse] = useState(book.universe_name ?? '');
  const [tier, setTier] = useState<Tier>(book.storage_tier);
  const save = useMutation({
    mutationFn: async (body: LorebookUpdate) =>
      (await updateLorebook({ path: { lorebook_id: book.id }, body, throwOnError: true })).data,
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['lorebook', book.id] });
      void queryClient.invalidateQueries({ queryKey: ['lorebooks'] });
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    const body: LorebookUpdate = {};
    if (name.trim() !== book.name) body.name = name.trim();
    if (description !== book.description) body.description = description;
    if (universe.trim() !== (book.universe_name ?? '')) body.universe_name = universe.trim() || null;
    if (tier !== book.storage_tier) body.storage_tier = tier;
    save.mutate(body);
  }
  return (
    <details className="card">
      <summary>About this lorebook</summary>
      <form className="stack" onSubmit={submit}>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </label>
        <label>
          Description
          <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={2} />
        </label>
        <label>
          Universe
          <input value={universe} onChange={(e) => setUniverse(e.target.value)} maxLength={200} />
        </label>
        <label>
          Storage
          <select value={tier} onChange={(e) => setTier(e.target.value as Tier)}>
            {Object.entries(TIERS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={save.isPending}>
          Save
        </button>
        {save.isSuccess && <p role="status" className="muted">Saved.</p>}
        {save.error && <p role="alert" className="error">{errorMessage(save.error)}</p>}
      </form>
    </details>
  );
}

function Entries({ bookId }: { bookId: string }) {
  const [offset, setOffset] = useState(0);
  const [kind, setKind] = useState<Kind | ''>('');
  const [filter, setFilter] = useState('');
  const [adding, setAdding] = useState(false);
  const [said, setSaid] = useState('');
  const entries = useQuery({
    queryKey: ['entries', bookId, kind, offset],
    queryFn: async () =>
      (
        await listEntries({
          path: { lorebook_id: bookId },
          query: { kind: kind || undefined, limit: ENTRIES_PAGE, offset },
          throwOnError: true,
        })
      ).data,
    placeholderData: keepPreviousData,
  });
  const words = filter.trim().toLowerCase();
  const shown = entries.data?.items.filter((entry) => !words || searchable(entry).includes(words)) ?? [];
  return (
    <section aria-labelledby="entries-title">
      <h3 id="entries-title">Entries</h3>
      <div className="fields">
        <label>
          Kind
          <select
            value={kind}
            onChange={(e) => {
              setKind(e.target.value as Kind | '');
              setOffset(0);
            }}
          >
            <option value="">All kinds</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {capital(k)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Filter by keyword or text
          <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </label>
      </div>
      {entries.data && entries.data.total > ENTRIES_PAGE && (
        <p className="muted">The filter looks through the entries of this page.</p>
      )}
      <p role="status" className="muted">
        {said}
      </p>
      {adding ? (
        <EntryForm
          bookId={bookId}
          entry={null}
          onDone={(message) => {
            setAdding(false);
            if (message) setSaid(message);
          }}
        />
      ) : (
        <button type="button" onClick={() => setAdding(true)}>
          Add an entry
        </button>
      )}
      {entries.isPending && <p className="muted">Loading the entries…</p>}
      {entries.error && <p role="alert" className="error">{errorMessage(entries.error)}</p>}
      {entries.data?.total === 0 && <p className="muted">{kind ? `No ${kind} entries.` : 'No entries yet.'}</p>}
      {entries.data && entries.data.items.length > 0 && shown.length === 0 && (
        <p className="muted">No entry on this page matches “{filter.trim()}”.</p>
      )}
      <ul className="cards">
        {shown.map((entry) => (
          <Entry key={entry.id} bookId={bookId} entry={entry} onSaid={setSaid} />
        ))}
      </ul>
      {entries.data && (
        <Pager label="Pages of entries" offset={offset} limit={ENTRIES_PAGE} total={entries.data.total} onPage={setOffset} />
      )}
    </section>
  );
}

function Entry({ bookId, entry, onSaid }: { bookId: string; entry: EntryOut; onSaid: (message: string) => void }) {
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [asking, setAsking] = useState(false);
  const [whole, setWhole] = useState(false);
  const draft = fromEntry(entry);
  const title = entryTitle(entry);
  const long = draft.content.length > EXCERPT;
  if (editing) {
    return (
      <li className="card">
        <EntryForm
          bookId={bookId}
          entry={entry}
          onDone={(message) => {
            setEditing(false);
            if (message) onSaid(message);
          }}
        />
      </li>
    );
  }
  return (
    <li className={draft.enabled ? 'card' : 'card off'}>
      <strong>{title}</strong>
      <ul className="keys" aria-label="Keys">
        {texts(entry.fields.key).map((key, i) => (
          <li key={i}>{key}</li>
        ))}
        {texts(entry.fields.keysecondary).map((key, i) => (
          <li key={`s${i}`} className="secondary">
            {key}
          </li>
        ))}
      </ul>
      <p className="content">{long && !whole ? `${draft.content.slice(0, EXCERPT).trimEnd()}…` : draft.content}</p>
      {long && (
        <button type="button" className="quiet small" aria-expanded={whole} onClick={() => setWhole(!whole)}>
          {whole ? 'Show less' : 'Show all'}
        </button>
      )}
      <span className="muted">{flags(entry)}</span>
      <div className="row">
        <button type="button" onClick={() => setEditing(true)} aria-label={`Edit ${title}`}>
          Edit
        </button>
        <button type="button" className="quiet" onClick={() => setAsking(true)} aria-label={`Delete ${title}`}>
          Delete
        </button>
      </div>
      {asking && (
        <Confirm
          question={`Delete the entry “${title}”?`}
          yes="Delete entry"
          act={async () => {
            await deleteEntry({ path: { lorebook_id: bookId, entry_id: entry.id }, throwOnError: true });
            onSaid(`Deleted “${title}”.`);
            await refreshBook(queryClient, bookId);
          }}
          cancel={() => setAsking(false)}
        />
      )}
    </li>
  );
}

type Draft = {
  comment: string;
  key: string;
  keysecondary: string;
  content: string;
  kind: Kind;
  order: string;
  enabled: boolean;
  constant: boolean;
  selective: boolean;
};

const EMPTY: Draft = {
  comment: '',
  key: '',
  keysecondary: '',
  content: '',
  kind: 'lore',
  order: '100',
  enabled: true,
  constant: false,
  selective: false,
};

/** Adds an entry (`entry` null) or edits one; on saving, only the fields changed are sent, so
 * the entry's other World Info fields stay as they are. */
function EntryForm({
  bookId,
  entry,
  onDone,
}: {
  bookId: string;
  entry: EntryOut | null;
  onDone: (message: string | null) => void;
}) {
  const queryClient = useQueryClient();
  const before = entry ? fromEntry(entry) : EMPTY;
  const [draft, setDraft] = useState<Draft>(before);
  const first = useFocus();
  const save = useMutation({
    mutationFn: async (body: EntryWrite) =>
      entry
        ? (await updateEntry({ path: { lorebook_id: bookId, entry_id: entry.id }, body, throwOnError: true })).data
        : (await addEntry({ path: { lorebook_id: bookId }, body, throwOnError: true })).data,
    onSuccess: async (saved) => {
      await refreshBook(queryClient, bookId);
      onDone(entry ? `Saved “${entryTitle(saved)}”.` : `Added “${entryTitle(saved)}”.`);
    },
  });
  const change = <K extends keyof Draft>(name: K, value: Draft[K]) => setDraft({ ...draft, [name]: value });

  function submit(event: FormEvent) {
    event.preventDefault();
    const body = toWrite(draft, entry ? before : null);
    if (Object.keys(body).length === 0) onDone(null);
    else save.mutate(body);
  }

  const label = entry ? `Edit ${entryTitle(entry)}` : 'New entry';
  return (
    <form className="stack" onSubmit={submit} aria-label={label}>
      <label>
        Title (comment)
        <input ref={first} value={draft.comment} onChange={(e) => change('comment', e.target.value)} maxLength={2000} />
      </label>
      <label>
        Keys
        <input value={draft.key} onChange={(e) => change('key', e.target.value)} aria-describedby="keys-hint" />
      </label>
      <label>
        Secondary keys
        <input value={draft.keysecondary} onChange={(e) => change('keysecondary', e.target.value)} aria-describedby="keys-hint" />
      </label>
      <p id="keys-hint" className="muted">
        Separate keys with commas; /regex/flags work too.
      </p>
      <label>
        Content
        <textarea value={draft.content} onChange={(e) => change('content', e.target.value)} rows={6} maxLength={100000} />
      </label>
      <div className="fields">
        <label>
          Kind
          <select value={draft.kind} onChange={(e) => change('kind', e.target.value as Kind)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {capital(k)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Order
          <input type="number" step="any" value={draft.order} onChange={(e) => change('order', e.target.value)} />
        </label>
      </div>
      <fieldset>
        <legend>When it is used</legend>
        <label className="check">
          <input type="checkbox" checked={draft.enabled} onChange={(e) => change('enabled', e.target.checked)} />
          Enabled
        </label>
        <label className="check">
          <input type="checkbox" checked={draft.constant} onChange={(e) => change('constant', e.target.checked)} />
          Constant (always in, keys or not)
        </label>
        <label className="check">
          <input type="checkbox" checked={draft.selective} onChange={(e) => change('selective', e.target.checked)} />
          Selective (needs a secondary key too)
        </label>
      </fieldset>
      <div className="row">
        <button type="submit" disabled={save.isPending}>
          {entry ? 'Save entry' : 'Add entry'}
        </button>
        <button type="button" className="quiet" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
      {save.error && <p role="alert" className="error">{errorMessage(save.error)}</p>}
    </form>
  );
}

// ---- Worlds ------------------------------------------------------------------------------

function Worlds({ onOpen }: { onOpen: (id: string) => void }) {
  const queryClient = useQueryClient();
  const worlds = useQuery({
    queryKey: ['worlds'],
    queryFn: async () => (await listWorlds({ query: { limit: 200 }, throwOnError: true })).data,
  });
  const [asking, setAsking] = useState<string | null>(null);
  return (
    <section aria-labelledby="worlds-title">
      <h2 id="worlds-title">Worlds</h2>
      <p className="muted">A world is a setting with its lore and people that stories can start in.</p>
      {worlds.isPending && <p className="muted">Loading your worlds…</p>}
      {worlds.error && <p role="alert" className="error">{errorMessage(worlds.error)}</p>}
      {worlds.data?.total === 0 && <p className="muted">No worlds yet: make one below.</p>}
      <ul className="cards">
        {worlds.data?.items.map((world) => (
          <li key={world.id} className="card">
            <strong>{world.name}</strong>
            {world.description && <span className="premise">{world.description}</span>}
            <span className="muted">
              {[
                world.genre,
                world.tone,
                count(world.characters.length, 'character', 'characters'),
                count(world.location_count, 'place', 'places'),
                count(world.item_count, 'item', 'items'),
              ]
                .filter(Boolean)
                .join(' · ')}
            </span>
            <div className="row">
              <button type="button" onClick={() => onOpen(world.id)} aria-label={`Open ${world.name}`}>
                Open
              </button>
              <button type="button" className="quiet" onClick={() => setAsking(world.id)} aria-label={`Delete ${world.name}`}>
                Delete
              </button>
            </div>
            {asking === world.id && (
              <Confirm
                question={`Delete the world “${world.name}”? Its lorebook and characters stay.`}
                yes="Delete world"
                act={async () => {
                  await deleteWorld({ path: { world_id: world.id }, throwOnError: true });
                  await queryClient.invalidateQueries({ queryKey: ['worlds'] });
                }}
                cancel={() => setAsking(null)}
              />
            )}
          </li>
        ))}
      </ul>
      <NewWorld onCreated={onOpen} />
    </section>
  );
}

function NewWorld({ onCreated }: { onCreated: (id: string) => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [genre, setGenre] = useState('');
  const [description, setDescription] = useState('');
  const [template, setTemplate] = useState('');
  const templates = useQuery({
    queryKey: ['templates'],
    queryFn: async () => (await listTemplates({ throwOnError: true })).data,
  });
  const create = useMutation({
    mutationFn: async (fromTemplate: boolean) =>
      (
        await createWorld({
          body: fromTemplate
            ? { template_id: template }
            : { name: name.trim(), genre: genre.trim() || null, description: description.trim() || null },
          throwOnError: true,
        })
      ).data,
    onSuccess: (world) => {
      void queryClient.invalidateQueries({ queryKey: ['worlds'] });
      void queryClient.invalidateQueries({ queryKey: ['lorebooks'] });
      onCreated(world.id);
    },
  });
  return (
    <>
      <h3>Make a world</h3>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(false);
        }}
      >
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </label>
        <label>
          Genre
          <input value={genre} onChange={(e) => setGenre(e.target.value)} maxLength={100} />
        </label>
        <label>
          Description
          <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={3} maxLength={5000} />
        </label>
        <button type="submit" disabled={create.isPending}>
          Make world
        </button>
      </form>
      {templates.data && templates.data.length > 0 && (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            if (template) create.mutate(true);
          }}
        >
          <label>
            Or from a template (its places and items become the world’s lorebook)
            <select value={template} onChange={(e) => setTemplate(e.target.value)} required>
              <option value="">Choose a template</option>
              {templates.data.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.title} ({t.genre})
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="quiet" disabled={create.isPending || !template}>
            Make world from template
          </button>
        </form>
      )}
      {create.error && <p role="alert" className="error">{errorMessage(create.error)}</p>}
      {templates.error && <p role="alert" className="error">{errorMessage(templates.error)}</p>}
    </>
  );
}

function World({ id, onBack, onOpenBook }: { id: string; onBack: () => void; onOpenBook: (id: string) => void }) {
  const heading = useFocus();
  const world = useQuery({
    queryKey: ['world', id],
    queryFn: async () => (await getWorld({ path: { world_id: id }, throwOnError: true })).data,
  });
  return (
    <section aria-labelledby="world-title">
      <button type="button" className="quiet" onClick={onBack}>
        ← All worlds &amp; lorebooks
      </button>
      <h2 id="world-title" ref={heading} tabIndex={-1}>
        {world.data?.name ?? 'World'}
      </h2>
      {world.isPending && <p className="muted">Loading the world…</p>}
      {world.error && <p role="alert" className="error">{errorMessage(world.error)}</p>}
      {world.data && (
        <WorldForm key={world.data.updated_at} world={world.data} onOpenBook={onOpenBook} />
      )}
    </section>
  );
}

type WorldOut = NonNullable<Awaited<ReturnType<typeof getWorld<true>>>['data']>;

function WorldForm({ world, onOpenBook }: { world: WorldOut; onOpenBook: (id: string) => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(world.name);
  const [genre, setGenre] = useState(world.genre ?? '');
  const [tone, setTone] = useState(world.tone ?? '');
  const [description, setDescription] = useState(world.description);
  const [lorebook, setLorebook] = useState(world.lorebook_id ?? '');
  const books = useQuery({
    queryKey: ['lorebooks', 'name', 'all'],
    queryFn: async () => (await listLorebooks({ query: { sort_by: 'name', limit: 500 }, throwOnError: true })).data,
  });
  const save = useMutation({
    mutationFn: async (body: WorldUpdate) =>
      (await updateWorld({ path: { world_id: world.id }, body, throwOnError: true })).data,
    onSuccess: (saved) => {
      queryClient.setQueryData(['world', world.id], saved);
      void queryClient.invalidateQueries({ queryKey: ['worlds'] });
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    const body: WorldUpdate = {};
    if (name.trim() !== world.name) body.name = name.trim();
    if (genre.trim() !== (world.genre ?? '')) body.genre = genre.trim() || null;
    if (tone.trim() !== (world.tone ?? '')) body.tone = tone.trim() || null;
    if (description !== world.description) body.description = description;
    if (lorebook !== (world.lorebook_id ?? '')) body.lorebook_id = lorebook || null;
    save.mutate(body);
  }
  return (
    <>
      <p className="muted">
        {[
          count(world.location_count, 'place', 'places'),
          count(world.item_count, 'item', 'items'),
          world.template_id && `from the template ${world.template_id}`,
        ]
          .filter(Boolean)
          .join(' · ')}
      </p>
      {world.characters.length > 0 && (
        <p>
          <strong>People:</strong> {world.characters.map((c) => c.name).join(', ')}
        </p>
      )}
      <form className="stack" onSubmit={submit}>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </label>
        <div className="fields">
          <label>
            Genre
            <input value={genre} onChange={(e) => setGenre(e.target.value)} maxLength={100} />
          </label>
          <label>
            Tone
            <input value={tone} onChange={(e) => setTone(e.target.value)} maxLength={200} />
          </label>
        </div>
        <label>
          Description
          <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={5} maxLength={5000} />
        </label>
        <label>
          Lorebook
          <select value={lorebook} onChange={(e) => setLorebook(e.target.value)}>
            <option value="">None</option>
            {books.data?.items.map((book) => (
              <option key={book.id} value={book.id}>
                {book.name}
              </option>
            ))}
          </select>
        </label>
        <div className="row">
          <button type="submit" disabled={save.isPending}>
            Save world
          </button>
          {world.lorebook_id && (
            <button type="button" className="quiet" onClick={() => onOpenBook(world.lorebook_id!)}>
              Open its lorebook
            </button>
          )}
        </div>
        {save.isSuccess && <p role="status" className="muted">Saved.</p>}
        {save.error && <p role="alert" className="error">{errorMessage(save.error)}</p>}
        {books.error && <p role="alert" className="error">{errorMessage(books.error)}</p>}
      </form>
    </>
  );
}

// ---- Shared pieces -----------------------------------------------------------------------

function Pager({
  label,
  offset,
  limit,
  total,
  onPage,
}: {
  label: string;
  offset: number;
  limit: number;
  total: number;
  onPage: (offset: number) => void;
}): ReactNode {
  if (total <= limit) return null;
  const last = Math.floor((total - 1) / limit) * limit;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" disabled={offset === 0} onClick={() => onPage(Math.max(0, offset - limit))}>
        Earlier
      </button>
      <span className="muted">
        {offset + 1}–{Math.min(offset + limit, total)} of {total}
      </span>
      <button type="button" disabled={offset >= last} onClick={() => onPage(offset + limit)}>
        Later
      </button>
    </nav>
  );
}

/** A ref that takes the keyboard's focus when its element appears. */
function useFocus<T extends HTMLElement = HTMLInputElement>() {
  const ref = useRef<T>(null);
  useEffect(() => ref.current?.focus(), []);
  return ref;
}

function useExport(book: LorebookOut | undefined) {
  return useMutation({
    mutationFn: async (format: keyof typeof FORMATS) => {
      if (!book) return;
      await download(`/lorebooks/${book.id}/export?format=${format}`, `${slug(book.name)}.json`);
    },
  });
}

async function refreshBook(queryClient: ReturnType<typeof useQueryClient>, bookId: string) {
  await Promise.all([
    queryClient.invalidateQueries({ queryKey: ['entries', bookId] }),
    queryClient.invalidateQueries({ queryKey: ['lorebook', bookId] }),
    queryClient.invalidateQueries({ queryKey: ['lorebooks'] }),
  ]);
}

/** The upload's body as multipart form data (the SDK's default is JSON). */
function multipart(body: unknown): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(body as Record<string, string | Blob | undefined>)) {
    if (value !== undefined) form.append(name, value);
  }
  return form;
}

const EXCERPT = 280;

function fromEntry(entry: EntryOut): Draft {
  const f = entry.fields;
  return {
    comment: text(f.comment),
    key: texts(f.key).join(', '),
    keysecondary: texts(f.keysecondary).join(', '),
    content: text(f.content),
    kind: entry.kind,
    order: typeof f.order === 'number' ? String(f.order) : '',
    enabled: f.disable !== true,
    constant: f.constant === true,
    selective: f.selective === true,
  };
}

/** The entry's write body: every field for a new one, the changed ones against `before`. */
function toWrite(draft: Draft, before: Draft | null): EntryWrite {
  const changed = (name: keyof Draft) => before === null || draft[name] !== before[name];
  const body: EntryWrite = {};
  if (changed('comment')) body.comment = draft.comment.trim();
  if (changed('key')) body.key = keys(draft.key);
  if (changed('keysecondary')) body.keysecondary = keys(draft.keysecondary);
  if (changed('content')) body.content = draft.content;
  if (changed('kind')) body.kind = draft.kind;
  if (changed('order') && draft.order.trim() !== '' && Number.isFinite(Number(draft.order))) {
    body.order = Number(draft.order);
  }
  if (changed('enabled')) body.disable = !draft.enabled;
  if (changed('constant')) body.constant = draft.constant;
  if (changed('selective')) body.selective = draft.selective;
  return body;
}

function keys(value: string): string[] {
  return value
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
}

function entryTitle(entry: EntryOut): string {
  const comment = text(entry.fields.comment).trim();
  if (comment) return comment;
  const first = texts(entry.fields.key).slice(0, 3).join(', ');
  return first || `Entry ${entry.uid}`;
}

function flags(entry: EntryOut): string {
  const f = entry.fields;
  return [
    capital(entry.kind),
    f.disable === true ? 'disabled' : 'enabled',
    f.constant === true && 'constant',
    f.selective === true && 'selective',
    typeof f.order === 'number' && `order ${f.order}`,
    `uid ${entry.uid}`,
  ]
    .filter(Boolean)
    .join(' · ');
}

function searchable(entry: EntryOut): string {
  const f = entry.fields;
  return [text(f.comment), ...texts(f.key), ...texts(f.keysecondary), text(f.content)].join('\n').toLowerCase();
}

function aboutBook(book: LorebookOut): string {
  return [
    count(book.entry_count, 'entry', 'entries'),
    book.universe_name,
    `${book.storage_tier} storage`,
    `from ${book.source_format}`,
    `changed ${when(book.updated_at)}`,
  ]
    .filter(Boolean)
    .join(' · ');
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function texts(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function capital(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'lorebook';
}

function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
