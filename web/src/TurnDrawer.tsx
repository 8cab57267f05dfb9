/** "What the AI saw" for one turn: the Preprocessor's briefing (the scene, and every memory item
 * with where it comes from: a turn, a fact, a lore entry that fired…), the Strategist's plan
 * (its beats in order), and each agent's model, tokens, seconds and cost. */
import { getTurn, type AgentRunDetail } from '@luna-narrates/sdk';
import { useQuery } from '@tanstack/react-query';

import { errorMessage } from './errors';

/** The stored briefing (agents/preprocessor: StrategistBriefing). */
interface Briefing {
  situation?: string;
  player_intent?: string;
  open_threads?: string[];
  memory?: BriefingItem[];
}

interface BriefingItem {
  kind: string;
  text: string;
  source: {
    turn?: number;
    first_turn?: number | null;
    title?: string | null;
    lore_entry_id?: string | null;
    character_id?: string | null;
    dream_id?: string | null;
    fired?: boolean | null;
  };
}

/** The stored plan (agents/strategist: ResponseTemplate). */
interface Plan {
  scene_location?: string;
  characters_present?: string[];
  tone?: string;
  beats?: string[];
  npc_reactions?: { character: string; reaction: string }[];
  consequences?: string[];
}

/** Where a briefing item comes from, as the Strategist's prompt cites it. */
export function citation(item: BriefingItem): string {
  const source = item.source;
  if (source.lore_entry_id) return `lore: ${source.title}`;
  if (source.character_id) return `card: ${source.title}`;
  if (source.dream_id) return `idea: ${source.title}`;
  if (source.first_turn != null) return `turns ${source.first_turn}–${source.turn}`;
  return `turn ${source.turn ?? 0}`;
}

export function TurnDrawer({
  storyId,
  branchId,
  turnNumber,
  onClose,
}: {
  storyId: string;
  branchId: string;
  turnNumber: number;
  onClose: () => void;
}) {
  const turn = useQuery({
    queryKey: ['turn', storyId, branchId, turnNumber],
    queryFn: async () =>
      (
        await getTurn({
          path: { story_id: storyId, turn_number: turnNumber },
          query: { branch_id: branchId },
          throwOnError: true,
        })
      ).data,
  });
  const briefing = (turn.data?.briefing ?? {}) as Briefing;
  const plan = (turn.data?.plan ?? {}) as Plan;
  const lore = (briefing.memory ?? []).filter((item) => item.kind === 'lore');

  return (
    <aside className="drawer" aria-label={`What the AI saw for turn ${turnNumber}`}>
      <header className="drawer-head">
        <h3>What the AI saw · turn {turnNumber}</h3>
        <button type="button" className="quiet" onClick={onClose}>
          Close
        </button>
      </header>
      {turn.isPending && <p className="muted">Loading…</p>}
      {turn.error && <p role="alert" className="error">{errorMessage(turn.error)}</p>}
      {turn.data && (
        <>
          {turn.data.origin !== 'generated' && (
            <p className="muted">
              This take was {turn.data.origin === 'edited' ? 'written by the player' : turn.data.origin}: no agent
              saw it.
            </p>
          )}
          {briefing.situation && (
            <section>
              <h4>The scene (Preprocessor)</h4>
              <p>{briefing.situation}</p>
              {briefing.player_intent && <p className="muted">The player wants: {briefing.player_intent}</p>}
              {(briefing.open_threads ?? []).length > 0 && (
                <ul>
                  {briefing.open_threads!.map((thread) => (
                    <li key={thread}>{thread}</li>
                  ))}
                </ul>
              )}
            </section>
          )}
          {briefing.memory && (
            <section>
              <h4>Memory in the briefing ({briefing.memory.length})</h4>
              {briefing.memory.length === 0 && <p className="muted">Nothing from memory was needed.</p>}
              <ul className="briefing">
                {briefing.memory.map((item, index) => (
                  <li key={index}>
                    <span className="cite">[{citation(item)}]</span> {item.text}
                  </li>
                ))}
              </ul>
            </section>
          )}
          {lore.length > 0 && (
            <section>
              <h4>Lore entries</h4>
              <ul>
                {lore.map((item, index) => (
                  <li key={index}>
                    {item.source.title}:{' '}
                    {item.source.fired ? 'fired on this turn' : item.source.fired === false ? 'carried over or found by meaning' : 'in the briefing'}
                  </li>
                ))}
              </ul>
            </section>
          )}
          {plan.beats && (
            <section>
              <h4>The plan (Strategist)</h4>
              <p className="muted">
                {[plan.scene_location, plan.tone, (plan.characters_present ?? []).join(', ')]
                  .filter(Boolean)
                  .join(' · ')}
              </p>
              <ol>
                {plan.beats.map((beat, index) => (
                  <li key={index}>{beat}</li>
                ))}
              </ol>
              {(plan.npc_reactions ?? []).map((npc) => (
                <p key={npc.character}>
                  <strong>{npc.character}</strong>: {npc.reaction}
                </p>
              ))}
              {(plan.consequences ?? []).length > 0 && (
                <p className="muted">Consequences: {plan.consequences!.join(' ')}</p>
              )}
            </section>
          )}
          {turn.data.agents.length > 0 && (
            <section>
              <h4>The agents</h4>
              <ul className="briefing">
                {turn.data.agents.map((agent: AgentRunDetail) => (
                  <li key={agent.agent}>
                    <strong>{agent.agent}</strong> · {agent.provider}:{agent.model} · {agent.input_tokens} in /{' '}
                    {agent.output_tokens} out{agent.tokens_estimated ? ' (estimated)' : ''} · {agent.seconds.toFixed(1)} s ·{' '}
                    {agent.cost_usd === null ? 'price unknown' : `$${agent.cost_usd}`}
                    {agent.fallbacks.length > 0 && ` · after ${agent.fallbacks.length} failed model(s)`}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </>
      )}
    </aside>
  );
}
