/**
 * Errors raised by the SDK. Every HTTP error answered by the server becomes an instance of one
 * of the classes below, chosen by status, carrying the server's `message`, its field `errors`
 * and the `X-Request-Id` of the request (quote it when asking for support).
 */

/** Field errors as the server sends them: messages keyed by field (`messages.0.phone_number`). */
export type FieldErrors = Record<string, string[]>;

/** Base class of every error the SDK raises. */
export class ShortcodeError extends Error {
  /** The HTTP status, or `undefined` when no response was received. */
  readonly status: number | undefined;
  /** Field errors (`{ phone_number: ['The contact already exists.'] }`); empty when none. */
  readonly errors: FieldErrors;
  /** The `X-Request-Id` of the failed request, when the server answered. */
  readonly requestId: string | undefined;

  constructor(message: string, init: { status?: number | undefined; errors?: FieldErrors; requestId?: string | undefined; cause?: unknown } = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.errors = init.errors ?? {};
    this.requestId = init.requestId;
  }
}

/** The server answered with an error status (4xx or 5xx). Subclasses narrow it by status. */
export class APIError extends ShortcodeError {
  declare readonly status: number;
  /** The response headers (lower-case names). */
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, errors: FieldErrors, requestId: string | undefined, headers: Record<string, string>) {
    super(message, { status, errors, requestId });
    this.headers = headers;
  }
}

/** 400: a malformed request (bad JSON, an unknown filter, sort or include). */
export class BadRequestError extends APIError {}
/** 401: no access token, or an invalid, expired or revoked one. */
export class UnauthorizedError extends APIError {}
/** 402: the account's credit balance cannot cover the send; nothing was sent. */
export class PaymentRequiredError extends APIError {}
/** 403: the token lacks the scope the route needs. */
export class ForbiddenError extends APIError {}
/** 404: no such path, or no such resource in this account. */
export class NotFoundError extends APIError {}
/** 405: the path exists, not with this method. */
export class MethodNotAllowedError extends APIError {}
/** 409: the request conflicts with the resource's current state. */
export class ConflictError extends APIError {}
/** 413: the request body (an import's file) is larger than the server accepts. */
export class PayloadTooLargeError extends APIError {}
/** 415: the request's media type or charset is not accepted (imports take UTF-8 CSV or JSON lines). */
export class UnsupportedMediaTypeError extends APIError {}
/** 422: validation failed; {@link ShortcodeError.errors} names each field and what is wrong with it. */
export class UnprocessableEntityError extends APIError {}

/** 429: rate limited. The SDK retries by itself first (see `maxRetries`). */
export class RateLimitError extends APIError {
  /** Seconds the server asked to wait (`Retry-After`), when it said. */
  readonly retryAfter: number | undefined;

  constructor(status: number, message: string, errors: FieldErrors, requestId: string | undefined, headers: Record<string, string>) {
    super(status, message, errors, requestId, headers);
    const ms = parseRetryAfter(headers['retry-after'], Date.now());
    this.retryAfter = ms === undefined ? undefined : Math.ceil(ms / 1000);
  }
}

/** 5xx: the server failed (500) or is temporarily unavailable (503, retried by the SDK first). */
export class ServerError extends APIError {}

/** No response: the server could not be reached, the connection broke, or the request timed out. */
export class APIConnectionError extends ShortcodeError {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

/** The request took longer than the client's `timeoutMs`. */
export class APIConnectionTimeoutError extends APIConnectionError {}

/** A webhook's signature, timestamp or headers did not verify; the payload must not be trusted. */
export class WebhookVerificationError extends ShortcodeError {}

const BY_STATUS: Record<number, typeof APIError> = {
  400: BadRequestError,
  401: UnauthorizedError,
  402: PaymentRequiredError,
  403: ForbiddenError,
  404: NotFoundError,
  405: MethodNotAllowedError,
  409: ConflictError,
  413: PayloadTooLargeError,
  415: UnsupportedMediaTypeError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/** The error class for a status: the specific one, ServerError for 5xx, else APIError. */
export function errorClassFor(status: number): typeof APIError {
  return BY_STATUS[status] ?? (status >= 500 ? ServerError : APIError);
}

/**
 * Milliseconds to wait from a `Retry-After` header (delay in seconds, or an HTTP date);
 * `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
