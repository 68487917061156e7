/**
 * Typed errors that services throw. The HTTP error handler (src/http/error-handler.ts) is the
 * one place that turns them into responses of the documented shape {status, message, errors}.
 */
export type FieldErrors = Record<string, string[]>;

export class AppError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldErrors = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  constructor(message = 'An error has occurred with your request and is unable to be processed.', errors: FieldErrors = {}) {
    super(400, message, errors);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Unauthenticated.') {
    super(401, message, {}, { 'www-authenticate': 'Bearer realm="shortcode"' });
  }
}

export class PaymentRequiredError extends AppError {
  constructor(message = 'Your credit balance does not cover this send.', errors: FieldErrors = {}) {
    super(402, message, errors);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'This action is unauthorized.') {
    super(403, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Resource not found.') {
    super(404, message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, errors: FieldErrors = {}) {
    super(409, message, errors);
  }
}

export class ValidationError extends AppError {
  constructor(errors: FieldErrors, message = 'A validation error occurred') {
    super(422, message, errors);
  }

  static field(field: string, message: string): ValidationError {
    return new ValidationError({ [field]: [message] });
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message = 'The service is temporarily unavailable. Please try again later.', retryAfterSeconds = 5) {
    super(503, message, {}, { 'retry-after': String(retryAfterSeconds) });
  }
}
