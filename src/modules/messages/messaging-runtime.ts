import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import type { DB } from '../../db/tables.js';
import { SmppTransport } from '../../transports/smpp/smpp-transport.js';
import { SimulatorTransport } from '../../transports/simulator/simulator-transport.js';
import type { DeliveryReport, InboundSms, SmsTransport } from '../../transports/transport.js';
import { applyDeliveryReports } from './delivery-reports.js';
import { carrierKey, createDispatcher, type DispatcherOptions } from './dispatcher.js';
import type { createInboundService } from './inbound.js';

type Log = NonNullable<DispatcherOptions['log']>;

/**
 * Collects delivery reports that arrive one by one (SMPP) and applies them in batches, one
 * transaction each; every report's promise settles when its batch has committed, so the carrier
 * is acknowledged only then (and redelivers if the batch failed).
 */
export function createReportBatcher(db: Kysely<DB>, options: { maxBatch?: number; maxWaitMs?: number; keyOf?: (carrierId: string) => string } = {}) {
  const keyOf = options.keyOf ?? ((id: string) => id);
  const maxBatch = options.maxBatch ?? 500;
  const maxWaitMs = options.maxWaitMs ?? 20;
  let pending: Array<{ report: DeliveryReport; resolve: () => void; reject: (e: unknown) => void }> = [];
  let timer: NodeJS.Timeout | undefined;

  async function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    try {
      await db.transaction().execute((trx) =>
        applyDeliveryReports(
          trx,
          batch.map(({ report }) => ({
            carrierMessageId: keyOf(report.carrierMessageId),
            code: report.code,
            receivedAt: report.receivedAt,
            text: typeof (report.raw as { text?: unknown } | undefined)?.text === 'string' ? (report.raw as { text: string }).text : undefined,
          })),
        ),
      );
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  return {
    add(report: DeliveryReport): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        pending.push({ report, resolve, reject });
        if (pending.length >= maxBatch) void flush();
        else timer ??= setTimeout(() => void flush(), maxWaitMs);
      });
    },
    flush,
  };
}

export function createTransport(config: Config, db: Kysely<DB>, log?: Log): SmsTransport {
  const m = config.messaging;
  if (m.transport === 'smpp') {
    return new SmppTransport({
      host: m.smpp.host,
      port: m.smpp.port,
      systemId: m.smpp.systemId,
      password: m.smpp.password,
      systemType: m.smpp.systemType,
      window: m.smpp.window,
      throughputPerSecond: m.smpp.throughputPerSecond,
      enquireLinkIntervalMs: m.smpp.enquireLinkIntervalMs,
      responseTimeoutMs: m.smpp.responseTimeoutMs,
      log: (level, message, details) => log?.[level === 'info' ? 'info' : level === 'warn' ? 'warn' : 'error']({ ...details }, message),
    });
  }
  return new SimulatorTransport({
    db,
    reportDelayMs: m.simulatorReportDelayMs,
    applyReports: (trx, reports) => applyDeliveryReports(trx, reports),
    log,
  });
}

/**
 * The sending side of a worker process: the transport (simulator or SMPP), the dispatcher, and
 * the handlers for what the carrier sends back (delivery reports, inbound messages).
 */
export function createMessagingRuntime(deps: {
  db: Kysely<DB>;
  config: Config;
  inbound: ReturnType<typeof createInboundService>;
  log?: Log;
  transport?: SmsTransport;
  dispatcher?: Partial<DispatcherOptions>;
}) {
  const transport = deps.transport ?? createTransport(deps.config, deps.db, deps.log);
  const m = deps.config.messaging;
  const dispatcher = createDispatcher({
    db: deps.db,
    transport,
    log: deps.log,
    batchSize: m.dispatchBatchSize,
    concurrency: m.dispatchConcurrency,
    senderRatePerSecond: m.senderRatePerSecond,
    maxAttempts: m.maxSendAttempts,
    leaseMs: m.dispatchLeaseMs,
    ...deps.dispatcher,
  });
  const reports = createReportBatcher(deps.db, { keyOf: (id) => carrierKey(transport, id) });
  let started = false;
  return {
    transport,
    dispatcher,
    async start(): Promise<void> {
      await transport.start({
        onDeliveryReport: (report) => reports.add(report),
        onInbound: async (message: InboundSms) => {
          const stored = await deps.inbound.receive(message);
          if (!stored) deps.log?.warn({ to: message.to }, 'inbound message for a number no account owns; dropped');
        },
      });
      started = true;
      dispatcher.start();
    },
    async stop(): Promise<void> {
      if (!started) return;
      started = false;
      await dispatcher.stop();
      await transport.stop();
      await reports.flush();
    },
  };
}

export type MessagingRuntime = ReturnType<typeof createMessagingRuntime>;
