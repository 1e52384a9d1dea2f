import { copyFile, link, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AexError } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import { FileStore } from '@tus/file-store';
import { ERRORS, Server, Upload } from '@tus/server';
import type { IngestOptions, IngestResult, IngestService } from './ingest-image.ts';

/*
 * Resumable uploads with the tus protocol 1.0.0 (https://tus.io/protocols/resumable-upload):
 * core, creation (+ with-upload, + defer-length), termination and expiration, by
 * @tus/server with @tus/file-store in `<AEX_DATA_DIR>/uploads`. When the last byte arrives,
 * the file is ingested in place (no second copy through the spool) and the upload's record
 * keeps which image it became until it expires, so a client that lost the final answer
 * learns it from HEAD instead of uploading again.
 *
 * One node only: upload state lives on this node's disk and in its in-memory locks. Several
 * core replicas need sticky routing of /api/v1/uploads/<id> to one replica, or
 * @tus/s3-store with a shared locker (and ingestion reading from S3).
 */

/** Upload-Metadata keys AEX adds to a completed upload's record. */
const IMAGE_ID_KEY = 'aex-image-id';
const CREATED_KEY = 'aex-created';
/** Ids the tus server makes (`Uid.rand`: 16 random bytes, hex); anything else is refused. */
export const UPLOAD_ID = /^[0-9a-f]{32}$/;

export interface ResumableUploadsOptions {
  /** The URL path uploads are created at; an upload is `<path>/<id>`. */
  path: string;
  /** Where upload bytes and records live (`<AEX_DATA_DIR>/uploads`). */
  dir: string;
  /** Largest upload (AEX_MAX_UPLOAD_BYTES), announced as Tus-Max-Size. */
  maxUploadBytes: number;
  /** How long an upload lives after its creation (AEX_UPLOAD_EXPIRY). */
  expiryMs: number;
  /** How often expired uploads are deleted; default a tenth of the expiry, within 1 s … 1 h. */
  sweepEveryMs?: number;
  ingest: IngestService;
  /** Reads the upload's `Upload-Metadata` as ingest options; throws an AexError for bad values. */
  readMetadata: (metadata: Record<string, string | null> | undefined) => IngestOptions;
  log: Logger;
}

/** The answer of the tus server, and what AEX made of the request on the side. */
export interface TusOutcome {
  response: Response;
  /** The image a completed upload became (on the request that completed it). */
  result?: IngestResult;
  /** Why AEX refused it (bad metadata, bytes that are not an image): to render as a problem. */
  failure?: unknown;
  /** On HEAD of a completed upload: the image it became. */
  imageId?: string;
}

/** A FileStore whose completed uploads answer HEAD with the image they became. */
class IngestedFileStore extends FileStore {
  override async getUpload(id: string): Promise<Upload> {
    const info = await this.configstore.get(id);
    if (info?.metadata?.[IMAGE_ID_KEY]) {
      // Its bytes are in the blob store now; it is complete.
      return new Upload({ ...info, offset: info.size ?? 0 });
    }
    return super.getUpload(id);
  }

  /** A completed upload takes no more bytes: 409, and HEAD tells the client it is done. */
  override async write(
    readable: Parameters<FileStore['write']>[0],
    id: string,
    offset: number,
  ): Promise<number> {
    if (await this.ingestedImage(id)) throw ERRORS.INVALID_OFFSET;
    return super.write(readable, id, offset);
  }

  /** Deletes bytes and record; either may already be gone (a completed upload has no bytes). */
  override async remove(id: string): Promise<void> {
    if (!UPLOAD_ID.test(id)) throw ERRORS.FILE_NOT_FOUND;
    const info = await this.configstore.get(id);
    await rm(join(this.directory, id), { force: true });
    await rm(join(this.directory, `${id}.json`), { force: true });
    if (!info) throw ERRORS.FILE_NOT_FOUND;
  }

  /** Records the image a completed upload became, then drops its bytes. */
  async markIngested(id: string, result: IngestResult): Promise<void> {
    const info = await this.configstore.get(id);
    if (!info) return;
    info.metadata = {
      ...info.metadata,
      [IMAGE_ID_KEY]: result.image.id,
      [CREATED_KEY]: String(result.created),
    };
    await this.configstore.set(id, info);
    await rm(join(this.directory, id), { force: true });
  }

  async ingestedImage(id: string): Promise<string | undefined> {
    return (await this.configstore.get(id))?.metadata?.[IMAGE_ID_KEY] ?? undefined;
  }
}

/** tus uploads in a local directory, ingested when complete and swept when expired. */
export class ResumableUploads {
  private readonly store: IngestedFileStore;
  private readonly server: Server;
  // Per request (the tus server hands the same Request object to its hooks).
  private readonly sideResults = new WeakMap<
    Request,
    { result?: IngestResult; failure?: unknown }
  >();
  private timer: ReturnType<typeof setInterval> | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(private readonly options: ResumableUploadsOptions) {
    this.store = new IngestedFileStore({
      directory: options.dir,
      expirationPeriodInMilliseconds: options.expiryMs,
    });
    this.server = new Server({
      path: options.path,
      datastore: this.store,
      maxSize: options.maxUploadBytes,
      // Relative, so the Location stays right behind the edge's proxy and any other.
      relativeLocation: true,
      // No CORS, like the rest of core: browsers reach it same-origin, through the edge.
      allowedOrigins: [],
      allowedHeaders: ['Idempotency-Key', 'X-Request-Id'],
      exposedHeaders: ['X-Aex-Image-Id', 'X-Aex-Image-Created', 'Idempotent-Replayed'],
      onUploadCreate: async (req, upload) => {
        // Bad metadata is refused now, not after the last of 200 MB has arrived.
        await this.guard(req, () => options.readMetadata(upload.metadata));
        return {};
      },
      onUploadFinish: async (req, upload) => this.finish(req, upload),
    });
  }

  /** Creates the upload directory and starts sweeping expired uploads. */
  async start(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    if (this.timer) return;
    const every =
      this.options.sweepEveryMs ?? Math.min(3600_000, Math.max(1000, this.options.expiryMs / 10));
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((err: unknown) => this.options.log.error({ err }, 'could not sweep uploads'))
        .finally(() => {
          this.sweeping = undefined;
        });
    }, every);
    this.timer.unref?.();
  }

  /** Stops sweeping; resolves when a sweep under way is done. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** Answers one tus request (POST, HEAD, PATCH, DELETE, OPTIONS). */
  async handle(request: Request): Promise<TusOutcome> {
    const response = await this.server.handleWeb(request);
    const side = this.sideResults.get(request) ?? {};
    const outcome: TusOutcome = { response, ...side };
    if (request.method === 'HEAD' && response.status === 200) {
      const id = new URL(request.url).pathname.split('/').pop() ?? '';
      outcome.imageId = UPLOAD_ID.test(id) ? await this.store.ingestedImage(id) : undefined;
    }
    return outcome;
  }

  /**
   * Deletes uploads older than the expiry, complete or not, with their records, and files
   * left by a crash (bytes without a record, an ingest cut short). Its own walk, not
   * FileStore.deleteExpired: that one lists only uploads that still have their bytes.
   */
  async sweep(): Promise<number> {
    const { dir, expiryMs } = this.options;
    const cutoff = Date.now() - expiryMs;
    const names = await readdir(dir).catch(() => [] as string[]);
    const records = new Set(names.filter((n) => n.endsWith('.json')));
    let removed = 0;
    for (const name of names) {
      const path = join(dir, name);
      const id = name.replace(/\.json$/, '');
      if (name.endsWith('.json') && UPLOAD_ID.test(id)) {
        const info = await readFile(path, 'utf8')
          .then((text) => JSON.parse(text) as { creation_date?: string })
          .catch(() => null);
        const created = info?.creation_date ? Date.parse(info.creation_date) : Number.NaN;
        const born = Number.isFinite(created) ? created : await mtime(path);
        if (born !== undefined && born < cutoff) {
          await rm(join(dir, id), { force: true });
          await rm(path, { force: true });
          removed++;
        }
      } else if (!records.has(`${name}.json`)) {
        const born = await mtime(path);
        if (born !== undefined && born < cutoff) await rm(path, { force: true, recursive: true });
      }
    }
    return removed;
  }

  /** The last byte arrived: ingest the file and remember the image it became. */
  private async finish(req: Request, upload: Upload) {
    const source = join(this.options.dir, upload.id);
    // The ingest takes its file over (moves it into the blob store): give it a second name
    // for the same bytes, so the tus server, which reads the upload once more after this
    // hook, still finds it.
    const taken = join(this.options.dir, `${upload.id}.ingest`);
    const result = await this.guard(req, async () => {
      try {
        const options = this.options.readMetadata(upload.metadata);
        await link(source, taken).catch(() => copyFile(source, taken));
        return await this.options.ingest.ingestFile(taken, options);
      } catch (err) {
        await rm(taken, { force: true });
        await this.store.remove(upload.id).catch(() => {});
        throw err;
      }
    });
    await this.store.markIngested(upload.id, result);
    this.sideResults.set(req, { result });
    return {
      headers: { 'X-Aex-Image-Id': result.image.id, 'X-Aex-Image-Created': String(result.created) },
    };
  }

  /**
   * Runs a hook's work; a failure is kept for the route to render as problem+json, and the
   * tus server is told only the status (it would render it as text/plain).
   */
  private async guard<T>(req: Request, work: () => T | Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      this.sideResults.set(req, { failure: err });
      throw { status_code: err instanceof AexError ? err.status : 500, body: '' };
    }
  }
}

async function mtime(path: string): Promise<number | undefined> {
  return stat(path)
    .then((s) => s.mtimeMs)
    .catch(() => undefined);
}
