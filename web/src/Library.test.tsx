// The library against a fake of the server's story routes (answered as the server answers them):
// the stories listed, one exported as a book, one deleted after asking, an archive imported,
// and a file that is not an archive refused.
import { fireEvent, screen, within } from '@testing-library/react';
import { beforeEach, expect, it, vi } from 'vitest';

import { Library } from './Library';
import { fakeServer, json, renderWithQueries } from './testing';

const sent: { method: string; path: string; query: string; body?: unknown }[] = [];
let stories: { id: string; title: string }[];


function storyOut({ id, title }: { id: string; title: string }) {
  return {
    id, title, premise: 'A thief in Veyra.', genre: 'fantasy', turn_count: 3, active_branch_id: 'b',
    created_at: '2026-11-20T10:00:00Z', updated_at: '2026-11-23T10:00:00Z',
  };
}

async function server(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const body = request.method === 'POST' ? JSON.parse(await request.text()) : undefined;
  sent.push({ method: request.method, path: url.pathname, query: url.search, body });
  if (url.pathname === '/stories') {
    return json({ items: stories.map(storyOut), total: stories.length, limit: 100, offset: 0 });
  }
  if (url.pathname === '/worlds/templates') return json([]);
  if (url.pathname === '/stories/s1/export') {
    return new Response('# The Canal Thief', { headers: { 'Content-Type': 'text/markdown' } });
  }
  if (url.pathname === '/stories/s2' && request.method === 'DELETE') {
    stories = stories.filter((s) => s.id !== 's2');
    return new Response(null, { status: 204 });
  }
  if (url.pathname === '/stories/import') {
    if (body.format_version === undefined) {
      return json({ error: 'invalid_input', message: 'format_version: field required' }, 422);
    }
    stories.push({ id: 's3', title: body.story.title });
    return json({ story_id: 's3', title: body.story.title, format_version: 2, branches: 1, turns: 4, agent_runs: 0, memory_jobs: 0, memory_rows: 0 }, 201);
  }
  return json({ error: 'not_found', message: 'No such route.' }, 404);
}

fakeServer(server);

beforeEach(() => {
  stories = [
    { id: 's1', title: 'The Canal Thief' },
    { id: 's2', title: 'Station Nine' },
  ];
  sent.length = 0;
  URL.createObjectURL = vi.fn(() => 'blob:file');
  URL.revokeObjectURL = vi.fn();
});


function renderLibrary() {
  renderWithQueries(<Library />);
}

function card(title: string): HTMLElement {
  return screen.getByRole('link', { name: title }).closest('li')!;
}

it('exports a story as a book and deletes another after asking', async () => {
  renderLibrary();
  await screen.findByText('Station Nine');
  const thief = within(card('The Canal Thief'));
  fireEvent.change(thief.getByLabelText('Export as'), { target: { value: 'markdown' } });
  const clicked = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
  fireEvent.click(thief.getByRole('button', { name: 'Export “The Canal Thief”' }));
  await vi.waitFor(() => expect(clicked).toHaveBeenCalled());
  expect(sent.find((r) => r.path === '/stories/s1/export')?.query).toBe('?format=markdown');
  expect((clicked.mock.contexts[0] as HTMLAnchorElement).download).toBe('The-Canal-Thief.md');

  fireEvent.click(within(card('Station Nine')).getByRole('button', { name: 'Delete “Station Nine”' }));
  fireEvent.click(screen.getByRole('button', { name: 'Delete the story' }));
  await vi.waitFor(() => expect(screen.queryByText('Station Nine')).toBeNull());
  expect(sent.some((r) => r.method === 'DELETE' && r.path === '/stories/s2')).toBe(true);
});

it('imports a story archive, and refuses a file that is not one', async () => {
  renderLibrary();
  const input = await screen.findByLabelText(/A story archive/);
  const archive = { format_version: 2, story: { title: 'The Bell' } };
  fireEvent.change(input, { target: { files: [new File([JSON.stringify(archive)], 'bell.json')] } });
  expect((await screen.findByRole('status')).textContent).toBe('Imported The Bell (4 turns, 1 branches).');
  expect(sent.find((r) => r.path === '/stories/import')?.body).toEqual(archive);
  expect(await screen.findAllByRole('link', { name: 'The Bell' })).toHaveLength(2); // the status and the list

  fireEvent.change(input, { target: { files: [new File(['not json'], 'notes.txt')] } });
  expect((await screen.findByRole('alert')).textContent).toBe('notes.txt is not a story archive: it is not JSON.');
  fireEvent.change(input, { target: { files: [new File(['{}'], 'empty.json')] } });
  await vi.waitFor(() => expect(screen.getByRole('alert').textContent).toBe('format_version: field required'));
});
