/** The library: the player's stories (export as an archive or a book, delete), starting a new
 * one from a premise or a template, and importing a story archive. */
import {
  createStory,
  deleteStory,
  importStoryRoute,
  listStories,
  listTemplates,
  type StoryOut,
  type StoryStart,
} from '@luna-narrates/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ChangeEvent, type FormEvent } from 'react';

import { Confirm } from './Confirm';
import { errorMessage } from './errors';
import { download } from './media';

export function Library() {
  const stories = useQuery({
    queryKey: ['stories'],
    queryFn: async () => (await listStories({ query: { limit: 100 }, throwOnError: true })).data,
  });
  return (
    <>
      <section aria-labelledby="stories-title">
        <h1 id="stories-title">Your stories</h1>
        {stories.isPending && <p className="muted">Loading your stories…</p>}
        {stories.error && <p role="alert" className="error">{errorMessage(stories.error)}</p>}
        {stories.data?.items.length === 0 && (
          <p className="muted">No stories yet: start one below.</p>
        )}
        <ul className="cards">
          {stories.data?.items.map((story) => (
            <li key={story.id} className="card">
              <a className="story-link" href={`#/stories/${story.id}`}>
                <strong>{story.title}</strong>
              </a>
              <span className="premise">{story.premise}</span>
              <span className="muted">
                {[story.genre, `${story.turn_count} turns`, `last played ${when(story.updated_at)}`]
                  .filter(Boolean)
                  .join(' · ')}
              </span>
              <StoryTools story={story} />
            </li>
          ))}
        </ul>
      </section>
      <NewStory />
      <ImportStory />
    </>
  );
}

function NewStory() {
  const queryClient = useQueryClient();
  const [title, setTitle] = useState('');
  const [premise, setPremise] = useState('');
  const templates = useQuery({
    queryKey: ['templates'],
    queryFn: async () => (await listTemplates({ throwOnError: true })).data,
  });
  const start = useMutation({
    mutationFn: async (body: StoryStart) => (await createStory({ body, throwOnError: true })).data,
    onSuccess: (story) => {
      void queryClient.invalidateQueries({ queryKey: ['stories'] });
      window.location.hash = `#/stories/${story.id}`;
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    start.mutate({ title: title.trim(), premise: premise.trim() });
  }

  return (
    <section aria-labelledby="new-title">
      <h2 id="new-title">Start a story</h2>
      <form className="stack" onSubmit={submit}>
        <label>
          Title
          <input value={title} onChange={(e) => setTitle(e.target.value)} required />
        </label>
        <label>
          Premise
          <textarea value={premise} onChange={(e) => setPremise(e.target.value)} rows={3} required />
        </label>
        <button type="submit" disabled={start.isPending}>
          Start from this premise
        </button>
      </form>
      {start.error && <p role="alert" className="error">{errorMessage(start.error)}</p>}
      {templates.error && <p role="alert" className="error">{errorMessage(templates.error)}</p>}
      {templates.data && templates.data.length > 0 && (
        <>
          <h3>Or from a template</h3>
          <ul className="cards">
            {templates.data.map((template) => (
              <li key={template.id} className="card">
                <strong>{template.title}</strong>
                <span className="premise">{template.premise}</span>
                <span className="muted">{template.genre}</span>
                <button
                  type="button"
                  disabled={start.isPending}
                  onClick={() => start.mutate({ template_id: template.id })}
                >
                  Start “{template.title}”
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

const FORMATS = [
  ['json', 'the whole story (JSON archive)', 'json'],
  ['markdown', 'a book (Markdown)', 'md'],
  ['html', 'a book (HTML)', 'html'],
  ['epub', 'a book (EPUB)', 'epub'],
] as const;

function StoryTools({ story }: { story: StoryOut }) {
  const queryClient = useQueryClient();
  const [format, setFormat] = useState<(typeof FORMATS)[number][0]>('json');
  const [deleting, setDeleting] = useState(false);
  const saving = useMutation({
    mutationFn: () => {
      const extension = FORMATS.find(([name]) => name === format)![2];
      const name = story.title.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '') || 'story';
      return download(`/stories/${story.id}/export?format=${format}`, `${name}.${extension}`);
    },
  });
  return (
    <div className="stack">
      <div className="row">
        <label>
          Export as
          <select value={format} onChange={(e) => setFormat(e.target.value as typeof format)}>
            {FORMATS.map(([name, label]) => (
              <option key={name} value={name}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="quiet" disabled={saving.isPending} onClick={() => saving.mutate()}>
          Export<span className="visually-hidden"> “{story.title}”</span>
        </button>
        <button type="button" className="quiet" onClick={() => setDeleting(true)}>
          Delete<span className="visually-hidden"> “{story.title}”</span>
        </button>
      </div>
      {saving.error && <p role="alert" className="error">{errorMessage(saving.error)}</p>}
      {deleting && (
        <Confirm
          question={`Delete “${story.title}” with its ${story.turn_count} turns, branches and pictures?`}
          yes="Delete the story"
          act={async () => {
            await deleteStory({ path: { story_id: story.id }, throwOnError: true });
            void queryClient.invalidateQueries({ queryKey: ['stories'] });
          }}
          cancel={() => setDeleting(false)}
        />
      )}
    </div>
  );
}

/** A story archive (`Export as the whole story`) read back as a new story. */
function ImportStory() {
  const queryClient = useQueryClient();
  const importing = useMutation({
    mutationFn: async (file: File) => {
      let archive: Record<string, unknown>;
      try {
        archive = JSON.parse(await file.text());
      } catch {
        throw new Error(`${file.name} is not a story archive: it is not JSON.`);
      }
      return (await importStoryRoute({ body: archive, throwOnError: true })).data;
    },
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['stories'] }),
  });
  function chosen(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    if (file) importing.mutate(file);
    event.target.value = '';
  }
  return (
    <section aria-labelledby="import-title">
      <h2 id="import-title">Import a story</h2>
      <label>
        A story archive (.json, from “Export as the whole story”)
        <input type="file" accept=".json,application/json" onChange={chosen} disabled={importing.isPending} />
      </label>
      {importing.isPending && <p className="muted">Importing…</p>}
      {importing.data && (
        <p role="status">
          Imported <a href={`#/stories/${importing.data.story_id}`}>{importing.data.title}</a> (
          {importing.data.turns} turns, {importing.data.branches} branches).
        </p>
      )}
      {importing.error && <p role="alert" className="error">{errorMessage(importing.error)}</p>}
    </section>
  );
}

function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
