/**
 * Hooks through which the services report what they do, for the Prometheus metrics: a service
 * calls `observe.webhookAttempt(...)` and every metrics registry in the process (one per app;
 * tests build several) counts it. Services stay free of prom-client and of the app.
 * Calls are synchronous and cheap; with no app listening they do nothing. (Messages and their
 * credits are counted from PostgreSQL at scrape time instead: see src/http/metrics.ts.)
 */
export interface Observer {
  /** One webhook delivery attempt and how it ended: delivered, failed, timeout, refused... */
  webhookAttempt(outcome: string): void;
  /** The SMPP submit window of one bind: messages in flight and the window size. */
  smppWindow(bind: string, inFlight: number, size: number): void;
}

const observers = new Set<Partial<Observer>>();

export function addObserver(observer: Partial<Observer>): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

export const observe: Observer = {
  webhookAttempt(outcome) {
    for (const o of observers) o.webhookAttempt?.(outcome);
  },
  smppWindow(bind, inFlight, size) {
    for (const o of observers) o.smppWindow?.(bind, inFlight, size);
  },
};

/** How many registries are listening (each open app has one). */
export const observerCount = (): number => observers.size;
