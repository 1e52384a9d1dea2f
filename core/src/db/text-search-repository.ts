import type { ModelRef } from '@aex/shared';
import { sql } from 'drizzle-orm';
import type { Db } from './database.ts';
import { images, imageTextLines } from './schema.ts';

/** An image whose recognised text matches, with its best line's rank. */
export interface TextMatch {
  imageId: string;
  /** `ts_rank` normalised into 0…1 (`rank / (rank + 1)`, normalisation 32). */
  rank: number;
}

/**
 * Finds images by the words recognised in them, through the GIN index on
 * `to_tsvector('simple', text)` (migration 0004). 'simple' because OCR text comes in any
 * language: no stemming, no stop words. A query matches a line holding all its words
 * (`websearch_to_tsquery`: "quoted phrase", or, -word), so words on different lines do not.
 */
export class TextSearchRepository {
  constructor(private readonly db: Db) {}

  /** `publicOnly`: only images whose visibility is public (public search). */
  async search(
    text: string,
    model: ModelRef,
    limit: number,
    options: { publicOnly?: boolean } = {},
  ): Promise<TextMatch[]> {
    // The expression must be written exactly as the index's for the planner to use it.
    const vector = sql`to_tsvector('simple', ${imageTextLines.text})`;
    const rows = await this.db
      .select({
        imageId: imageTextLines.imageId,
        rank: sql<number>`max(ts_rank(${vector}, websearch_to_tsquery('simple', ${text}), 32))::float8`,
      })
      .from(imageTextLines)
      .where(
        sql`${vector} @@ websearch_to_tsquery('simple', ${text})
          and ${imageTextLines.modelId} = ${model.id}
          and ${imageTextLines.modelVersion} = ${model.version}
          ${options.publicOnly ? sql`and exists (select 1 from ${images} where ${images.id} = ${imageTextLines.imageId} and ${images.visibility} = 'public')` : sql``}`,
      )
      .groupBy(imageTextLines.imageId)
      .orderBy(sql`2 desc`, imageTextLines.imageId)
      .limit(limit);
    return rows.map((r) => ({ imageId: r.imageId, rank: Number(r.rank) }));
  }
}
