// A story's lore and cast against a fake of the server's routes (answered as the server answers
// them): a lorebook attached and detached, a card cast as the protagonist, a refusal explained.
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, expect, it } from 'vitest';

import { StoryWorld } from './StoryWorld';
import { fakeServer, json, renderWithQueries } from './testing';

const STORY = 's1';
const BOOK = { id: 'lb1', name: 'Eldoria', entry_count: 4 };
const CARD = { id: 'c1', name: 'Seraphina' };
let attached: (typeof BOOK)[];
let cast: { character: typeof CARD; role: string }[];
const sent: { method: string; path: string; body?: unknown }[] = [];

async function server(request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  const body = request.method === 'POST' ? JSON.parse(await request.text()) : undefined;
  sent.push({ method: request.method, path, body });
  if (path === '/lorebooks') return json({ items: [BOOK], total: 1 });
  if (path === '/character-cards') return json({ items: [CARD], total: 1 });
  if (path === `/stories/${STORY}/lorebooks`) {
    if (request.method === 'POST') attached = [BOOK];
    return json(request.method === 'POST' ? BOOK : attached, request.method === 'POST' ? 201 : 200);
  }
  if (path === `/stories/${STORY}/lorebooks/lb1`) {
    attached = [];
    return new Response(null, { status: 204 });
  }
  if (path === `/stories/${STORY}/characters`) {
    if (request.method === 'GET') return json(cast);
    if (body.role === 'protagonist' && cast.some((m) => m.role === 'protagonist')) {
      return json({ error: 'conflict', message: 'The story has a protagonist already.' }, 409);
    }
    cast = [{ character: CARD, role: body.role }];
    return json(cast[0], 201);
  }
  return json({ error: 'not_found', message: 'No such route.' }, 404);
}

fakeServer(server);

beforeEach(() => {
  attached = [];
  cast = [];
  sent.length = 0;
});

it('attaches a lorebook to the story and detaches it', async () => {
  renderWithQueries(<StoryWorld storyId={STORY} />);
  expect(await screen.findByText('None yet: the story knows only what its turns wrote.')).toBeTruthy();
  const lore = screen.getByRole('region', { name: 'Lorebooks this story reads' });
  fireEvent.change(await within(lore).findByLabelText('Lorebook'), { target: { value: 'lb1' } });
  fireEvent.click(within(lore).getByRole('button', { name: 'Attach' }));
  expect(await within(lore).findByText('4 entries')).toBeTruthy();
  expect(sent.find((r) => r.method === 'POST')).toEqual({
    method: 'POST', path: `/stories/${STORY}/lorebooks`, body: { lorebook_id: 'lb1' },
  });
  fireEvent.click(within(lore).getByRole('button', { name: 'Detach Eldoria' }));
  await waitFor(() => expect(within(lore).queryByText('4 entries')).toBeNull());
});

it("casts a card as the protagonist, and says why the server refuses a second one", async () => {
  renderWithQueries(<StoryWorld storyId={STORY} />);
  const section = await screen.findByRole('region', { name: 'The cast' });
  fireEvent.change(await within(section).findByLabelText('Character'), { target: { value: 'c1' } });
  fireEvent.change(within(section).getByLabelText('As'), { target: { value: 'protagonist' } });
  fireEvent.click(within(section).getByRole('button', { name: 'Add to the cast' }));
  expect(await within(section).findByText('The protagonist')).toBeTruthy();
  expect(sent.find((r) => r.method === 'POST')?.body).toEqual({ character_id: 'c1', role: 'protagonist' });
  // Seraphina is cast: she is no longer offered.
  expect(within(section).queryByLabelText('Character')).toBeNull();

  cast = [{ character: { id: 'c9', name: 'Ila' }, role: 'protagonist' }];
  renderWithQueries(<StoryWorld storyId={STORY} />);
  const again = (await screen.findAllByRole('region', { name: 'The cast' })).at(-1)!;
  fireEvent.change(await within(again).findByLabelText('Character'), { target: { value: 'c1' } });
  fireEvent.change(within(again).getByLabelText('As'), { target: { value: 'protagonist' } });
  fireEvent.click(within(again).getByRole('button', { name: 'Add to the cast' }));
  expect((await within(again).findByRole('alert')).textContent).toBe('The story has a protagonist already.');
});
