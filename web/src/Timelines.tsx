/** The story's timelines: the branch tree drawn as a tree (each branch under the one it forks
 * from, at the turn it forks), with switching, renaming and deleting. New branches start from a
 * passage's "Branch from here". */
import {
  branchTree,
  deleteBranch,
  switchBranch,
  updateBranch,
  type BranchNode,
} from '@luna-narrates/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

import { Confirm } from './Confirm';
import { errorMessage } from './errors';

export function Timelines({ storyId, onSwitched }: { storyId: string; onSwitched: () => void }) {
  const tree = useQuery({
    queryKey: ['tree', storyId],
    queryFn: async () => (await branchTree({ path: { story_id: storyId }, throwOnError: true })).data,
  });
  return (
    <section aria-labelledby="timelines-title" className="timelines">
      <h2 id="timelines-title">Timelines</h2>
      <p className="muted">
        Every branch shares the turns before its fork. To start one, use “Branch from here” on a passage.
      </p>
      {tree.error && <p role="alert" className="error">{errorMessage(tree.error)}</p>}
      {tree.data && (
        <>
          <p className="muted">{tree.data.branch_count} branch(es).</p>
          <ul className="tree" role="tree" aria-label="Branches">
            <Branch storyId={storyId} node={tree.data.root} onSwitched={onSwitched} />
          </ul>
        </>
      )}
    </section>
  );
}

function Branch({ storyId, node, onSwitched }: { storyId: string; node: BranchNode; onSwitched: () => void }) {
  const queryClient = useQueryClient();
  const [tool, setTool] = useState<'rename' | 'delete' | null>(null);
  const changed = () => {
    void queryClient.invalidateQueries({ queryKey: ['tree', storyId] });
    void queryClient.invalidateQueries({ queryKey: ['turns', storyId] });
  };
  const switching = useMutation({
    mutationFn: async () =>
      (await switchBranch({ path: { story_id: storyId }, body: { branch_id: node.id }, throwOnError: true })).data,
    onSuccess: () => {
      changed();
      onSwitched();
    },
  });

  return (
    <li role="treeitem" aria-expanded={node.children.length > 0 ? true : undefined} aria-current={node.is_active}>
      <div className={`branch${node.is_active ? ' active' : ''}`}>
        <strong>{node.name}</strong>
        <span className="muted">
          {node.fork_turn_number !== null ? `from turn ${node.fork_turn_number} · ` : ''}
          {node.own_turns} own turn(s), {node.turn_count} in all
          {node.is_active && ' · playing now'}
        </span>
        {node.description && <span className="muted">{node.description}</span>}
        <div className="row">
          {!node.is_active && (
            <button type="button" disabled={switching.isPending} onClick={() => switching.mutate()}>
              Play this branch
            </button>
          )}
          <button type="button" className="quiet" onClick={() => setTool(tool === 'rename' ? null : 'rename')}>
            Rename
          </button>
          {!node.is_main && !node.is_active && (
            <button type="button" className="quiet" onClick={() => setTool(tool === 'delete' ? null : 'delete')}>
              Delete
            </button>
          )}
        </div>
        {switching.error && <p role="alert" className="error">{errorMessage(switching.error)}</p>}
        {tool === 'rename' && (
          <Rename
            node={node}
            save={async (name) => {
              await updateBranch({
                path: { story_id: storyId, branch_id: node.id },
                body: { name },
                throwOnError: true,
              });
              setTool(null);
              changed();
            }}
          />
        )}
        {tool === 'delete' && (
          <Confirm
            question={
              node.children.length > 0
                ? `Delete “${node.name}”, its ${node.own_turns} turn(s), and the ${node.child_count} branch(es) growing from it?`
                : `Delete “${node.name}” and its ${node.own_turns} turn(s)?`
            }
            yes={`Delete “${node.name}”`}
            act={async () => {
              await deleteBranch({
                path: { story_id: storyId, branch_id: node.id },
                query: { cascade: node.children.length > 0 },
                throwOnError: true,
              });
              setTool(null);
              changed();
            }}
            cancel={() => setTool(null)}
          />
        )}
      </div>
      {node.children.length > 0 && (
        <ul role="group">
          {node.children.map((child) => (
            <Branch key={child.id} storyId={storyId} node={child} onSwitched={onSwitched} />
          ))}
        </ul>
      )}
    </li>
  );
}

function Rename({ node, save }: { node: BranchNode; save: (name: string) => Promise<void> }) {
  const [name, setName] = useState(node.name);
  const saving = useMutation({ mutationFn: save });
  function submit(event: FormEvent) {
    event.preventDefault();
    saving.mutate(name.trim());
  }
  return (
    <form className="row" onSubmit={submit}>
      <label>
        New name
        <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
      </label>
      <button type="submit" disabled={saving.isPending}>
        Save the name
      </button>
      {saving.error && <p role="alert" className="error">{errorMessage(saving.error)}</p>}
    </form>
  );
}
