/** The server's settings (admins only): each agent's model chain, the providers' and image
 * workers' health, the Dreamer's and the images' options, and every other setting with where its
 * value comes from. A change is stored with PUT /settings and applies from the next turn. */
import {
  changeSettings,
  listProviders,
  listWorkers,
  showSettings,
  validate,
  type ImageWorkerOut,
  type ModelCheckOut,
  type SettingOut,
  type SettingsOut,
} from '@luna-narrates/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

import { errorMessage } from './errors';
import './Settings.css';

type Draft = string | boolean;
type Drafts = Record<string, Draft>;
type Changes = Record<string, unknown>;

export function Settings() {
  const settings = useQuery({
    queryKey: ['settings'],
    queryFn: async () => (await showSettings({ throwOnError: true })).data,
  });
  const all = settings.data?.settings;
  const groups = all && group(all);
  return (
    <article className="settings">
      <h1>Settings</h1>
      {settings.isPending && <p className="muted">Loading the server’s settings…</p>}
      {settings.error && (
        <>
          <p role="alert" className="error">{errorMessage(settings.error)}</p>
          {adminOnly(settings.error) && (
            <p className="muted">
              Settings, providers and image workers are for the server’s admin: sign in as the
              admin to see or change them.
            </p>
          )}
        </>
      )}
      {all && groups && (
        <>
          <p className="muted">
            A saved change applies from the next turn, without a restart. A setting the
            environment sets cannot be changed here.
          </p>
          <Models all={all} roles={groups.roles} />
          <ProviderHealth all={all} />
          <ImageWorkers all={all} />
          <SettingsForm
            id="dreamer"
            title="Dreamer options"
            hint="What the Dreamer invents between turns, and how long unused ideas are kept."
            settings={groups.dreamer}
          />
          <SettingsForm
            id="images"
            title="Image options"
            hint="How each turn’s pictures are drawn. In prompts, {subject} and {description} are filled in."
            settings={groups.images}
          />
          <SettingsForm
            id="other"
            title="Other settings"
            hint="Everything else, so nothing is hidden. Secrets only say whether they are set."
            settings={groups.other}
          />
        </>
      )}
    </article>
  );
}

/** Whether a refusal says the caller is not the admin (403, or 404 where the server hides it). */
function adminOnly(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { error?: unknown }).error : null;
  return code === 'forbidden' || code === 'not_found';
}

interface Role {
  role: string;
  model: SettingOut;
  fallbacks: SettingOut;
}

/** The settings by screen section, in the server's order. */
function group(all: SettingOut[]) {
  const byName = new Map(all.map((s) => [s.name, s]));
  const roles: Role[] = [];
  for (const setting of all) {
    const role = /^(.+)_model$/.exec(setting.name)?.[1];
    const fallbacks = role && byName.get(`${role}_fallbacks`);
    if (role && fallbacks) roles.push({ role, model: setting, fallbacks });
  }
  const models = new Set(roles.flatMap((r) => [r.model.name, r.fallbacks.name]));
  const dreamer = all.filter((s) => s.name.startsWith('dreamer_') && !models.has(s.name));
  const images = all.filter(
    (s) => s.name === 'images_enabled' || (s.name.startsWith('image_') && !models.has(s.name)),
  );
  const placed = new Set([...models, ...dreamer.map((s) => s.name), ...images.map((s) => s.name)]);
  return { roles, dreamer, images, other: all.filter((s) => !placed.has(s.name)) };
}

/** A PUT /settings of its own (its error shown in its section), whose answer is the new list. */
function useChange(onSaved: (sent: Changes) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (body: Changes) => (await changeSettings({ body, throwOnError: true })).data,
    onSuccess: (data: SettingsOut, sent) => {
      queryClient.setQueryData(['settings'], data);
      if (Object.keys(sent).some((name) => /_(model|fallbacks)$/.test(name))) {
        void queryClient.invalidateQueries({ queryKey: ['providers'] });
      }
      onSaved(sent);
    },
  });
}

/** Edits not saved yet, and the changes they make (only the names whose value differs). */
function useDrafts() {
  const [drafts, setDrafts] = useState<Drafts>({});
  return {
    drafts,
    edit: (name: string, value: Draft) => setDrafts((d) => ({ ...d, [name]: value })),
    forget: (names: string[]) =>
      setDrafts((d) => Object.fromEntries(Object.entries(d).filter(([name]) => !names.includes(name)))),
    changes(settings: SettingOut[]): Changes {
      const changes: Changes = {};
      for (const setting of settings) {
        const draft = drafts[setting.name];
        if (setting.editable && draft !== undefined && draft !== shown(setting)) {
          changes[setting.name] = parse(setting, draft);
        }
      }
      return changes;
    },
  };
}

function Models({ all, roles }: { all: SettingOut[]; roles: Role[] }) {
  const { drafts, edit, forget, changes } = useDrafts();
  const [saved, setSaved] = useState(false);
  const change = useChange((sent) => {
    forget(Object.keys(sent));
    setSaved(true);
  });
  const check = useMutation({
    mutationFn: async (models: Record<string, string[]>) =>
      (await validate({ body: { models }, throwOnError: true })).data,
  });
  const settings = roles.flatMap((r) => [r.model, r.fallbacks]);
  const pending = changes(settings);
  const dirty = Object.keys(pending).length > 0;

  function save(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    if (dirty) change.mutate(pending);
  }

  return (
    <section aria-labelledby="models-title">
      <h2 id="models-title">Models</h2>
      <p className="muted">
        Each agent’s model as <code>provider:model</code>, then its fallbacks in order (comma
        separated), tried when a model fails.
      </p>
      <form className="stack" onSubmit={save}>
        {roles.map(({ role, model, fallbacks }) => (
          <fieldset key={role} className="card">
            <legend>{capitalise(role)}</legend>
            {[model, fallbacks].map((setting) => (
              <Field
                key={setting.name}
                setting={setting}
                draft={drafts[setting.name]}
                onDraft={(value) => edit(setting.name, value)}
                onReset={() => change.mutate({ [setting.name]: null })}
                busy={change.isPending}
              />
            ))}
          </fieldset>
        ))}
        <div className="actions">
          <button type="submit" disabled={!dirty || change.isPending}>
            Save models
          </button>
          <button
            type="button"
            className="quiet"
            disabled={check.isPending}
            onClick={() => check.mutate(chains(all, drafts))}
          >
            Check these models
          </button>
        </div>
      </form>
      {saved && !dirty && !change.isPending && <p role="status" className="muted">Saved.</p>}
      {change.error && <p role="alert" className="error">{errorMessage(change.error)}</p>}
      {check.error && <p role="alert" className="error">{errorMessage(check.error)}</p>}
      {check.data && (
        <>
          <p role="status" className={check.data.ok ? 'ok' : 'error'}>
            {check.data.ok
              ? 'Every model of these chains answers (not saved yet unless you save).'
              : 'Some models of these chains cannot be used:'}
          </p>
          <ModelChecks checks={check.data.models} />
        </>
      )}
    </section>
  );
}

/** Each role's chain as the server runs it: its model, then its fallbacks; a background role
 * with no model of its own takes the Preprocessor's model (and its fallbacks unless it has some). */
function chains(all: SettingOut[], drafts: Drafts = {}): Record<string, string[]> {
  const value = (name: string): unknown => {
    const setting = all.find((s) => s.name === name);
    if (!setting) return undefined;
    const draft = drafts[name];
    return draft !== undefined && setting.editable ? parse(setting, draft) : setting.value;
  };
  const list = (name: string): string[] => {
    const found = value(name);
    return Array.isArray(found) ? found.map(String) : [];
  };
  const found: Record<string, string[]> = {};
  for (const setting of all) {
    const role = /^(.+)_model$/.exec(setting.name)?.[1];
    if (!role || !all.some((s) => s.name === `${role}_fallbacks`)) continue;
    const model = value(setting.name);
    const own = list(`${role}_fallbacks`);
    const head = typeof model === 'string' && model ? model : value('preprocessor_model');
    if (typeof head !== 'string' || !head) continue;
    found[role] = [head, ...(model || own.length > 0 ? own : list('preprocessor_fallbacks'))];
  }
  return found;
}

function ProviderHealth({ all }: { all: SettingOut[] }) {
  const providers = useQuery({
    queryKey: ['providers'],
    queryFn: async () => (await listProviders({ throwOnError: true })).data,
  });
  const check = useMutation({
    mutationFn: async () => (await validate({ body: { models: chains(all) }, throwOnError: true })).data,
  });
  const checks = check.data?.models ?? providers.data?.models;
  return (
    <section aria-labelledby="providers-title">
      <h2 id="providers-title">Provider health</h2>
      {providers.isPending && <p className="muted">Checking the providers…</p>}
      {providers.error && <p role="alert" className="error">{errorMessage(providers.error)}</p>}
      <div className="actions">
        <button type="button" disabled={check.isPending} onClick={() => check.mutate()}>
          {check.isPending ? 'Checking…' : 'Check now'}
        </button>
      </div>
      {check.error && <p role="alert" className="error">{errorMessage(check.error)}</p>}
      {check.data && (
        <p role="status" className={check.data.ok ? 'ok' : 'error'}>
          {check.data.ok ? 'Checked just now: every model answers.' : 'Checked just now: some models cannot be used.'}
        </p>
      )}
      {checks && (
        <>
          <h3>Models in use</h3>
          <ModelChecks checks={checks} />
        </>
      )}
      {providers.data && (
        <>
          <h3>Providers</h3>
          <ul className="cards">
            {providers.data.providers.map((p) => (
              <li key={p.provider} className="card">
                <strong>{p.provider}</strong>
                <span className={p.configured ? 'ok' : 'muted'}>
                  {p.configured ? 'Configured' : 'Not configured'}: {p.detail}
                </span>
                {p.base_url && <span className="muted wrap">{p.base_url}</span>}
                {p.models_in_use.length > 0 && (
                  <span className="muted wrap">In use: {p.models_in_use.join(', ')}</span>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function ModelChecks({ checks }: { checks: ModelCheckOut[] }) {
  if (checks.length === 0) return <p className="muted">No models to check.</p>;
  return (
    <ul className="cards">
      {checks.map((c) => (
        <li key={c.model} className="card">
          <strong className="wrap">{c.model}</strong>
          {c.agents && c.agents.length > 0 && <span className="muted">Used by {c.agents.join(', ')}</span>}
          <span className={c.ok ? 'ok' : 'error'}>
            {c.ok ? 'Healthy' : 'Not usable'}: {c.detail}
          </span>
        </li>
      ))}
    </ul>
  );
}

function ImageWorkers({ all }: { all: SettingOut[] }) {
  const workers = useQuery({
    queryKey: ['image-workers'],
    queryFn: async () => (await listWorkers({ throwOnError: true })).data,
  });
  const enabled = all.find((s) => s.name === 'images_enabled')?.value;
  return (
    <section aria-labelledby="workers-title">
      <h2 id="workers-title">Image workers</h2>
      {enabled === false && (
        <p className="muted">Images are turned off (Images enabled, under Image options).</p>
      )}
      {workers.isPending && <p className="muted">Loading the image workers…</p>}
      {workers.error && <p role="alert" className="error">{errorMessage(workers.error)}</p>}
      {workers.data?.length === 0 && (
        <p className="muted">
          No image workers are configured (LUNA_IMAGE_WORKERS): the placeholder renderer draws
          labelled placeholder pictures instead.
        </p>
      )}
      {workers.data && workers.data.length > 0 && (
        <ul className="cards">
          {workers.data.map((w) => (
            <Worker key={w.name} worker={w} />
          ))}
        </ul>
      )}
    </section>
  );
}

function Worker({ worker: w }: { worker: ImageWorkerOut }) {
  return (
    <li className="card">
      <strong>{w.name}</strong>
      <span className="muted wrap">
        {w.api_type} · {w.api_url}
      </span>
      <span className={w.online ? 'ok' : 'error'}>
        {w.online ? 'Online' : 'Offline'}
        {!w.configured && ' · no longer configured'}
      </span>
      <span>
        Load: {w.in_flight} of {w.max_concurrent} · priority {w.priority}
      </span>
      <span>
        {w.images_done} done, {w.images_failed} failed
        {w.average_seconds !== null && `, ${w.average_seconds.toFixed(1)} s per image`}
      </span>
      {w.last_heartbeat_at && <span className="muted">Last seen {when(w.last_heartbeat_at)}</span>}
      {w.last_error && <span className="error wrap">Last error: {w.last_error}</span>}
    </li>
  );
}

/** A section of plain settings, saved together (only the changed ones are sent). */
function SettingsForm({
  id,
  title,
  hint,
  settings,
}: {
  id: string;
  title: string;
  hint: string;
  settings: SettingOut[];
}) {
  const { drafts, edit, forget, changes } = useDrafts();
  const [saved, setSaved] = useState(false);
  const change = useChange((sent) => {
    forget(Object.keys(sent));
    setSaved(true);
  });
  const pending = changes(settings);
  const dirty = Object.keys(pending).length > 0;

  function save(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    if (dirty) change.mutate(pending);
  }

  if (settings.length === 0) return null;
  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <p className="muted">{hint}</p>
      <form className="stack" onSubmit={save}>
        <ul className="cards">
          {settings.map((setting) => (
            <li key={setting.name} className="card">
              <Field
                setting={setting}
                draft={drafts[setting.name]}
                onDraft={(value) => edit(setting.name, value)}
                onReset={() => change.mutate({ [setting.name]: null })}
                busy={change.isPending}
              />
            </li>
          ))}
        </ul>
        {settings.some((s) => s.editable) && (
          <div className="actions">
            <button type="submit" disabled={!dirty || change.isPending}>
              Save {title.replace(/^\w/, (c) => c.toLowerCase())}
            </button>
          </div>
        )}
      </form>
      {saved && !dirty && !change.isPending && <p role="status" className="muted">Saved.</p>}
      {change.error && <p role="alert" className="error">{errorMessage(change.error)}</p>}
    </section>
  );
}

/** One setting: its input (read-only when it cannot change here), what it does, where its
 * value comes from, and "reset to default" for a stored value. */
function Field({
  setting,
  draft,
  onDraft,
  onReset,
  busy,
}: {
  setting: SettingOut;
  draft: Draft | undefined;
  onDraft: (value: Draft) => void;
  onReset: () => void;
  busy: boolean;
}) {
  const id = `setting-${setting.name}`;
  const about = `${id}-about`;
  const label = capitalise(setting.name.replace(/_/g, ' '));
  const kind = kindOf(setting);
  const fixed = !setting.editable;
  const value = draft ?? shown(setting);
  const common = { id, 'aria-describedby': about, readOnly: fixed };

  let input;
  if (kind === 'boolean') {
    input = (
      <input
        {...common}
        type="checkbox"
        checked={value === true}
        disabled={fixed}
        onChange={(e) => onDraft(e.target.checked)}
      />
    );
  } else if (kind === 'number') {
    const bounds = valueShape(setting);
    input = (
      <input
        {...common}
        type="number"
        inputMode="decimal"
        min={bounds.min}
        max={bounds.max}
        step={bounds.types.has('integer') ? 1 : 'any'}
        required={!fixed}
        value={String(value)}
        onChange={(e) => onDraft(e.target.value)}
      />
    );
  } else if (kind === 'long') {
    input = <textarea {...common} rows={3} value={String(value)} onChange={(e) => onDraft(e.target.value)} />;
  } else {
    input = (
      <input
        {...common}
        type="text"
        spellCheck={false}
        autoCapitalize="off"
        placeholder={placeholder(setting)}
        value={String(value)}
        onChange={(e) => onDraft(e.target.value)}
      />
    );
  }

  return (
    <div className="setting">
      {kind === 'boolean' ? (
        <label className="check" htmlFor={id}>
          {input}
          {label}
        </label>
      ) : (
        <>
          <label htmlFor={id}>{label}</label>
          {input}
        </>
      )}
      <p id={about} className="muted">
        {setting.description && <>{setting.description} </>}
        <span className="source">{origin(setting)}</span>
      </p>
      {setting.source === 'stored' && setting.editable && (
        <button type="button" className="quiet" disabled={busy} onClick={onReset}>
          Reset to default<span className="visually-hidden"> ({label})</span>
        </button>
      )}
    </div>
  );
}

/** Where the value comes from, and why it cannot change here when it cannot. */
function origin(s: SettingOut): string {
  const where: Record<SettingOut['source'], string> = {
    environment: `Set by ${s.variable} in the environment`,
    '.env file': `Set by ${s.variable} in the .env file`,
    'command line': 'Set on the command line',
    stored: `Stored on the server${s.updated_at ? ` (changed ${when(s.updated_at)})` : ''}`,
    default: 'The default',
  };
  let text = `Source: ${where[s.source]}.`;
  if (s.locked) {
    text += ' Read-only here: the environment wins; change or unset it there and restart.';
    if (s.shadowed !== null && s.shadowed !== undefined) {
      text += ` A stored value (${format(s.shadowed) || 'empty'}) is overridden.`;
    }
  } else if (!s.editable) {
    text += ` Read-only here: read at start-up; set ${s.variable} in the environment or .env and restart.`;
  }
  return text;
}

type Kind = 'boolean' | 'number' | 'list' | 'long' | 'text';

function kindOf(s: SettingOut): Kind {
  const { types } = valueShape(s);
  if (types.has('boolean') || typeof s.value === 'boolean') return 'boolean';
  if (types.has('integer') || types.has('number') || typeof s.value === 'number') return 'number';
  if (types.has('array') || Array.isArray(s.value)) return 'list';
  if (s.name.endsWith('_prompt')) return 'long';
  return 'text';
}

/** The value as its input holds it. */
function shown(s: SettingOut): Draft {
  return kindOf(s) === 'boolean' ? s.value === true : format(s.value);
}

function format(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The input's text as the value PUT /settings takes. */
function parse(s: SettingOut, draft: Draft): unknown {
  if (typeof draft === 'boolean') return draft;
  const kind = kindOf(s);
  if (kind === 'number') return draft.trim() === '' ? null : Number(draft);
  if (kind === 'list') return draft.split(',').map((v) => v.trim()).filter(Boolean);
  if (valueShape(s).nullable) return draft.trim() === '' ? null : draft.trim();
  return draft;
}

function placeholder(s: SettingOut): string | undefined {
  if (/^(summariser|extractor|dreamer)_model$/.test(s.name)) return "empty: the Preprocessor's model";
  if (s.name.endsWith('_fallbacks')) return 'none, e.g. ollama:llama3.1, local:smollm2';
  return s.value === null ? 'not set' : undefined;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** What a setting's JSON Schema (`value_schema`) says of its value: its types, whether it may be
 * null, and a number's bounds (a nullable value's schema is `anyOf` with `{type: 'null'}`). */
interface ValueShape {
  types: Set<string>;
  nullable: boolean;
  min?: number;
  max?: number;
}

type Schema = {
  type?: string;
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
};

export function valueShape(setting: SettingOut): ValueShape {
  const schema = (setting.value_schema ?? {}) as Schema;
  const branches = schema.anyOf ?? [schema];
  const types = new Set(branches.map((b) => b.type).filter((t): t is string => Boolean(t)));
  const shape: ValueShape = { types, nullable: types.has('null') };
  for (const b of branches) {
    shape.min ??= b.minimum ?? b.exclusiveMinimum;
    shape.max ??= b.maximum ?? b.exclusiveMaximum;
  }
  return shape;
}
