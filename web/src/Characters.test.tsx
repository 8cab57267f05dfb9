// The characters screen against a fake of the server's card routes (answered as the server
// answers them): the gallery, a card written by hand, a real SillyTavern card PNG imported
// (../shared/fixtures) as the request's body, a refused import explained, and an edit.
import { File as NodeFile } from 'node:buffer';

import { fireEvent, screen, waitFor } from '@testing-library/react';
import { beforeEach, expect, it } from 'vitest';

import { Characters } from './Characters';
import { fakeServer, fixture, json, renderWithQueries } from './testing';

const SERAPHINA = fixture('release-1.12.6/default_Seraphina.png');
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];

let cards: ReturnType<typeof card>[];
const sent: { method: string; path: string; type: string | null; body?: unknown; bytes?: number[] }[] = [];


function card(id: string, name: string, more: Record<string, unknown> = {}) {
  return {
    id, name, spec: 'chara_card_v3', origin: 'imported', in_library: true, tags: [], description: `${name}, a guardian.`,
    personality: '', scenario: '', first_mes: '', mes_example: '', creator_notes: '', system_prompt: '',
    post_history_instructions: '', alternate_greetings: [], creator: '', character_version: '', extensions: {},
    lorebook_id: null, portrait: 'placeholder', skills: [], warnings: [],
    created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z', ...more,
  };
}

async function server(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const record: (typeof sent)[number] = { method: request.method, path: url.pathname, type: request.headers.get('content-type') };
  sent.push(record);
  if (url.pathname === '/character-cards') return json({ items: cards, total: cards.length });
  if (url.pathname === '/character-cards/import') {
    const bytes = new Uint8Array(await request.arrayBuffer());
    record.bytes = [...bytes.slice(0, 4)];
    if (!PNG_MAGIC.every((b, i) => bytes[i] === b)) {
      return json({ error: 'invalid_input', message: 'The card is neither JSON nor a PNG with a card in it.' }, 422);
    }
    cards.push(card('c2', 'Seraphina'));
    return json(cards.at(-1));
  }
  if (url.pathname === '/character-cards/manual') {
    record.body = JSON.parse(await request.text());
    const body = record.body as { name: string };
    cards.push(card('c3', body.name, { origin: 'manual' }));
    return json(cards.at(-1), 201);
  }
  const id = url.pathname.split('/')[2];
  if (url.pathname.endsWith('/portrait')) return json({ error: 'not_found', message: 'No portrait.' }, 404);
  if (request.method === 'PATCH') {
    record.body = JSON.parse(await request.text());
    cards = cards.map((c) => (c.id === id ? { ...c, ...(record.body as object) } : c));
    return json(cards.find((c) => c.id === id));
  }
  return json({ error: 'not_found', message: 'No such route.' }, 404);
}

fakeServer(server);

beforeEach(() => {
  cards = [card('c1', 'Ila', { origin: 'manual' })];
  sent.length = 0;
});


function renderCharacters() {
  renderWithQueries(<Characters />);
}

function choose(bytes: Uint8Array | string, name: string, type: string) {
  // Node's File, which fetch (undici) sends as a body; jsdom's it cannot read.
  const file = new NodeFile([bytes], name, { type });
  fireEvent.change(screen.getByLabelText('Import a card file'), { target: { files: [file] } });
}

it('lists the cards, a portrait-less one with its initial', async () => {
  renderCharacters();
  const tile = await screen.findByRole('button', { name: /Ila/ });
  expect(tile.textContent).toContain('Ila, a guardian.');
  await waitFor(() => expect(sent.some((r) => r.path === '/character-cards/c1/portrait')).toBe(true));
  expect(tile.querySelector('.portrait.initial')?.textContent).toBe('I');
});

it('imports a SillyTavern card PNG as the body, and opens it', async () => {
  renderCharacters();
  await screen.findByRole('button', { name: /Ila/ });
  choose(new Uint8Array(SERAPHINA), 'default_Seraphina.png', 'image/png');
  expect((await screen.findByText('Imported Seraphina.')).getAttribute('role')).toBe('status');
  const call = sent.find((r) => r.path === '/character-cards/import')!;
  expect(call).toMatchObject({ method: 'POST', type: 'image/png', bytes: PNG_MAGIC });
  expect(await screen.findByRole('heading', { name: 'Seraphina' })).toBeTruthy(); // opened
});

it("shows the server's reason when it refuses an import", async () => {
  renderCharacters();
  await screen.findByRole('button', { name: /Ila/ });
  choose('just some notes', 'notes.txt', 'text/plain');
  expect((await screen.findByRole('alert')).textContent).toBe('The card is neither JSON nor a PNG with a card in it.');
});

it('creates a card by hand and edits it, sending only what changed', async () => {
  renderCharacters();
  await screen.findByRole('button', { name: /Ila/ });
  fireEvent.click(screen.getByRole('button', { name: 'Written by hand' }));
  fireEvent.change(screen.getByLabelText('Character name'), { target: { value: 'Doge Orsini' } });
  fireEvent.change(screen.getAllByLabelText('Personality').at(-1)!, { target: { value: 'Vain, watchful.' } });
  fireEvent.click(screen.getByRole('button', { name: 'Create the character' }));
  expect(await screen.findByRole('heading', { name: 'Doge Orsini' })).toBeTruthy();
  expect(sent.find((r) => r.path === '/character-cards/manual')?.body).toEqual({
    name: 'Doge Orsini', personality: 'Vain, watchful.',
  });

  fireEvent.change(screen.getAllByLabelText('Scenario')[0], { target: { value: 'The palace at night.' } });
  fireEvent.click(screen.getByRole('button', { name: 'Save Doge Orsini' }));
  await waitFor(() => expect(sent.some((r) => r.method === 'PATCH')).toBe(true));
  expect(sent.find((r) => r.method === 'PATCH')).toMatchObject({
    path: '/character-cards/c3', body: { scenario: 'The palace at night.' },
  });
});
