// The settings screen against a fake of the server's HTTP API (GET/PUT /settings, /providers,
// /providers/validate, /image-workers, answered as the server answers them): settings listed
// with their sources, only the changed ones sent, locked ones read-only, refusals explained.
import { client } from '@luna-narrates/sdk';
import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import { beforeEach, expect, it, vi } from 'vitest';

import { Settings } from './Settings';
import { fakeServer, json, renderWithQueries } from './testing';

type Source = 'environment' | '.env file' | 'command line' | 'stored' | 'default';
interface Setting {
  name: string;
  variable: string;
  value: unknown;
  source: Source;
  locked: boolean;
  editable: boolean;
  description: string | null;
  value_schema: object;
  updated_at: string | null;
  shadowed: unknown;
}

const DEFAULTS: Record<string, unknown> = {
  preprocessor_model: 'local:smollm2',
  writer_fallbacks: [],
  dreamer_speculative_pool_size: 30,
  arc_length_turns: 10,
};

// Each setting's value_schema as GET /settings gives it (settings.service.value_schemas).
const SCHEMAS: Record<string, object> = {
  luna_port: {"maximum": 65535, "minimum": 1, "type": "integer"},
  preprocessor_model: {"type": "string"},
  writer_model: {"type": "string"},
  dreamer_model: {"anyOf": [{"type": "string"}, {"type": "null"}]},
  preprocessor_fallbacks: {"items": {"type": "string"}, "type": "array"},
  writer_fallbacks: {"items": {"type": "string"}, "type": "array"},
  dreamer_fallbacks: {"items": {"type": "string"}, "type": "array"},
  arc_length_turns: {"maximum": 1000, "minimum": 2, "type": "integer"},
  images_enabled: {"type": "boolean"},
  image_width: {"maximum": 2048, "minimum": 64, "type": "integer"},
  dreamer_continuous_generation: {"type": "boolean"},
  dreamer_speculative_pool_size: {"maximum": 1000, "minimum": 1, "type": "integer"},
  dreamer_confidence_threshold: {"maximum": 1, "minimum": 0, "type": "number"},
  anthropic_api_key: {"anyOf": [{"format": "password", "type": "string", "writeOnly": true}, {"type": "null"}]},
};

function setting(name: string, value: unknown, more: Partial<Setting> = {}): Setting {
  return {
    name, variable: name.toUpperCase(), value, source: 'default', locked: false, editable: true,
    description: null, value_schema: SCHEMAS[name], updated_at: null, shadowed: null, ...more,
  };
}

let settings: Setting[] = [];
let workers: unknown[] = [];
let admin = true;
const sent: { method: string; path: string; body: unknown }[] = [];

function reset() {
  settings = [
    setting('luna_port', 8001, { editable: false }),
    setting('preprocessor_model', 'local:smollm2'),
    setting('writer_model', 'ollama:llama3.1', {
      source: 'environment', locked: true, editable: false, shadowed: 'local:smollm2',
    }),
    setting('dreamer_model', null, {
      description: "Invents what the story may need next; unset = the Preprocessor's model.",
    }),
    setting('preprocessor_fallbacks', []),
    setting('writer_fallbacks', ['local:smollm2'], { source: 'stored', updated_at: '2026-11-20T10:00:00Z' }),
    setting('dreamer_fallbacks', []),
    setting('arc_length_turns', 10, {
      description: 'An arc summary is written every this many turns.',
    }),
    setting('images_enabled', true, { description: 'Render each turn’s images.' }),
    setting('image_width', 768),
    setting('dreamer_continuous_generation', true),
    setting('dreamer_speculative_pool_size', 30, {
      description: 'Unused ideas kept per story; the least likely go.',
    }),
    setting('dreamer_confidence_threshold', 0.6),
    setting('anthropic_api_key', '(set)', { source: 'environment', locked: true, editable: false }),
  ];
  workers = [];
  admin = true;
  sent.length = 0;
}


const MODELS = [
  { model: 'local:smollm2', agents: ['preprocessor', 'dreamer', 'writer fallback 1'], ok: true, detail: 'installed' },
  { model: 'ollama:llama3.1', agents: ['writer'], ok: false, detail: 'Ollama does not answer at http://127.0.0.1:11434/v1' },
];

async function server(request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  const text = request.method === 'GET' ? '' : await request.text();
  const body = text ? JSON.parse(text) : undefined;
  sent.push({ method: request.method, path, body });
  if (!admin) return json({ error: 'forbidden', message: 'Only an admin may do this.' }, 403);
  if (path === '/settings' && request.method === 'GET') return json({ revision: 3, settings });
  if (path === '/settings' && request.method === 'PUT') {
    const changes = body as Record<string, unknown>;
    for (const [name, value] of Object.entries(changes)) {
      const found = settings.find((s) => s.name === name)!;
      if (found.locked) {
        return json({ error: 'conflict', message: `Set outside the stored settings: ${found.variable} (environment).` }, 409);
      }
      if (typeof value === 'string' && value.startsWith('nonsense:')) {
        return json({
          error: 'invalid_input',
          message: "Unknown provider 'nonsense' in 'nonsense:model'; known: anthropic, local, ollama.",
        }, 422);
      }
    }
    settings = settings.map((s) =>
      s.name in changes
        ? changes[s.name] === null
          ? { ...s, value: DEFAULTS[s.name] ?? null, source: 'default', updated_at: null }
          : { ...s, value: changes[s.name], source: 'stored', updated_at: '2026-11-23T21:00:00Z' }
        : s,
    );
    return json({ revision: 4, settings });
  }
  if (path === '/providers') {
    return json({
      providers: [
        { provider: 'anthropic', configured: true, detail: 'ANTHROPIC_API_KEY is set', base_url: null, models_in_use: [] },
        { provider: 'ollama', configured: true, detail: 'requests go to http://127.0.0.1:11434/v1', base_url: 'http://127.0.0.1:11434/v1', models_in_use: ['ollama:llama3.1'] },
      ],
      models: MODELS,
    });
  }
  if (path === '/providers/validate') {
    return json({ ok: true, models: [{ ...MODELS[1], ok: true, detail: 'Ollama lists llama3.1' }] });
  }
  if (path === '/image-workers') return json(workers);
  return json({ error: 'not_found', message: 'No such route.' }, 404);
}

fakeServer(server);

beforeEach(() => {
  reset();
  client.setConfig({ baseUrl: 'http://luna.test', throwOnError: true, fetch: globalThis.fetch });
});


function renderSettings() {
  renderWithQueries(<Settings />);
}

const input = async (label: string) => (await screen.findByLabelText(label)) as HTMLInputElement;
const puts = () => sent.filter((r) => r.method === 'PUT');

it('lists the settings with their values, sources and input types', async () => {
  renderSettings();
  const arc = await input('Arc length turns');
  expect(arc.value).toBe('10');
  expect(arc.type).toBe('number');
  expect(arc.min).toBe('2');
  expect(arc.max).toBe('1000');
  expect(arc.step).toBe('1'); // an integer, by the setting's value_schema
  const describedBy = document.getElementById(arc.getAttribute('aria-describedby')!)!;
  expect(describedBy.textContent).toBe('An arc summary is written every this many turns. Source: The default.');

  expect((await input('Writer fallbacks')).value).toBe('local:smollm2');
  expect(screen.getByText(/^Source: Stored on the server \(changed /)).toBeTruthy();

  const continuous = await input('Dreamer continuous generation');
  expect(continuous.type).toBe('checkbox');
  expect(continuous.checked).toBe(true);
  expect((await input('Dreamer confidence threshold')).max).toBe('1');
  expect((await input('Dreamer confidence threshold')).step).toBe('any');
  expect((await input('Image width')).value).toBe('768');

  // A secret as the API shows it, read-only; a start-up setting read-only with the reason.
  const key = await input('Anthropic api key');
  expect(key.value).toBe('(set)');
  expect(key.readOnly).toBe(true);
  const port = await input('Luna port');
  expect(port.readOnly).toBe(true);
  expect(screen.getByText(/read at start-up; set LUNA_PORT in the environment or \.env and restart/)).toBeTruthy();
});

it('sends only the changed setting and shows where its value now comes from', async () => {
  renderSettings();
  fireEvent.change(await input('Dreamer speculative pool size'), { target: { value: '50' } });
  fireEvent.click(await input('Dreamer continuous generation'));
  fireEvent.click(await input('Dreamer continuous generation')); // back as it was: not sent
  fireEvent.click(screen.getByRole('button', { name: 'Save dreamer options' }));

  expect(await screen.findByText('Saved.')).toBeTruthy();
  expect(puts()).toEqual([{ method: 'PUT', path: '/settings', body: { dreamer_speculative_pool_size: 50 } }]);
  expect((await input('Dreamer speculative pool size')).value).toBe('50');
  const card = screen.getByLabelText('Dreamer speculative pool size').closest('li')!;
  expect(within(card).getByText(/^Source: Stored on the server/)).toBeTruthy();
  expect(within(card).getByRole('button', { name: /Reset to default/ })).toBeTruthy();
});

it('edits a model chain and resets a stored value to its default with null', async () => {
  renderSettings();
  fireEvent.change(await input('Dreamer model'), { target: { value: 'ollama:llama3.1' } });
  fireEvent.change(await input('Preprocessor fallbacks'), { target: { value: 'ollama:llama3.1, local:smollm2' } });
  fireEvent.click(screen.getByRole('button', { name: 'Save models' }));
  expect(await screen.findByText('Saved.')).toBeTruthy();
  expect(puts()[0].body).toEqual({
    dreamer_model: 'ollama:llama3.1',
    preprocessor_fallbacks: ['ollama:llama3.1', 'local:smollm2'],
  });

  fireEvent.click(screen.getByRole('button', { name: 'Reset to default (Writer fallbacks)' }));
  await vi.waitFor(() => expect(puts()).toHaveLength(2));
  expect(puts()[1].body).toEqual({ writer_fallbacks: null });
  await vi.waitFor(async () => expect((await input('Writer fallbacks')).value).toBe(''));
});

it('shows a setting the environment sets as read-only, with the reason', async () => {
  renderSettings();
  const writer = await input('Writer model');
  expect(writer.readOnly).toBe(true);
  expect(writer.value).toBe('ollama:llama3.1');
  const about = document.getElementById(writer.getAttribute('aria-describedby')!)!;
  expect(about.textContent).toContain('Set by WRITER_MODEL in the environment');
  expect(about.textContent).toContain('A stored value (local:smollm2) is overridden.');
  expect(screen.queryByRole('button', { name: /Writer model\)/ })).toBeNull();

  fireEvent.change(writer, { target: { value: 'local:smollm2' } }); // read-only: no draft
  fireEvent.change(await input('Preprocessor model'), { target: { value: 'ollama:llama3.1' } });
  fireEvent.click(screen.getByRole('button', { name: 'Save models' }));
  await screen.findByText('Saved.');
  expect(puts()[0].body).toEqual({ preprocessor_model: 'ollama:llama3.1' });
});

it('shows the server’s message when it refuses a change (422)', async () => {
  renderSettings();
  fireEvent.change(await input('Preprocessor model'), { target: { value: 'nonsense:model' } });
  fireEvent.click(screen.getByRole('button', { name: 'Save models' }));
  const models = screen.getByRole('region', { name: 'Models' });
  expect((await within(models).findByRole('alert')).textContent).toBe(
    "Unknown provider 'nonsense' in 'nonsense:model'; known: anthropic, local, ollama.",
  );
  expect((await input('Preprocessor model')).value).toBe('nonsense:model'); // kept to correct
  expect(screen.queryByText('Saved.')).toBeNull();
});

it('lists the providers’ health and checks the models now', async () => {
  renderSettings();
  const health = await screen.findByRole('region', { name: 'Provider health' });
  expect(await within(health).findByText('Used by preprocessor, dreamer, writer fallback 1')).toBeTruthy();
  expect(within(health).getByText('Not usable: Ollama does not answer at http://127.0.0.1:11434/v1')).toBeTruthy();
  expect(within(health).getByText('In use: ollama:llama3.1')).toBeTruthy();
  expect(within(health).getByText('Configured: ANTHROPIC_API_KEY is set')).toBeTruthy();

  fireEvent.click(within(health).getByRole('button', { name: 'Check now' }));
  expect(await within(health).findByText('Checked just now: every model answers.')).toBeTruthy();
  expect(within(health).getByText('Healthy: Ollama lists llama3.1')).toBeTruthy();
  const check = sent.find((r) => r.path === '/providers/validate')!;
  expect(check.method).toBe('POST');
  expect(check.body).toEqual({
    models: {
      preprocessor: ['local:smollm2'],
      writer: ['ollama:llama3.1', 'local:smollm2'],
      dreamer: ['local:smollm2'], // no model of its own: the Preprocessor's chain
    },
  });
});

it('lists the image workers, or says the placeholder renderer draws the pictures', async () => {
  workers = [
    {
      name: 'gpu-1', api_type: 'comfyui', api_url: 'http://gpu-1:8188', max_concurrent: 2, priority: 0,
      online: true, configured: true, in_flight: 1, images_done: 40, images_failed: 2,
      average_seconds: 12.25, last_error: 'timed out after 300 s', last_heartbeat_at: '2026-11-23T21:00:00Z',
    },
  ];
  renderSettings();
  const pool = await screen.findByRole('region', { name: 'Image workers' });
  expect(await within(pool).findByText('gpu-1')).toBeTruthy();
  expect(within(pool).getByText('comfyui · http://gpu-1:8188')).toBeTruthy();
  expect(within(pool).getByText('Online')).toBeTruthy();
  expect(within(pool).getByText('Load: 1 of 2 · priority 0')).toBeTruthy();
  expect(within(pool).getByText('40 done, 2 failed, 12.3 s per image')).toBeTruthy();
  expect(within(pool).getByText('Last error: timed out after 300 s')).toBeTruthy();

  cleanup();
  workers = [];
  renderSettings();
  const empty = await screen.findByRole('region', { name: 'Image workers' });
  expect(await within(empty).findByText(/the placeholder renderer draws labelled placeholder pictures/)).toBeTruthy();
});

it('tells a player who is not the admin what the server said', async () => {
  admin = false;
  renderSettings();
  expect((await screen.findByRole('alert')).textContent).toBe('Only an admin may do this.');
  expect(screen.getByText(/for the server’s admin/)).toBeTruthy();
  expect(screen.queryAllByRole('alert')).toHaveLength(1);
  expect(sent.map((r) => r.path)).toEqual(['/settings']); // nothing else asked for
});
