import type { ApiClient } from '../core.js';
import type { ItemOf, ListParams, Page, RequestBody, RequestOptions, ResponseBody, ResponseData } from '../types.js';
import { CollectionResource, Resource } from './base.js';

export type Message = ItemOf<'/v1/messages'>;
export type MessageSendParams = RequestBody<'/v1/message', 'post'>;
export type MessageBatchParams = RequestBody<'/v1/message/batch', 'post'>;
export type MessageBatchResult = ResponseBody<'/v1/message/batch', 'post'>;
export type MessagePreviewParams = RequestBody<'/v1/message/preview', 'post'>;
export type MessagePreview = ResponseData<'/v1/message/preview', 'post'>;
export type MessageToContactParams = RequestBody<'/v1/messages', 'post'>;
export type MessageUpdateParams = RequestBody<'/v1/messages/{id}', 'put'>;
export type ScheduledMessage = ItemOf<'/v1/message/schedule'>;
export type ScheduledMessageCreateParams = RequestBody<'/v1/message/schedule', 'post'>;
export type ScheduledMessageUpdateParams = RequestBody<'/v1/message/schedule/{id}', 'put'>;
export type SimulatorInboundParams = RequestBody<'/simulator/inbound', 'post'>;
export type SimulatorHandsetMessages = ResponseData<'/simulator/handsets/{phone_number}/messages', 'get'>;
export type SimulatorCarrierEventParams = RequestBody<'/simulator/carrier-events', 'post'>;
export type SimulatorCarrierEventResult = ResponseData<'/simulator/carrier-events', 'post'>;

/** Includes of a message: `receipt`, `contact.carrier`, `type`. */
export interface MessageIncludeParams {
  include?: string | string[];
}

/** Messages scheduled for later (`/v1/message/schedule`). */
export class ScheduledMessages extends CollectionResource<ScheduledMessage> {
  protected readonly collectionPath = '/v1/message/schedule';

  /** Retrieves a scheduled message. */
  retrieve(id: string, options?: RequestOptions): Promise<ScheduledMessage> {
    return this.data({ method: 'GET', path: '/v1/message/schedule/{id}', params: { id } }, options);
  }

  /**
   * Schedules a message (`send_at` must be in the future). Charged when created, refunded when
   * deleted before it is sent. Sent with an automatic Idempotency-Key, so a retry never
   * schedules twice; pass `options.idempotencyKey` to choose it.
   * @throws {PaymentRequiredError} when the credit balance cannot cover it.
   */
  create(body: ScheduledMessageCreateParams, options?: RequestOptions): Promise<ScheduledMessage> {
    return this.data({ method: 'POST', path: '/v1/message/schedule', body, idempotent: true }, options);
  }

  /** Changes the number, text or time of a message not yet sent. */
  update(id: string, body: ScheduledMessageUpdateParams, options?: RequestOptions): Promise<ScheduledMessage> {
    return this.data({ method: 'PUT', path: '/v1/message/schedule/{id}', params: { id }, body }, options);
  }

  /** Deletes (cancels) a scheduled message. */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.client.request({ method: 'DELETE', path: '/v1/message/schedule/{id}', params: { id } }, options);
  }
}

/** Sending to phone numbers (`/v1/message`): one, a batch, a cost preview, and scheduling. */
export class MessageResource extends Resource {
  /** Scheduled messages: `list`, `retrieve`, `create`, `update`, `delete`. */
  readonly schedule: ScheduledMessages;

  constructor(client: ApiClient) {
    super(client);
    this.schedule = new ScheduledMessages(client);
  }

  /**
   * Sends one message to one phone number. Sent with an automatic Idempotency-Key, so a retry
   * after a network error never sends twice; pass `options.idempotencyKey` to choose it.
   * @throws {PaymentRequiredError} when the credit balance cannot cover it (nothing is sent).
   * @throws {UnprocessableEntityError} for an invalid number, or a contact who may not be texted.
   */
  send(body: MessageSendParams, options?: RequestOptions): Promise<Message> {
    return this.data({ method: 'POST', path: '/v1/message', body, idempotent: true }, options);
  }

  /**
   * Sends personalised messages, up to 1,000 per request, with an automatic Idempotency-Key.
   * Numbers that may not be texted are listed in `meta.rejected`; the others are sent.
   * @returns `data` (the messages sent) and `meta` (`accepted`, `rejected`).
   */
  batch(body: MessageBatchParams, options?: RequestOptions): Promise<MessageBatchResult> {
    return this.client.request<MessageBatchResult>({ method: 'POST', path: '/v1/message/batch', body, idempotent: true }, options);
  }

  /** The encoding, segments and credits a text would cost. Sends nothing. */
  preview(body: MessagePreviewParams, options?: RequestOptions): Promise<MessagePreview> {
    return this.data({ method: 'POST', path: '/v1/message/preview', body }, options);
  }
}

/** Messages sent and received (`/v1/messages`), and sending to a contact. */
export class Messages extends CollectionResource<Message> {
  protected readonly collectionPath = '/v1/messages';

  /**
   * Retrieves a message.
   * @param include - `receipt`, `contact.carrier`, `type`.
   */
  retrieve(id: string, params?: MessageIncludeParams, options?: RequestOptions): Promise<Message> {
    return this.data({ method: 'GET', path: '/v1/messages/{id}', params: { id }, query: params }, options);
  }

  /** Sends one message to one contact, with an automatic Idempotency-Key. */
  create(body: MessageToContactParams, options?: RequestOptions): Promise<Message> {
    return this.data({ method: 'POST', path: '/v1/messages', body, idempotent: true }, options);
  }

  /** Updates a message (only `read` can change). */
  update(id: string, body: MessageUpdateParams, options?: RequestOptions): Promise<Message> {
    return this.data({ method: 'PUT', path: '/v1/messages/{id}', params: { id }, body }, options);
  }

  /** Marks a message read (or unread with `read = false`). */
  markRead(id: string, read = true, options?: RequestOptions): Promise<Message> {
    return this.update(id, { read } as MessageUpdateParams, options);
  }

  /** One page of the unread incoming messages (the inbox). */
  unread(params?: ListParams, options?: RequestOptions): Promise<Page<Message>> {
    return this.page<Message>('/v1/messages/unread', {}, params, options);
  }

  /** Every unread incoming message, page after page. */
  iterateUnread(params?: ListParams, options?: RequestOptions): AsyncGenerator<Message, void, undefined> {
    return this.walk<Message>('/v1/messages/unread', {}, params, options);
  }
}

/**
 * The simulated carrier (`/simulator`), present while the server sends through its built-in
 * simulator (the default): simulated handsets text the account and receive its messages.
 */
export class Simulator extends Resource {
  /** A simulated handset texts the account's number (`{ from, to?, message }`). */
  inbound(body: SimulatorInboundParams, options?: RequestOptions): Promise<Message> {
    return this.data({ method: 'POST', path: '/simulator/inbound', body }, options);
  }

  /** What a simulated handset received. */
  handsetMessages(phoneNumber: string, options?: RequestOptions): Promise<SimulatorHandsetMessages> {
    return this.data({ method: 'GET', path: '/simulator/handsets/{phone_number}/messages', params: { phone_number: phoneNumber } }, options);
  }

  /** The carrier reports a status change of a contact's line (`suspended`, `deactivated`, ...). */
  carrierEvent(body: SimulatorCarrierEventParams, options?: RequestOptions): Promise<SimulatorCarrierEventResult> {
    return this.data({ method: 'POST', path: '/simulator/carrier-events', body }, options);
  }
}
