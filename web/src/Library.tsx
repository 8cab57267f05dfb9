/** The library: the player's stories, and starting a new one from a premise or a template. */
import { createStory, listStories, listTemplates, type StoryStart } from '@luna-narrates/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

import { errorMessage } from './errors';

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
            <li key={story.id}>
              <a className="card" href={`#/stories/${story.id}`}>
                <strong>{story.title}</strong>
                <span className="premise">{story.premise}</span>
                <span className="muted">
                  {[story.genre, `${story.turn_count} turns`, `last played ${when(story.updated_at)}`]
                    .filter(Boolean)
                    .join(' · ')}
                </span>
              </a>
            </li>
          ))}
        </ul>
      </section>
      <NewStory />
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

function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
