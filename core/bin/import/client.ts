import { BatchStatusResponse, type Problem, type SidecarMetadata, UploadResult } from '@aex/shared';
import { CredentialRefusedError, refusal } from '../credentials.ts';

/** An upload the server refused, or that could not be sent: the reason is for the summary. */
export class UploadFailedError extends Error {
  override name = 'UploadFailedError';
  constructor(
    message: string,
    /** Worth trying again later (network, 5xx, 429), as opposed to a refusal of the file. */
    readonly transient: boolean,
  ) {
    super(message);
  }
}

export interface UploadFile {
  path: string;
  name: string;
  mtime: Date;
  sha256: string;
  sidecar?: SidecarMetadata;
}

/** The part of the AEX API the importer speaks, with retries for transient failures. */
export class AexApiClient {
  private readonly base: string;

  constructor(
    server: string,
    private readonly options: {
      retries?: number;
      retryDelayMs?: number;
      /** The credential (`authorization`) sent with every request. */
      headers?: Record<string, string>;
    } = {},
  ) {
    this.base = server.replace(/\/+$/, '');
  }

  /** Which of these sha256 sums the server already has (sum → image id). */
  async batchStatus(sums: string[]): Promise<Map<string, string>> {
    const res = await this.send(() =>
      fetch(`${this.base}/api/v1/images/batch-status`, {
        method: 'POST',
        headers: { ...this.options.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ sha256: sums }),
      }),
    );
    const body = BatchStatusResponse.parse(await res.json());
    const found = new Map<string, string>();
    for (const r of body.results) if (r.imageId) found.set(r.sha256, r.imageId);
    return found;
  }

  /** Uploads one file, streamed from disk. The Idempotency-Key makes a retried upload safe. */
  async upload(file: UploadFile): Promise<UploadResult> {
    const headers: Record<string, string> = {
      ...this.options.headers,
      'content-type': 'application/octet-stream',
      'idempotency-key': `aex-import-${file.sha256}`,
      'x-aex-file-name': encodeURIComponent(file.name),
      'x-aex-file-modified': file.mtime.toISOString(),
    };
    if (file.sidecar) {
      headers['x-aex-sidecar'] = Buffer.from(JSON.stringify(file.sidecar)).toString('base64url');
    }
    const res = await this.send(() =>
      fetch(`${this.base}/api/v1/images`, { method: 'POST', headers, body: Bun.file(file.path) }),
    );
    return UploadResult.parse(await res.json());
  }

  /**
   * Sends with retries on network errors, 429 and 5xx; a 4xx is the file's fault and final,
   * but for 401 and 403: the credential's, fatal to the whole import (CredentialRefusedError).
   */
  private async send(request: () => Promise<Response>): Promise<Response> {
    const retries = this.options.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      let failure: UploadFailedError;
      try {
        const res = await request();
        if (res.ok) return res;
        const problem = (await res.json().catch(() => null)) as Partial<Problem> | null;
        const reason = problem?.detail ?? `HTTP ${res.status}`;
        const refused = refusal(res.status, this.base, 'editor', problem?.detail);
        if (refused) throw refused;
        failure = new UploadFailedError(reason, res.status === 429 || res.status >= 500);
        if (!failure.transient) throw failure;
      } catch (err) {
        if (err instanceof UploadFailedError && !err.transient) throw err;
        if (err instanceof CredentialRefusedError) throw err;
        failure =
          err instanceof UploadFailedError
            ? err
            : new UploadFailedError(`cannot reach ${this.base}: ${(err as Error).message}`, true);
      }
      if (attempt >= retries) throw failure;
      await Bun.sleep((this.options.retryDelayMs ?? 500) * 2 ** attempt);
    }
  }
}
