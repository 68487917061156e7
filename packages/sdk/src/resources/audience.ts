import type { ApiClient } from '../core.js';
import type { ItemOf, ListParams, Page, RequestBody, RequestOptions, ResponseData } from '../types.js';
import { CollectionResource, Resource } from './base.js';
import { ContactImports } from './imports.js';

export type Contact = ItemOf<'/v1/contacts'>;
export type ContactCreateParams = RequestBody<'/v1/contacts', 'post'>;
export type ContactUpdateParams = RequestBody<'/v1/contacts/{id}', 'put'>;
export type ContactUnsubscribeResult = ResponseData<'/v1/contacts/unsubscribe', 'patch'>;
export type Group = ItemOf<'/v1/groups'>;
export type GroupCreateParams = RequestBody<'/v1/groups', 'post'>;
export type GroupUpdateParams = RequestBody<'/v1/groups/{id}', 'put'>;
export type OptIn = ItemOf<'/v1/opt-ins'>;
export type Carrier = ItemOf<'/v1/carriers'>;
export type Field = ItemOf<'/v1/fields'>;
export type FieldCreateParams = RequestBody<'/v1/fields', 'post'>;
export type FieldUpdateParams = RequestBody<'/v1/fields/{id}', 'put'>;
export type PhoneNumberLookupResult = ResponseData<'/v1/phone-numbers/lookup', 'post'>;

/** Includes of a single contact: `carrier`, `status`, `groups`, `fields`. */
export interface IncludeParams {
  include?: string | string[];
}

/** The outcome of {@link Contacts.createMany}. */
export interface CreateManyResult<T> {
  created: T[];
  /** Inputs the server refused, by their position in the input, with the error raised. */
  failed: Array<{ index: number; error: unknown }>;
}

/** Progress of {@link Contacts.createMany}: called after every settled input. */
export type ProgressCallback = (progress: { done: number; total: number; created: number; failed: number }) => void;

/** Contacts: the subscribers you market to (`/v1/contacts`). */
export class Contacts extends CollectionResource<Contact> {
  protected readonly collectionPath = '/v1/contacts';
  /**
   * Bulk imports from a CSV or JSON-lines file: `create` (one upload), `retrieve`, `list`,
   * `iterate`, `rows`, `iterateRows` (per-row results) and `waitFor` (until processed).
   */
  readonly imports: ContactImports;

  constructor(client: ApiClient) {
    super(client);
    this.imports = new ContactImports(client);
  }

  /**
   * Retrieves a contact.
   * @param include - `carrier`, `status`, `groups`, `fields`.
   * @throws {NotFoundError} when the contact does not exist in this account.
   */
  retrieve(id: string, params?: IncludeParams, options?: RequestOptions): Promise<Contact> {
    return this.data({ method: 'GET', path: '/v1/contacts/{id}', params: { id }, query: params }, options);
  }

  /**
   * Creates a contact; the opt-in text goes out and the contact stays pending until it confirms.
   * @throws {UnprocessableEntityError} for an invalid phone number, or `"The contact already exists."`.
   */
  create(body: ContactCreateParams, params?: IncludeParams, options?: RequestOptions): Promise<Contact> {
    return this.data({ method: 'POST', path: '/v1/contacts', body, query: params }, options);
  }

  /**
   * Updates the attributes given (others are left unchanged); `groups: []` removes the contact from
   * every group. The phone number cannot change.
   */
  update(id: string, body: ContactUpdateParams, params?: IncludeParams, options?: RequestOptions): Promise<Contact> {
    return this.data({ method: 'PUT', path: '/v1/contacts/{id}', params: { id }, body, query: params }, options);
  }

  /** Deletes a contact. */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.client.request({ method: 'DELETE', path: '/v1/contacts/{id}', params: { id } }, options);
  }

  /**
   * Unsubscribes up to 100 phone numbers at once.
   * @returns which numbers were unsubscribed now, were already, or are not contacts.
   */
  unsubscribe(phoneNumbers: string[], options?: RequestOptions): Promise<ContactUnsubscribeResult> {
    return this.data({ method: 'PATCH', path: '/v1/contacts/unsubscribe', body: { phone_numbers: phoneNumbers } }, options);
  }

  /** Adds the contact to a group (nothing changes when it is already in it); answers the contact with its groups. */
  addGroup(id: string, groupId: string, options?: RequestOptions): Promise<Contact> {
    return this.data({ method: 'POST', path: '/v1/contacts/{id}/groups', params: { id }, body: { group_id: groupId } }, options);
  }

  /** Removes the contact from a group. */
  async removeGroup(id: string, groupId: string, options?: RequestOptions): Promise<void> {
    await this.client.request({ method: 'DELETE', path: '/v1/contacts/{id}/groups/{group}', params: { id, group: groupId } }, options);
  }

  /**
   * Creates many contacts, a few requests at a time, and returns them. Refused inputs do not
   * stop the others: they are reported in `failed`. Rate limits are absorbed by the client's
   * retries. For more than a few hundred contacts prefer {@link ContactImports.create}
   * (`contacts.imports.create`): one upload, processed by the server.
   *
   * @param options.concurrency - requests in flight at once (default 4).
   * @param options.onProgress - called after each input settles.
   */
  async createMany(
    bodies: readonly ContactCreateParams[],
    options: RequestOptions & { concurrency?: number; onProgress?: ProgressCallback } = {},
  ): Promise<CreateManyResult<Contact>> {
    const { concurrency = 4, onProgress, ...requestOptions } = options;
    const created: Array<Contact | undefined> = new Array(bodies.length);
    const failed: CreateManyResult<Contact>['failed'] = [];
    let next = 0;
    let done = 0;
    let createdCount = 0;
    const worker = async () => {
      for (;;) {
        const index = next++;
        if (index >= bodies.length) return;
        try {
          created[index] = await this.create(bodies[index]!, undefined, requestOptions);
          createdCount += 1;
        } catch (error) {
          failed.push({ index, error });
        }
        done += 1;
        onProgress?.({ done, total: bodies.length, created: createdCount, failed: failed.length });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, bodies.length)) }, worker));
    failed.sort((a, b) => a.index - b.index);
    return { created: created.filter((c): c is Contact => c !== undefined), failed };
  }
}

/** Groups organise contacts; a group may have a keyword that contacts text to join (`/v1/groups`). */
export class Groups extends CollectionResource<Group> {
  protected readonly collectionPath = '/v1/groups';

  /** Retrieves a group. */
  retrieve(id: string, params?: IncludeParams, options?: RequestOptions): Promise<Group> {
    return this.data({ method: 'GET', path: '/v1/groups/{id}', params: { id }, query: params }, options);
  }

  /**
   * Creates a group.
   * @throws {UnprocessableEntityError} for a keyword already in use or reserved (STOP, HELP, ...).
   */
  create(body: GroupCreateParams, options?: RequestOptions): Promise<Group> {
    return this.data({ method: 'POST', path: '/v1/groups', body }, options);
  }

  /** Updates the attributes given. */
  update(id: string, body: GroupUpdateParams, options?: RequestOptions): Promise<Group> {
    return this.data({ method: 'PUT', path: '/v1/groups/{id}', params: { id }, body }, options);
  }

  /** One page of the group's contacts (same filters and includes as `contacts.list`). */
  contacts(id: string, params?: ListParams, options?: RequestOptions): Promise<Page<Contact>> {
    return this.page<Contact>('/v1/groups/{id}/contacts', { id }, params, options);
  }

  /** Every contact of the group, page after page. */
  iterateContacts(id: string, params?: ListParams, options?: RequestOptions): AsyncGenerator<Contact, void, undefined> {
    return this.walk<Contact>('/v1/groups/{id}/contacts', { id }, params, options);
  }
}

/** Opt-ins: how contacts confirm they want messages; read-only (`/v1/opt-ins`). */
export class OptIns extends CollectionResource<OptIn> {
  protected readonly collectionPath = '/v1/opt-ins';

  /** Retrieves an opt-in. */
  retrieve(id: string, options?: RequestOptions): Promise<OptIn> {
    return this.data({ method: 'GET', path: '/v1/opt-ins/{id}', params: { id } }, options);
  }
}

/** Carriers: the networks contacts are on; read-only (`/v1/carriers`). */
export class Carriers extends CollectionResource<Carrier> {
  protected readonly collectionPath = '/v1/carriers';

  /** Retrieves a carrier. */
  retrieve(id: string, options?: RequestOptions): Promise<Carrier> {
    return this.data({ method: 'GET', path: '/v1/carriers/{id}', params: { id } }, options);
  }
}

/** Custom contact fields (`/v1/fields`); their values are set through `contacts.create/update({ fields })`. */
export class Fields extends CollectionResource<Field> {
  protected readonly collectionPath = '/v1/fields';

  /** Retrieves a custom field. */
  retrieve(id: string, options?: RequestOptions): Promise<Field> {
    return this.data({ method: 'GET', path: '/v1/fields/{id}', params: { id } }, options);
  }

  /** Defines a custom field. */
  create(body: FieldCreateParams, options?: RequestOptions): Promise<Field> {
    return this.data({ method: 'POST', path: '/v1/fields', body }, options);
  }

  /** Updates a custom field. */
  update(id: string, body: FieldUpdateParams, options?: RequestOptions): Promise<Field> {
    return this.data({ method: 'PUT', path: '/v1/fields/{id}', params: { id }, body }, options);
  }

  /** Deletes a custom field and its values. */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.client.request({ method: 'DELETE', path: '/v1/fields/{id}', params: { id } }, options);
  }
}

/** Phone numbers (`/v1/phone-numbers`). */
export class PhoneNumbers extends Resource {
  /**
   * Looks up at most 10 numbers: E.164 form, validity, country, number type, carrier, time zones.
   * @throws {UnprocessableEntityError} for more than 10 numbers.
   */
  lookup(phoneNumbers: string[], options?: RequestOptions): Promise<PhoneNumberLookupResult> {
    return this.data({ method: 'POST', path: '/v1/phone-numbers/lookup', body: { phone_numbers: phoneNumbers } }, options);
  }
}
