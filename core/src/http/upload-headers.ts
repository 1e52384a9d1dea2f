import { AexError, SidecarMetadata } from '@aex/shared';
import { z } from '@hono/zod-openapi';
import type { IngestOptions } from '../services/ingest-image.ts';

/**
 * What a client may say about an upload besides its bytes, parsed in one place for both
 * ways in: headers on `POST /api/v1/images` and `Upload-Metadata` on a tus upload. The
 * values are the client's word, never trusted: a file name is display text (never a path),
 * a time must be a real one, a sidecar must match `SidecarMetadata`. A bad value is a 400
 * that names where it came from, before a byte of the body is read.
 */

/** The headers, as `POST /api/v1/images` documents them (parsing is `uploadOptionsFromHeaders`). */
export const UploadHeaders = z.object({
  'x-aex-file-name': z
    .string()
    .optional()
    .meta({
      description:
        "The file's name on the client, percent-encoded UTF-8 (`encodeURIComponent`). Display " +
        'text only: AEX keeps the base name, without control characters or path separators, ' +
        'at most 255 bytes.',
      example: 'IMG_0001%20(copy).jpg',
    }),
  'x-aex-file-modified': z
    .string()
    .optional()
    .meta({
      description:
        "The file's modification time: ISO 8601 with an offset, or epoch milliseconds. The " +
        'taken-at time when the photo itself says nothing.',
      example: '2024-05-01T12:30:00Z',
    }),
  'x-aex-sidecar': z
    .string()
    .optional()
    .meta({
      description:
        "Metadata from the photo's sidecar (XMP or Google Takeout JSON) as base64url JSON " +
        'matching `SidecarMetadata`.',
    }),
});

/** Longest kept file name, in UTF-8 bytes (what most file systems allow). */
export const MAX_FILE_NAME_BYTES = 255;
// Large enough for any valid SidecarMetadata; stops a huge header from being decoded.
const MAX_SIDECAR_CHARS = 96 * 1024;
// Photos older than this are scans at best; a modified time outside the window is forged.
const EARLIEST = Date.UTC(1800, 0, 1);
const FUTURE_SLACK_MS = 24 * 3600 * 1000;

// C0 and C1 controls and DEL, and the bidirectional overrides and isolates that make a
// name display as something else ("photo\u202Egpj.exe"); zero-width characters too.
const UNSAFE_CHARS = /[\p{Cc}\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/gu;

/**
 * A client's file name made safe to show: NFC, only the last path segment (`/` and `\`),
 * no control or bidi characters, trimmed, at most 255 UTF-8 bytes (keeping the extension).
 * `undefined` when nothing displayable is left (`..`, `/`, blanks).
 */
export function cleanFileName(raw: string): string | undefined {
  const base = raw.normalize('NFC').split(/[/\\]/).pop() ?? '';
  const name = base.replace(UNSAFE_CHARS, '').trim();
  if (name === '' || /^\.+$/.test(name)) return undefined;
  return truncateUtf8(name, MAX_FILE_NAME_BYTES);
}

function truncateUtf8(name: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(name).length <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  let kept = '';
  let bytes = encoder.encode(ext).length;
  // By code point, so a multi-byte character is never cut in half.
  for (const ch of name.slice(0, name.length - ext.length)) {
    const n = encoder.encode(ch).length;
    if (bytes + n > maxBytes) break;
    kept += ch;
    bytes += n;
  }
  return kept + ext;
}

/** A modification time: ISO 8601 (with a date at least) or epoch milliseconds. */
export function parseFileModified(raw: string, source: string, now = Date.now()): Date {
  const value = raw.trim();
  let time = Number.NaN;
  if (/^-?\d{1,15}$/.test(value)) time = Number(value);
  else if (
    /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(value)
  )
    time = Date.parse(value);
  if (!Number.isFinite(time)) {
    throw new AexError(
      'invalid_input',
      `${source} must be an ISO 8601 time (2024-05-01T12:30:00Z) or epoch milliseconds.`,
    );
  }
  if (time < EARLIEST || time > now + FUTURE_SLACK_MS) {
    throw new AexError(
      'invalid_input',
      `${source} is ${new Date(time).toISOString()}, outside 1800 … tomorrow: send the file's real modification time.`,
    );
  }
  return new Date(time);
}

/** Sidecar metadata from its JSON text, validated with `SidecarMetadata`. */
export function parseSidecarJson(json: string, source: string): SidecarMetadata {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new AexError('invalid_input', `${source} is not JSON.`);
  }
  const parsed = SidecarMetadata.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new AexError('invalid_input', `${source} is not valid sidecar metadata: ${issues}.`);
  }
  return parsed.data;
}

/** `X-Aex-File-Name`, `X-Aex-File-Modified` and `X-Aex-Sidecar` as `IngestOptions`. */
export function uploadOptionsFromHeaders(headers: Headers): IngestOptions {
  const options: IngestOptions = {};
  const name = headers.get('x-aex-file-name');
  if (name) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      throw new AexError(
        'invalid_input',
        'X-Aex-File-Name must be percent-encoded UTF-8 (encodeURIComponent of the name).',
      );
    }
    options.fileName = cleanFileName(decoded);
  }
  const modified = headers.get('x-aex-file-modified');
  if (modified) options.fileModifiedAt = parseFileModified(modified, 'X-Aex-File-Modified');
  const sidecar = headers.get('x-aex-sidecar');
  if (sidecar) {
    const value = sidecar.trim();
    if (value.length > MAX_SIDECAR_CHARS || !/^[A-Za-z0-9_-]*={0,2}$/.test(value)) {
      throw new AexError(
        'invalid_input',
        `X-Aex-Sidecar must be base64url JSON of at most ${MAX_SIDECAR_CHARS} characters.`,
      );
    }
    const json = Buffer.from(value, 'base64url').toString('utf8');
    options.sidecar = parseSidecarJson(json, 'X-Aex-Sidecar');
  }
  return options;
}

/**
 * The same facts from a tus upload's `Upload-Metadata` (values already base64-decoded by
 * the tus server): `filename` (or `name`, which Uppy sends), `modified`, and `sidecar` as
 * JSON text.
 */
export function uploadOptionsFromTusMetadata(
  metadata: Record<string, string | null> | undefined,
): IngestOptions {
  const options: IngestOptions = {};
  const name = metadata?.filename ?? metadata?.name;
  if (name) options.fileName = cleanFileName(name);
  const modified = metadata?.modified;
  if (modified) options.fileModifiedAt = parseFileModified(modified, 'Upload-Metadata modified');
  const sidecar = metadata?.sidecar;
  if (sidecar) {
    if (sidecar.length > MAX_SIDECAR_CHARS) {
      throw new AexError('invalid_input', 'Upload-Metadata sidecar is too long.');
    }
    options.sidecar = parseSidecarJson(sidecar, 'Upload-Metadata sidecar');
  }
  return options;
}
