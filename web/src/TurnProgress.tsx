/** The turn as it streams: which agent is working (with each one's seconds), the Writer's text
 * so far, the cost, or the error. */
import type { TurnView } from './turnView';

const LABELS: Record<string, string> = {
  preprocessor: 'Preprocessor',
  strategist: 'Strategist',
  writer: 'Writer',
};

export function TurnProgress({ view }: { view: TurnView }) {
  return (
    <div className="turn-progress">
      <ol className="agents" aria-label="Agents at work">
        {view.agents.map((agent) => (
          <li key={agent.name} className={`agent ${agent.status}`}>
            <span>{LABELS[agent.name] ?? agent.name}</span>
            <span className="muted">
              {agent.status === 'done' && agent.seconds !== null
                ? `${agent.seconds.toFixed(1)} s`
                : agent.status === 'working'
                  ? 'working…'
                  : 'waiting'}
            </span>
          </li>
        ))}
      </ol>
      <p className="muted" aria-live="polite">
        {view.costUsd !== null
          ? `Turn ${view.turnNumber} stored · cost $${view.costUsd}`
          : (view.status ?? (view.estimatedCostUsd ? `Estimated cost $${view.estimatedCostUsd}` : ''))}
      </p>
      {!view.finished && view.text && <p className="passage streaming">{view.text}</p>}
      {view.error && <p role="alert" className="error">{view.error}</p>}
    </div>
  );
}
