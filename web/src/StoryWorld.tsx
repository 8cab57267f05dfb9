/** A story's lore and cast: the lorebooks it reads (attach one of yours, detach) and the
 * characters it casts (add one of your cards as the protagonist or a character, remove). Which
 * entries fired on a turn is in that turn's "What the AI saw". */
import {
  addToCast,
  attachLorebook,
  detachLorebook,
  listCards,
  listCast,
  listLorebooks,
  removeFromCast,
  storyLorebooks,
} from '@luna-narrates/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

import { errorMessage } from './errors';

export function StoryWorld({ storyId }: { storyId: string }) {
  return (
    <>
      <StoryLore storyId={storyId} />
      <StoryCast storyId={storyId} />
    </>
  );
}

function StoryLore({ storyId }: { storyId: string }) {
  const queryClient = useQueryClient();
  const attached = useQuery({
    queryKey: ['story-lorebooks', storyId],
    queryFn: async () => (await storyLorebooks({ path: { story_id: storyId }, throwOnError: true })).data,
  });
  const mine = useQuery({
    queryKey: ['lorebooks', 'all'],
    queryFn: async () => (await listLorebooks({ query: { limit: 200 }, throwOnError: true })).data,
  });
  const [chosen, setChosen] = useState('');
  const changed = () => queryClient.invalidateQueries({ queryKey: ['story-lorebooks', storyId] });
  const attach = useMutation({
    mutationFn: async (lorebookId: string) =>
      (await attachLorebook({ path: { story_id: storyId }, body: { lorebook_id: lorebookId }, throwOnError: true })).data,
    onSuccess: () => {
      setChosen('');
      return changed();
    },
  });
  const detach = useMutation({
    mutationFn: async (lorebookId: string) =>
      detachLorebook({ path: { story_id: storyId, lorebook_id: lorebookId }, throwOnError: true }),
    onSuccess: changed,
  });
  const linked = new Set(attached.data?.map((book) => book.id));
  const free = mine.data?.items.filter((book) => !linked.has(book.id)) ?? [];

  function submit(event: FormEvent) {
    event.preventDefault();
    if (chosen) attach.mutate(chosen);
  }

  return (
    <section aria-labelledby="story-lore-title">
      <h2 id="story-lore-title">Lorebooks this story reads</h2>
      {attached.error && <p role="alert" className="error">{errorMessage(attached.error)}</p>}
      {attached.data?.length === 0 && <p className="muted">None yet: the story knows only what its turns wrote.</p>}
      <ul className="cards">
        {attached.data?.map((book) => (
          <li key={book.id} className="card">
            <strong>{book.name}</strong>
            <span className="muted">{book.entry_count} entries</span>
            <button
              type="button"
              className="quiet"
              disabled={detach.isPending}
              onClick={() => detach.mutate(book.id)}
            >
              Detach<span className="visually-hidden"> {book.name}</span>
            </button>
          </li>
        ))}
      </ul>
      {mine.data && free.length === 0 && (
        <p className="muted">
          To add lore, upload a world info file under <a href="#/lore">Worlds &amp; lore</a>.
        </p>
      )}
      {free.length > 0 && (
        <form className="row" onSubmit={submit}>
          <label>
            Lorebook
            <select value={chosen} onChange={(e) => setChosen(e.target.value)} required>
              <option value="">Choose one of yours…</option>
              {free.map((book) => (
                <option key={book.id} value={book.id}>
                  {book.name}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={attach.isPending || !chosen}>
            Attach
          </button>
        </form>
      )}
      {(attach.error ?? detach.error) && (
        <p role="alert" className="error">{errorMessage(attach.error ?? detach.error)}</p>
      )}
    </section>
  );
}

function StoryCast({ storyId }: { storyId: string }) {
  const queryClient = useQueryClient();
  const cast = useQuery({
    queryKey: ['cast', storyId],
    queryFn: async () => (await listCast({ path: { story_id: storyId }, throwOnError: true })).data,
  });
  const cards = useQuery({
    queryKey: ['cards'],
    queryFn: async () => (await listCards({ query: { limit: 100 }, throwOnError: true })).data,
  });
  const [chosen, setChosen] = useState('');
  const [role, setRole] = useState<'npc' | 'protagonist'>('npc');
  const changed = () => queryClient.invalidateQueries({ queryKey: ['cast', storyId] });
  const add = useMutation({
    mutationFn: async () =>
      (await addToCast({ path: { story_id: storyId }, body: { character_id: chosen, role }, throwOnError: true })).data,
    onSuccess: () => {
      setChosen('');
      return changed();
    },
  });
  const remove = useMutation({
    mutationFn: async (characterId: string) =>
      removeFromCast({ path: { story_id: storyId, character_id: characterId }, throwOnError: true }),
    onSuccess: changed,
  });
  const inCast = new Set(cast.data?.map((member) => member.character.id));
  const free = cards.data?.items.filter((card) => !inCast.has(card.id)) ?? [];

  function submit(event: FormEvent) {
    event.preventDefault();
    if (chosen) add.mutate();
  }

  return (
    <section aria-labelledby="cast-title">
      <h2 id="cast-title">The cast</h2>
      {cast.error && <p role="alert" className="error">{errorMessage(cast.error)}</p>}
      {cast.data?.length === 0 && <p className="muted">No characters from your cards are in this story.</p>}
      <ul className="cards">
        {cast.data?.map((member) => (
          <li key={member.character.id} className="card">
            <strong>{member.character.name}</strong>
            <span className="muted">{member.role === 'protagonist' ? 'The protagonist' : 'A character'}</span>
            <button
              type="button"
              className="quiet"
              disabled={remove.isPending}
              onClick={() => remove.mutate(member.character.id)}
            >
              Remove<span className="visually-hidden"> {member.character.name}</span>
            </button>
          </li>
        ))}
      </ul>
      {cards.data && free.length === 0 && (
        <p className="muted">
          To cast someone, import or create a card under <a href="#/characters">Characters</a>.
        </p>
      )}
      {free.length > 0 && (
        <form className="row" onSubmit={submit}>
          <label>
            Character
            <select value={chosen} onChange={(e) => setChosen(e.target.value)} required>
              <option value="">Choose one of your cards…</option>
              {free.map((card) => (
                <option key={card.id} value={card.id}>
                  {card.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            As
            <select value={role} onChange={(e) => setRole(e.target.value as 'npc' | 'protagonist')}>
              <option value="npc">a character</option>
              <option value="protagonist">the protagonist</option>
            </select>
          </label>
          <button type="submit" disabled={add.isPending || !chosen}>
            Add to the cast
          </button>
        </form>
      )}
      {(add.error ?? remove.error) && <p role="alert" className="error">{errorMessage(add.error ?? remove.error)}</p>}
    </section>
  );
}
