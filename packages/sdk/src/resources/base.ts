import type { ApiClient } from '../core.js';
import type { ListParams, Page, RequestOptions } from '../types.js';

/** A group of API operations sharing the client's connection settings. */
export abstract class Resource {
  /** Resources are reached through the client's properties (`client.contacts`). */
  constructor(protected readonly client: ApiClient) {}

  /** `GET path` with the list query: one page. */
  protected page<T>(path: string, params: Record<string, string>, query: ListParams | undefined, options?: RequestOptions): Promise<Page<T>> {
    return this.client.request<Page<T>>({ method: 'GET', path, params, query }, options);
  }

  /** Every item of `GET path`, following `meta.pagination.links.next`. */
  protected walk<T>(path: string, params: Record<string, string>, query: ListParams | undefined, options?: RequestOptions): AsyncGenerator<T, void, undefined> {
    return this.client.paginate<T>(path, params, query, options);
  }

  /** `{data}` of a request's answer. */
  protected async data<T>(request: Parameters<ApiClient['request']>[0], options?: RequestOptions): Promise<T> {
    const body = await this.client.request<{ data: T }>(request, options);
    return body.data;
  }
}

/** A resource with a paginated collection at {@link CollectionResource.collectionPath}. */
export abstract class CollectionResource<T> extends Resource {
  /** The collection's path below the base URL, e.g. `/v1/contacts`. */
  protected abstract readonly collectionPath: string;

  /**
   * Lists one page of the collection.
   *
   * @param params - `limit` (at most 100), `page` (from 1), `filter` (sent as `filter[field]=value`),
   *   `sort` (`-created_at,name`) and `include` (`a,b`).
   * @returns the page: `data` and `meta.pagination` (`total`, `total_pages`, `links.next`, ...).
   * @throws {BadRequestError} for an unknown filter, sort field or include.
   */
  list(params?: ListParams, options?: RequestOptions): Promise<Page<T>> {
    return this.page<T>(this.collectionPath, {}, params, options);
  }

  /**
   * Iterates over every item of the collection, fetching page after page (by
   * `meta.pagination.links.next`) as the loop consumes them.
   *
   * @example
   * for await (const item of client.contacts.iterate({ filter: { reward_points: 10 } })) console.log(item.id);
   */
  iterate(params?: ListParams, options?: RequestOptions): AsyncGenerator<T, void, undefined> {
    return this.walk<T>(this.collectionPath, {}, params, options);
  }

  /** Every item of the collection in one array (all pages fetched). Prefer {@link iterate} for large collections. */
  async listAll(params?: ListParams, options?: RequestOptions): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this.iterate(params, options)) items.push(item);
    return items;
  }
}
