import { normalizeFilter, normalizeIds, type VectorFilter } from './vector-index.ts';

/**
 * Milvus boolean expressions for the vector index port's filters. Milvus takes a filter as
 * text (`visibility == "public" and id in [...]`), so every value is validated first (uuids,
 * the two visibilities) and then quoted, which keeps the text injection-safe twice over.
 */

/**
 * A Milvus string literal. Milvus's expression grammar takes C-style escapes inside double
 * quotes (`\"`, `\\`, `\n`, `\uXXXX`), which is exactly what JSON.stringify writes, and a
 * raw newline or quote could never end the literal early.
 */
export function quote(value: string): string {
  return JSON.stringify(value);
}

/** `id in ["…", …]` for validated, lowercased uuids; throws `VectorIndexError` on a non-uuid. */
export function idsExpression(ids: readonly string[]): string {
  return `id in [${normalizeIds(ids).map(quote).join(', ')}]`;
}

/**
 * The Milvus filter for `filter`: `''` when it restricts nothing, and `null` when nothing can
 * pass (an empty `ids` list), so callers answer that without a round trip rather than relying
 * on how a server version parses `id in []`. Throws `VectorIndexError` on an invalid filter.
 */
export function filterExpression(filter: VectorFilter | undefined): string | null {
  const valid = normalizeFilter(filter);
  if (valid.ids?.length === 0) return null;
  const parts: string[] = [];
  if (valid.visibility) parts.push(`visibility == ${quote(valid.visibility)}`);
  if (valid.ids) parts.push(idsExpression(valid.ids));
  return parts.join(' and ');
}
