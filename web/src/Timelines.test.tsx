// The timelines against a fake of the server's branch routes (answered as the server answers
// them): the tree drawn with each branch under its parent, switching, renaming, deleting, and a
// refused deletion explained.
import { fireEvent, screen, within } from '@testing-library/react';
import { beforeEach, expect, it, vi } from 'vitest';

import { Timelines } from './Timelines';
import { fakeServer, json, renderWithQueries } from './testing';

const STORY_ID = '0b6c1f8e-8a55-4d1e-9a39-2f1f3c1d2e01';
const sent: { method: string; path: string; query: string; body?: unknown }[] = [];
let active = 'main';
let names: Record<string, string>;
let refuseDelete = false;


function node(id: string, parent: string | null, fork: number | null, own: number, children: object[] = []) {
  return {
    id, name: names[id], description: null, is_main: id === 'main', is_active: id === active,
    parent_branch_id: parent, fork_turn_number: fork, own_turns: own, turn_count: (fork ?? 0) + own,
    depth: parent ? 1 : 0, path: [names[id]], child_count: children.length, children,
    created_at: '2026-11-23T21:00:00Z', updated_at: '2026-11-23T21:00:00Z',
  };
}

function tree() {
  return {
    active_branch_id: active,
    branch_count: 3,
    root: node('main', null, null, 5, [node('bell', 'main', 2, 3), node('boat', 'main', 4, 1)]),
  };
}

async function server(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const body = ['POST', 'PATCH'].includes(request.method) ? JSON.parse(await request.text()) : undefined;
  sent.push({ method: request.method, path: url.pathname, query: url.search, body });
  const base = `/stories/${STORY_ID}/branches`;
  if (url.pathname === `${base}/tree`) return json(tree());
  if (url.pathname === `${base}/switch`) {
    active = body.branch_id;
    return json(node(active, 'main', 2, 3));
  }
  const id = url.pathname.slice(base.length + 1);
  if (request.method === 'PATCH') {
    names[id] = body.name;
    return json(node(id, 'main', 2, 3));
  }
  if (request.method === 'DELETE') {
    if (refuseDelete) {
      return json({ error: 'conflict', message: 'Branch “The boat” is the active branch: switch first.' }, 409);
    }
    return json({ deleted_branches: [{ id, name: names[id] }], deleted_turns: 1 });
  }
  return json({ error: 'not_found', message: 'No such route.' }, 404);
}

fakeServer(server);

beforeEach(() => {
  active = 'main';
  names = { main: 'Main', bell: 'The bell', boat: 'The boat' };
  refuseDelete = false;
  sent.length = 0;
});


function renderTimelines(onSwitched = () => {}) {
  renderWithQueries(<Timelines storyId={STORY_ID} onSwitched={onSwitched} />);
}

function item(name: string): HTMLElement {
  return screen.getAllByRole('treeitem').find((li) => li.querySelector('strong')?.textContent === name)!;
}

it('draws the branches under the one they fork from, and switches', async () => {
  const onSwitched = vi.fn();
  renderTimelines(onSwitched);
  expect(await screen.findByText('The bell')).toBeTruthy();
  const main = item('Main');
  const group = within(main).getByRole('group');
  expect(within(group).getAllByRole('treeitem').map((li) => li.querySelector('strong')!.textContent)).toEqual([
    'The bell',
    'The boat',
  ]);
  expect(within(item('The bell')).getByText('from turn 2 · 3 own turn(s), 5 in all')).toBeTruthy();
  expect(within(main).getAllByText(/playing now/)).toHaveLength(1);

  fireEvent.click(within(item('The bell')).getByRole('button', { name: 'Play this branch' }));
  expect(await within(item('The bell')).findByText(/playing now/)).toBeTruthy();
  expect(sent.find((r) => r.path.endsWith('/switch'))?.body).toEqual({ branch_id: 'bell' });
  expect(onSwitched).toHaveBeenCalled();
});

it('renames a branch and deletes another after asking', async () => {
  renderTimelines();
  await screen.findByText('The bell');
  fireEvent.click(within(item('The bell')).getByRole('button', { name: 'Rename' }));
  fireEvent.change(screen.getByLabelText('New name'), { target: { value: 'The bell tolls' } });
  fireEvent.click(within(item('The bell')).getByRole('button', { name: 'Save the name' }));
  expect(await screen.findByText('The bell tolls')).toBeTruthy();
  expect(sent.find((r) => r.method === 'PATCH')).toMatchObject({ path: `/stories/${STORY_ID}/branches/bell`, body: { name: 'The bell tolls' } });

  expect(within(item('Main')).queryAllByRole('button', { name: 'Delete' })).toHaveLength(2); // not Main's own
  fireEvent.click(within(item('The boat')).getByRole('button', { name: 'Delete' }));
  fireEvent.click(screen.getByRole('button', { name: 'Delete “The boat”' }));
  await vi.waitFor(() => expect(sent.some((r) => r.method === 'DELETE')).toBe(true));
  expect(sent.find((r) => r.method === 'DELETE')).toMatchObject({ path: `/stories/${STORY_ID}/branches/boat`, query: '?cascade=false' });
});

it("shows the server's reason when it refuses a deletion", async () => {
  refuseDelete = true;
  renderTimelines();
  await screen.findByText('The boat');
  fireEvent.click(within(item('The boat')).getByRole('button', { name: 'Delete' }));
  fireEvent.click(screen.getByRole('button', { name: 'Delete “The boat”' }));
  expect((await screen.findByRole('alert')).textContent).toBe('Branch “The boat” is the active branch: switch first.');
});
