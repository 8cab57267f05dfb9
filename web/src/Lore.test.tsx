// Worlds and lorebooks against a fake of the server's lorebook and world routes (answered as the
// server answers them), with a real SillyTavern World Info file (../shared/fixtures): the upload
// sent as multipart, its entries browsed and filtered, an entry edited (only what changed is
// sent), and a refused upload explained.
import { File as NodeFile } from 'node:buffer';

import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, expect, it, vi } from 'vitest';

import { Lore } from './Lore';
import { fakeServer, fixture, json, renderWithQueries } from './testing';

const ELDORIA = fixture('release-1.12.6/Eldoria.json').toString('utf8');
const WORLD_INFO = JSON.parse(ELDORIA) as { entries: Record<string, Record<string, unknown>> };

interface Book {
  id: string;
  name: string;
  entries: { id: string; uid: string; position: number; kind: string; fields: Record<string, unknown> }[];
}

let books: Book[];
let refuseUpload = false;
const sent: { method: string; path: string; body?: unknown; form?: Record<string, string> }[] = [];


function out(book: Book) {
  return {
    id: book.id, name: book.name, description: '', universe_name: null, storage_tier: 'warm',
    source_format: 'world_info', entry_count: book.entries.length, token_budget: null, scan_depth: null,
    recursive_scanning: null, created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z',
  };
}

async function server(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname;
  const record: (typeof sent)[number] = { method: request.method, path };
  if (path === '/lorebooks/upload') {
    // The multipart body as sent: its parts' names and file names, and the file's text.
    const raw = await request.text();
    const file = /name="file"; filename="([^"]+)"\r\nContent-Type: [^\r]+\r\n\r\n([\s\S]*?)\r\n--/.exec(raw);
    const tier = /name="storage_tier"\r\n\r\n([^\r]*)\r\n/.exec(raw);
    record.form = { file: file?.[1] ?? '(none)', storage_tier: tier?.[1] ?? '(none)' };
    sent.push(record);
    if (refuseUpload) {
      return json({ error: 'invalid_input', message: 'notes.txt is not a lorebook: no `entries` found.' }, 422);
    }
    const parsed = JSON.parse(file![2]) as typeof WORLD_INFO;
    const book: Book = {
      id: 'lb1',
      name: file![1].replace(/\.json$/, ''),
      entries: Object.values(parsed.entries).map((fields, position) => ({
        id: `e${position}`, uid: String(fields.uid), position, kind: 'lore', fields,
      })),
    };
    books.push(book);
    return json({ ...out(book), entries: book.entries, entries_from: 0, entries_total: book.entries.length }, 201);
  }
  if (['POST', 'PATCH'].includes(request.method)) record.body = JSON.parse(await request.text());
  sent.push(record);
  if (path === '/lorebooks') return json({ items: books.map(out), total: books.length });
  if (path === '/worlds') return json({ items: [], total: 0 });
  if (path === '/worlds/templates') return json([]);
  const book = books.find((b) => path.startsWith(`/lorebooks/${b.id}`));
  if (book && path === `/lorebooks/${book.id}`) {
    return json({ ...out(book), entries: book.entries.slice(0, 1), entries_from: 0, entries_total: book.entries.length });
  }
  if (book && path === `/lorebooks/${book.id}/entries`) {
    return json({ items: book.entries, total: book.entries.length, limit: 50, offset: 0 });
  }
  const entry = book?.entries.find((e) => path === `/lorebooks/${book.id}/entries/${e.id}`);
  if (entry && request.method === 'PATCH') {
    entry.fields = { ...entry.fields, ...(record.body as object) };
    return json(entry);
  }
  return json({ error: 'not_found', message: 'No such route.' }, 404);
}

// jsdom's FormData and File are not Node's, which fetch (undici) encodes: the test uses Node's
// (a browser has one kind of each).
const NodeFormData = (await new Response(new URLSearchParams('a=1')).formData()).constructor;

fakeServer(server);

beforeEach(() => {
  vi.stubGlobal('FormData', NodeFormData);
  books = [];
  refuseUpload = false;
  sent.length = 0;
});


function renderLore() {
  renderWithQueries(<Lore />);
}

async function upload(name: string, text: string) {
  const input = await screen.findByLabelText('Upload world info');
  fireEvent.change(input, { target: { files: [new NodeFile([text], name, { type: 'application/json' })] } });
}

it('uploads a SillyTavern World Info file and browses, filters and edits its entries', async () => {
  renderLore();
  expect(await screen.findByText('No lorebooks yet: upload one or create one.')).toBeTruthy();
  await upload('Eldoria.json', ELDORIA);
  expect((await screen.findByText('Uploaded Eldoria (4 entries).')).getAttribute('role')).toBe('status');
  expect(sent.find((r) => r.path === '/lorebooks/upload')?.form).toEqual({ file: 'Eldoria.json', storage_tier: 'warm' });

  fireEvent.click(await screen.findByRole('button', { name: 'Open Eldoria' }));
  await screen.findByRole('heading', { name: 'Entries' });
  const entries = Object.values(WORLD_INFO.entries);
  await waitFor(() => expect(screen.getAllByRole('list', { name: 'Keys' })).toHaveLength(entries.length));
  const firstKeys = (entries[0].key as string[]).join(', ');
  expect(screen.getAllByText('eldoria')[0]).toBeTruthy();

  fireEvent.change(screen.getByLabelText('Filter by keyword or text'), { target: { value: 'shadowfang' } });
  const matching = entries.filter((e) => JSON.stringify(e).toLowerCase().includes('shadowfang')).length;
  await waitFor(() => expect(screen.getAllByRole('list', { name: 'Keys' })).toHaveLength(matching));
  fireEvent.change(screen.getByLabelText('Filter by keyword or text'), { target: { value: '' } });

  const title = (entries[0].comment as string) || firstKeys.split(', ').slice(0, 3).join(', ');
  fireEvent.click(await screen.findByRole('button', { name: `Edit ${title}` }));
  const form = screen.getByRole('form', { name: `Edit ${title}` });
  fireEvent.change(within(form).getByLabelText('Content'), { target: { value: 'The forest of the guardian.' } });
  fireEvent.click(within(form).getByRole('button', { name: /Save/ }));
  await waitFor(() => expect(sent.some((r) => r.method === 'PATCH')).toBe(true));
  expect(sent.find((r) => r.method === 'PATCH')).toEqual({
    method: 'PATCH', path: '/lorebooks/lb1/entries/e0', body: { content: 'The forest of the guardian.' },
  });
  expect(await screen.findByText('The forest of the guardian.')).toBeTruthy();
});

it("shows the server's reason when it refuses an upload", async () => {
  refuseUpload = true;
  renderLore();
  await upload('notes.txt', 'not a lorebook');
  expect((await screen.findByRole('alert')).textContent).toBe('notes.txt is not a lorebook: no `entries` found.');
});
