import { and, eq } from 'drizzle-orm';
import type { Db } from './database.ts';
import { images } from './schema.ts';

/** What anonymous clients may learn about images: only whether, and which, are public. */
export class PublicImagesRepository {
  constructor(private readonly db: Db) {}

  /** Ids of public images, at most `limit` (through `images_visibility_idx`). */
  async ids(limit: number): Promise<string[]> {
    const rows = await this.db
      .select({ id: images.id })
      .from(images)
      .where(eq(images.visibility, 'public'))
      .limit(limit);
    return rows.map((r) => r.id);
  }

  /** Whether an image with these bytes is stored and public. */
  async isPublicSha256(sha256: string): Promise<boolean> {
    const rows = await this.db
      .select({ id: images.id })
      .from(images)
      .where(and(eq(images.sha256, sha256), eq(images.visibility, 'public')))
      .limit(1);
    return rows.length > 0;
  }
}
