/**
 * Turns benchmark results into figures (each beside its same-run baseline and the ratio) and
 * renders them as Markdown: bench/results/latest.md and the README's performance section.
 *
 * A scenario may return `figures: Figure[]` itself; for the others an extractor below reads
 * their own result shape; anything else is shown as its numeric fields.
 */
export interface Figure {
  figure: string;
  result: string;
  baseline: string;
  ratio: number | null;
  target: string;
  met: boolean | null;
}

export interface ScenarioResult extends Record<string, unknown> {
  ranAt?: string;
  seconds?: number;
  error?: string;
}

export interface BenchReport {
  ranAt: string;
  machine: { cpus: number; cpuModel: string | undefined; memoryGiB: number; node: string; loadAverage?: number[] };
  results: Record<string, ScenarioResult>;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const fmt = (v: number | undefined, unit = ''): string => (v === undefined ? '–' : `${v.toLocaleString('en-US', { maximumFractionDigits: 2 })}${unit}`);
const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

const extractors: Record<string, (r: ScenarioResult) => Figure[]> = {
  http: (r) => {
    const a = obj(r.authenticated);
    const b = obj(r.baseline);
    const ratio = num(r.throughputRatio) ?? null;
    return [
      {
        figure: 'authenticated `GET /v1/carriers/{id}` vs a bare Fastify route (50 connections, median of alternating rounds)',
        result: `${fmt(num(a.requestsPerSecond))} req/s, p99 ${fmt(num(a.p99Ms), ' ms')}`,
        baseline: `${fmt(num(b.requestsPerSecond))} req/s, p99 ${fmt(num(b.p99Ms), ' ms')}`,
        ratio,
        target: '≥ 0.50',
        met: ratio === null ? null : ratio >= 0.5,
      },
    ];
  },
  webhooks: (r) => {
    const ours = num(r.deliveriesPerSecond);
    const fresh = num(r.bareLoopPerSecond);
    const keepAlive = num(r.bareKeepAlivePerSecond);
    const ratio = (b: number | undefined) => (ours !== undefined && b ? Number((ours / b).toFixed(2)) : null);
    return [
      {
        figure: `signed webhook deliveries (outbox → claim → sign → POST → attempt recorded), ${fmt(num(r.deliveries))} to a receiver verifying each signature, vs a bare client loop with a fresh connection per request (medians of alternating rounds after a warm-up)`,
        result: `${fmt(ours)} deliveries/s`,
        baseline: `${fmt(fresh)} req/s`,
        ratio: ratio(fresh),
        target: '≥ 2,000/s and ≥ 0.50',
        met: ours !== undefined && ours >= 2000 && (ratio(fresh) ?? 0) >= 0.5,
      },
      {
        figure: 'the same deliveries vs a bare client loop over keep-alive connections (as the workers send)',
        result: `${fmt(ours)} deliveries/s`,
        baseline: `${fmt(keepAlive)} req/s`,
        ratio: ratio(keepAlive),
        target: '≥ 0.50',
        met: (ratio(keepAlive) ?? 0) >= 0.5,
      },
    ];
  },
  messaging: (r) => {
    const e2e = obj(r.endToEnd);
    const base = obj(r.baseline);
    const smpp = obj(r.smpp);
    const late = obj(r.scheduledLateness);
    const rate = num(e2e.messagesPerSecond);
    const smppRatio = num(smpp.ratio) ?? null;
    return [
      {
        figure: `end to end, ${fmt(num(e2e.messages))} messages accepted in batches of 1,000 → handed to the simulator → delivery report recorded (an account without webhooks)`,
        result: `${fmt(rate)} msg/s`,
        baseline: `${fmt(num(base.messagesPerSecond))} msg/s (bare insert, mark sent, mark delivered)`,
        ratio: num(r.endToEndVsBaseline) ?? null,
        target: '≥ 5,000 msg/s',
        met: rate === undefined ? null : rate >= 5000,
      },
      ...(r.endToEndWithWebhookEvents
        ? [
            {
              figure: 'the same with a webhook endpoint subscribed to delivery reports (each report also writes its event to the outbox)',
              result: `${fmt(num(obj(r.endToEndWithWebhookEvents).messagesPerSecond))} msg/s`,
              baseline: `${fmt(num(base.messagesPerSecond))} msg/s (the same bare baseline)`,
              ratio: num(base.messagesPerSecond) ? Number(((num(obj(r.endToEndWithWebhookEvents).messagesPerSecond) ?? 0) / num(base.messagesPerSecond)!).toFixed(2)) : null,
              target: '–',
              met: null,
            },
          ]
        : []),
      {
        figure: `SMPP through the dispatcher to a test SMSC in its own process, ${fmt(num(obj(smpp.dispatcher).messages))} messages, window ${fmt(num(obj(smpp.dispatcher).window))} (median of alternating rounds after a warm-up)`,
        result: `${fmt(num(obj(smpp.dispatcher).messagesPerSecond))} msg/s`,
        baseline: `${fmt(num(obj(smpp.raw).messagesPerSecond))} msg/s (raw \`smpp\` client, same window)`,
        ratio: smppRatio,
        target: '≥ 0.70',
        met: smppRatio === null ? null : smppRatio >= 0.7,
      },
      {
        figure: `lateness of ${fmt(num(late.messages))} messages scheduled for the same second`,
        result: `p50 ${fmt(num(late.p50Ms), ' ms')}, p99 ${fmt(num(late.p99Ms), ' ms')}, ${fmt(num(late.early))} early`,
        baseline: '–',
        ratio: null,
        target: 'p99 < 1,000 ms',
        met: num(late.p99Ms) === undefined ? null : num(late.p99Ms)! < 1000 && num(late.early) === 0,
      },
    ];
  },
  audience: (r) => {
    const timed = (key: string, label: string): Figure => {
      const t = obj(r[key]);
      const p99 = num(t.p99Ms);
      return { figure: `${label} at ${fmt(num(r.contacts))} contacts`, result: `p50 ${fmt(num(t.p50Ms), ' ms')}, p99 ${fmt(p99, ' ms')}`, baseline: '–', ratio: null, target: 'p99 < 25 ms', met: p99 === undefined ? null : p99 < 25 };
    };
    const ratio = num(r.importVsBareInsert) ?? null;
    return [
      timed('listPage1', '`GET /v1/contacts?limit=100`, page 1'),
      timed('listPage5000', '`GET /v1/contacts?limit=100`, page 5,000'),
      timed('filterPhoneNumber', '`filter[phone_number]`'),
      timed('filterRewardPoints', '`filter[reward_points]` (1,000 matches)'),
      timed('filterCustomField', '`filter[fields.tier]` (1,000 matches)'),
      {
        figure: `bulk import of ${fmt(num(obj(r.import).rows))} CSV rows (upload, background job, per-row results)`,
        result: `${fmt(num(obj(r.import).rowsPerSecond))} rows/s`,
        baseline: `${fmt(num(obj(r.bareInsert).rowsPerSecond))} rows/s (bare INSERT)`,
        ratio,
        target: '≥ 0.30',
        met: ratio === null ? null : ratio >= 0.3,
      },
    ];
  },
  campaigns: (r) => {
    const ratio = num(r.fanoutVsBareInsert) ?? null;
    return [
      {
        figure: `campaign to ${fmt(num(r.contacts))} contacts: POST → every message queued (fan-out, with a worker dispatching)`,
        result: `${fmt(num(r.fanoutSeconds), ' s')} (POST answered in ${fmt(num(r.postSeconds), ' s')})`,
        baseline: `${fmt(num(r.bareInsertSelectSeconds), ' s')} (bare INSERT … SELECT of the same rows)`,
        ratio,
        target: '≤ 3×',
        met: ratio === null ? null : ratio <= 3,
      },
      {
        figure: '`GET /v1/contacts/{id}` while the campaign is sending',
        result: `p50 ${fmt(num(obj(r.getContactWhileSending).p50Ms), ' ms')}, p99 ${fmt(num(obj(r.getContactWhileSending).p99Ms), ' ms')}`,
        baseline: `p50 ${fmt(num(obj(r.getContactIdleBaseline).p50Ms), ' ms')}, p99 ${fmt(num(obj(r.getContactIdleBaseline).p99Ms), ' ms')} (idle, before the POST)`,
        ratio: null,
        target: 'p99 < 50 ms',
        met: num(obj(r.getContactWhileSending).p99Ms) === undefined ? null : num(obj(r.getContactWhileSending).p99Ms)! < 50,
      },
    ];
  },
};

export function figuresFor(name: string, result: ScenarioResult): Figure[] {
  if (result.error) return [{ figure: name, result: `failed: ${result.error.split('\n')[0]}`, baseline: '–', ratio: null, target: '–', met: false }];
  if (Array.isArray(result.figures)) return result.figures as Figure[];
  const extractor = extractors[name];
  if (extractor) return extractor(result);
  // Unknown shape: its numeric fields, ratios flagged.
  const numbers = Object.entries(result).filter(([k, v]) => num(v) !== undefined && k !== 'seconds');
  const ratios = numbers.filter(([k]) => /ratio/i.test(k));
  return [
    {
      figure: `${name}: ${typeof result.scenario === 'string' ? result.scenario : ''}`.trim(),
      result: numbers.filter(([k]) => !/ratio/i.test(k)).map(([k, v]) => `${k} ${fmt(num(v))}`).join(', '),
      baseline: '–',
      ratio: ratios.length ? (num(ratios[0]![1]) ?? null) : null,
      target: typeof result.target === 'string' ? result.target : '–',
      met: null,
    },
  ];
}

export function figuresTable(report: BenchReport): string {
  const rows = ['| scenario | figure | result | baseline (same run) | ratio | target | met |', '|---|---|---|---|---|---|---|'];
  for (const [name, result] of Object.entries(report.results)) {
    for (const f of figuresFor(name, result)) {
      const met = f.met === null ? '–' : f.met ? 'yes' : '**no**';
      rows.push(`| ${name} | ${f.figure} | ${f.result} | ${f.baseline} | ${f.ratio === null ? '–' : f.ratio.toFixed(2)} | ${f.target} | ${met} |`);
    }
  }
  return rows.join('\n');
}

export function machineLine(report: BenchReport): string {
  const m = report.machine;
  const load = m.loadAverage ? `, load average ${m.loadAverage.map((l) => l.toFixed(1)).join(' / ')} at the start` : '';
  return `${m.cpus} × ${m.cpuModel ?? 'CPU'}, ${m.memoryGiB} GiB, Node ${m.node}${load}`;
}

export function toMarkdown(report: BenchReport): string {
  const lines = ['# Benchmark results', '', `Last run ${report.ranAt} on ${machineLine(report)}.`, '', figuresTable(report), ''];
  for (const [name, value] of Object.entries(report.results)) {
    lines.push(`## ${name}${value.ranAt ? ` (run ${value.ranAt})` : ''}`, '', '```json', JSON.stringify(value, null, 2), '```', '');
  }
  return `${lines.join('\n')}\n`;
}

export const README_BEGIN = '<!-- bench:begin (generated by `npm run bench:readme` from bench/results/latest.json) -->';
export const README_END = '<!-- bench:end -->';

export function readmeSection(report: BenchReport): string {
  return [
    README_BEGIN,
    '',
    figuresTable(report),
    '',
    `Measured ${report.ranAt.slice(0, 10)} on ${machineLine(report)}; the load generator runs on the same machine. ` +
      'Full figures: [bench/results/latest.md](bench/results/latest.md).',
    '',
    README_END,
  ].join('\n');
}

/** Replaces the generated part of the README (between the markers), or fails if they are missing. */
export function replaceReadmeSection(readme: string, report: BenchReport): string {
  const start = readme.indexOf(README_BEGIN.slice(0, 20));
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md has no generated performance section (markers ${README_BEGIN.slice(0, 20)}… ${README_END})`);
  return readme.slice(0, start) + readmeSection(report) + readme.slice(end + README_END.length);
}
