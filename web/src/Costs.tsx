/** What the stories cost: by month, by agent, the month's projection, and for one story its
 * totals and each turn's cost and tokens. Every chart has its figures beside it as text. Local
 * and test models cost nothing, so a chart of their turns shows the tokens too. */
import {
  agentCosts,
  listStories,
  monthlyCostSummaries,
  projection,
  storyCosts,
  turnCosts,
  type AgentSpend,
  type PeriodSpend,
} from '@luna-narrates/sdk';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from 'recharts';

import { errorMessage } from './errors';

const HEIGHT = 240;

export function Costs({ storyId }: { storyId?: string }) {
  return (
    <article className="costs">
      <h1>Costs</h1>
      <StoryCostsSection storyId={storyId} />
      <Monthly />
      <Agents />
      <MonthProjection />
    </article>
  );
}

/** "$0.0012"; the API's figures are decimal strings, kept as they are. */
export function dollars(value: string | null | undefined): string {
  return value == null ? 'unknown' : `$${value}`;
}

const isZero = (value: string) => Number(value) === 0;

/** The width of the element (for the charts: as wide as their column, a phone's included),
 * measured when it appears and whenever it changes size. */
function useWidth<T extends HTMLElement>() {
  const [element, ref] = useState<T | null>(null);
  const [width, setWidth] = useState(640);
  useEffect(() => {
    if (!element) return;
    const measure = () => setWidth(Math.max(240, Math.floor(element.getBoundingClientRect().width) || 640));
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [element]);
  return { ref, width };
}

function Unpriced({ calls }: { calls: number }) {
  if (calls === 0) return null;
  return (
    <p className="muted">
      {calls} model call(s) have no known price and count as $0: set one under Settings or with PUT /pricing.
    </p>
  );
}

function StoryCostsSection({ storyId }: { storyId?: string }) {
  const stories = useQuery({
    queryKey: ['stories'],
    queryFn: async () => (await listStories({ query: { limit: 100 }, throwOnError: true })).data,
  });
  return (
    <section aria-labelledby="story-costs-title">
      <h2 id="story-costs-title">A story</h2>
      {stories.error && <p role="alert" className="error">{errorMessage(stories.error)}</p>}
      <label>
        Story
        <select
          value={storyId ?? ''}
          onChange={(e) => {
            window.location.hash = e.target.value ? `#/costs/${e.target.value}` : '#/costs';
          }}
        >
          <option value="">Choose a story…</option>
          {stories.data?.items.map((story) => (
            <option key={story.id} value={story.id}>
              {story.title}
            </option>
          ))}
        </select>
      </label>
      {storyId && <OneStory storyId={storyId} />}
    </section>
  );
}

function OneStory({ storyId }: { storyId: string }) {
  const totals = useQuery({
    queryKey: ['costs', 'story', storyId],
    queryFn: async () => (await storyCosts({ path: { story_id: storyId }, throwOnError: true })).data,
  });
  const turns = useQuery({
    queryKey: ['costs', 'turns', storyId],
    queryFn: async () =>
      (await turnCosts({ path: { story_id: storyId }, query: { limit: 200 }, throwOnError: true })).data,
  });
  const { ref, width } = useWidth<HTMLElement>();
  const error = totals.error ?? turns.error;
  // The takes the story shows (a turn's other takes cost too, and count in the totals), in
  // story order (the route lists the latest first).
  const shown = (turns.data?.items ?? [])
    .filter((turn) => turn.is_selected)
    .sort((a, b) => a.turn_number - b.turn_number);
  const data = shown.map((turn) => ({
    turn: turn.turn_number,
    cost: Number(turn.cost_usd),
    tokens: turn.input_tokens + turn.output_tokens,
  }));
  const free = shown.every((turn) => isZero(turn.cost_usd));
  return (
    <>
      {error && <p role="alert" className="error">{errorMessage(error)}</p>}
      {totals.data && (
        <p>
          {dollars(totals.data.cost_usd)} for {totals.data.turns} turn(s) ({dollars(totals.data.avg_turn_cost_usd)} a
          turn on average), {totals.data.calls} model calls, {totals.data.input_tokens} tokens in and{' '}
          {totals.data.output_tokens} out.
        </p>
      )}
      {totals.data && <Unpriced calls={totals.data.unpriced_calls} />}
      {turns.data && shown.length === 0 && <p className="muted">No turns yet: nothing has been spent on this story.</p>}
      {shown.length > 0 && (
        <figure aria-label="Cost per turn" ref={ref}>
          <BarChart width={width} height={HEIGHT} data={data} margin={{ top: 8, right: 8, bottom: 8, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis dataKey="turn" stroke="var(--muted)" />
            <YAxis yAxisId="cost" stroke="var(--muted)" width={64} />
            <YAxis yAxisId="tokens" orientation="right" stroke="var(--muted)" width={56} />
            <Tooltip contentStyle={{ background: 'var(--surface)', border: '1px solid var(--border)' }} />
            <Legend />
            <Bar yAxisId="cost" dataKey="cost" name="Cost ($)" fill="var(--accent)" minPointSize={free ? 0 : 2} />
            <Bar yAxisId="tokens" dataKey="tokens" name="Tokens" fill="var(--done)" />
          </BarChart>
          <figcaption className="muted">
            Each turn's cost (the take in the story) and its tokens.
            {free && ' Every turn cost $0: local and test models cost nothing.'}
          </figcaption>
        </figure>
      )}
      {totals.data && totals.data.by_agent.length > 0 && (
        <AgentTable rows={totals.data.by_agent} caption="This story by agent" />
      )}
    </>
  );
}

function Monthly() {
  const months = useQuery({
    queryKey: ['costs', 'monthly'],
    queryFn: async () => (await monthlyCostSummaries({ query: { months: 12 }, throwOnError: true })).data,
  });
  const { ref, width } = useWidth<HTMLElement>();
  const rows = months.data ?? [];
  return (
    <section aria-labelledby="monthly-title">
      <h2 id="monthly-title">By month</h2>
      {months.error && <p role="alert" className="error">{errorMessage(months.error)}</p>}
      {months.data && rows.length === 0 && <p className="muted">Nothing spent yet: no turn has been played.</p>}
      {rows.length > 0 && (
        <>
          <figure aria-label="Cost per month" ref={ref}>
            <BarChart
              width={width}
              height={HEIGHT}
              data={rows.map((row) => ({ month: month(row.period), cost: Number(row.cost_usd) }))}
              margin={{ top: 8, right: 8, bottom: 8, left: 8 }}
            >
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
              <XAxis dataKey="month" stroke="var(--muted)" />
              <YAxis stroke="var(--muted)" width={64} />
              <Tooltip contentStyle={{ background: 'var(--surface)', border: '1px solid var(--border)' }} />
              <Bar dataKey="cost" name="Cost ($)" fill="var(--accent)" />
            </BarChart>
            <figcaption className="muted">What every story cost each month.</figcaption>
          </figure>
          <PeriodTable rows={rows} />
          <Unpriced calls={rows.reduce((sum, row) => sum + row.unpriced_calls, 0)} />
        </>
      )}
    </section>
  );
}

function PeriodTable({ rows }: { rows: PeriodSpend[] }) {
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">Cost per month</caption>
        <thead>
          <tr>
            <th scope="col">Month</th>
            <th scope="col">Cost</th>
            <th scope="col">Turns</th>
            <th scope="col">Tokens in / out</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.period}>
              <th scope="row">{month(row.period)}</th>
              <td>{dollars(row.cost_usd)}</td>
              <td>{row.turns}</td>
              <td>
                {row.input_tokens} / {row.output_tokens}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Agents() {
  const agents = useQuery({
    queryKey: ['costs', 'agents'],
    queryFn: async () => (await agentCosts({ throwOnError: true })).data,
  });
  return (
    <section aria-labelledby="agents-title">
      <h2 id="agents-title">By agent</h2>
      {agents.error && <p role="alert" className="error">{errorMessage(agents.error)}</p>}
      {agents.data && agents.data.length === 0 && <p className="muted">No agent has run yet.</p>}
      {agents.data && agents.data.length > 0 && <AgentTable rows={agents.data} caption="Every story by agent" />}
    </section>
  );
}

function AgentTable({ rows, caption }: { rows: AgentSpend[]; caption: string }) {
  return (
    <div className="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Model</th>
            <th scope="col">Cost</th>
            <th scope="col">Calls</th>
            <th scope="col">Tokens in / out</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={`${row.agent} ${row.provider}:${row.model}`}>
              <th scope="row">{row.agent}</th>
              <td>
                {row.provider}:{row.model}
              </td>
              <td>
                {dollars(row.cost_usd)}
                {row.unpriced_calls > 0 && ' (price unknown)'}
              </td>
              <td>{row.calls}</td>
              <td>
                {row.input_tokens} / {row.output_tokens}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function MonthProjection() {
  const [turnsPerMonth, setTurnsPerMonth] = useState(1000);
  const projected = useQuery({
    queryKey: ['costs', 'projection', turnsPerMonth],
    queryFn: async () =>
      (await projection({ query: { turns_per_month: turnsPerMonth }, throwOnError: true })).data,
  });
  const p = projected.data;
  return (
    <section aria-labelledby="projection-title">
      <h2 id="projection-title">A month ahead</h2>
      <label>
        Turns a month
        <input
          type="number"
          min={1}
          max={10000000}
          value={turnsPerMonth}
          onChange={(e) => {
            const n = Number(e.target.value);
            if (Number.isInteger(n) && n >= 1) setTurnsPerMonth(n);
          }}
        />
      </label>
      {projected.error && <p role="alert" className="error">{errorMessage(projected.error)}</p>}
      {p && (
        <>
          <p>
            <strong>{dollars(p.projected_monthly_usd)}</strong> a month for {p.turns_per_month} turns at{' '}
            {dollars(p.avg_turn_cost_usd)} a turn, measured on your last {p.sample_turns} turn(s) (about{' '}
            {Math.round(p.avg_input_tokens)} tokens in and {Math.round(p.avg_output_tokens)} out a turn).
          </p>
          <p className="muted">
            With every agent on {p.compare_model}:{' '}
            {p.compare_monthly_usd === null ? 'its price is unknown' : `${dollars(p.compare_monthly_usd)} a month`}
            {p.saving_usd !== null && `; your mix saves ${dollars(p.saving_usd)}`}.
          </p>
        </>
      )}
    </section>
  );
}

function month(period: string): string {
  return new Date(`${period.slice(0, 10)}T00:00:00Z`).toLocaleDateString(undefined, {
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  });
}
