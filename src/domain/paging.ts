/** A page of a list: what a protocol asks for (offset, limit, search, sort) and what the store answers. */

export type SortField = 'createdAt' | 'updatedAt' | 'name' | 'identifier';
export interface SortOrder {
  field: SortField;
  desc: boolean;
}

/** Paging, filtering and sorting for the scoped lists (service accounts, API keys, tokens). */
export interface ListQuery {
  offset: number;
  limit: number;
  /** Case-insensitive substring on name and identifier (and tags where `searchTags`). Matched literally. */
  search?: string | undefined;
  identifiers?: string[] | undefined;
  sort?: SortOrder[] | undefined;
}

export interface ListResult<T> {
  items: T[];
  total: number;
}
