import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

// Reads one file out of an npm package tarball (.tgz) while it downloads. Bun has no tar and
// the project has no tar dependency; the registry's npm-sourced files only need "find this
// path, stream its bytes", which is this much of POSIX ustar (IEEE 1003.1-2008, pax): 512-byte
// headers, octal sizes, the ustar prefix, pax `path` records and GNU long names (npm's
// node-tar writes pax headers for long paths).

/** The bytes are not a gzipped tar archive, or the archive is cut short. */
export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

const BLOCK = 512;

/**
 * Streams the entry whose path, after its first folder (npm packs everything under
 * `package/`), is `path` from the gzipped tar `source` into `onData`. Stops reading as soon as
 * that entry is complete.
 * @returns the entry's size, or null if the archive has no such file.
 * @throws TarFormatError if the archive is corrupt or truncated.
 */
export async function extractTgzEntry(
  source: AsyncIterable<Uint8Array>,
  path: string,
  onData: (chunk: Uint8Array) => void | Promise<void>,
): Promise<{ bytes: number } | null> {
  const gunzip = createGunzip();
  // pipeline, not pipe: a failing download must fail the gunzip stream (pipe would leave it
  // waiting forever), and stopping early must stop the download.
  pipeline(Readable.from(source), gunzip, () => {});
  let pending: Uint8Array = new Uint8Array(0);
  // Between headers: `data` is how much of the current entry is left to read, `pad` the zeros
  // that round it up to a block.
  let data = 0;
  let pad = 0;
  let current: { kind: 'wanted' | 'skip' | 'meta'; size: number } = { kind: 'skip', size: 0 };
  let meta: Uint8Array[] = [];
  let metaType = '';
  let nextName: string | null = null;
  let zeroBlocks = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      const buf: Uint8Array = pending.length > 0 ? concat(pending, chunk) : chunk;
      pending = new Uint8Array(0);
      let off = 0;
      while (off < buf.length) {
        if (data > 0 || pad > 0) {
          const take = Math.min(data, buf.length - off);
          if (take > 0) {
            const slice = buf.subarray(off, off + take);
            if (current.kind === 'wanted') await onData(slice);
            else if (current.kind === 'meta') meta.push(slice.slice());
            data -= take;
            off += take;
          }
          const skip = Math.min(pad, buf.length - off);
          if (data === 0) {
            pad -= skip;
            off += skip;
          }
          if (data > 0 || pad > 0) continue;
          if (current.kind === 'wanted') return { bytes: current.size };
          if (current.kind === 'meta') {
            const text = new TextDecoder().decode(concat(...meta));
            nextName = metaType === 'L' ? text.replace(/\0.*$/s, '') : (paxPath(text) ?? nextName);
            meta = [];
          }
          continue;
        }
        if (buf.length - off < BLOCK) {
          pending = buf.slice(off);
          break;
        }
        const header = buf.subarray(off, off + BLOCK);
        off += BLOCK;
        if (header.every((b) => b === 0)) {
          // Two zero blocks end the archive.
          if (++zeroBlocks === 2) return null;
          continue;
        }
        zeroBlocks = 0;
        const entry = parseHeader(header);
        const name = nextName ?? entry.name;
        data = entry.size;
        pad = (BLOCK - (entry.size % BLOCK)) % BLOCK;
        if (entry.type === 'x' || entry.type === 'L') {
          metaType = entry.type;
          current = { kind: 'meta', size: entry.size };
          continue;
        }
        nextName = null;
        const isFile = entry.type === '0' || entry.type === '\0' || entry.type === '7';
        const wanted = isFile && withoutFirstFolder(name) === path;
        current = { kind: wanted ? 'wanted' : 'skip', size: entry.size };
        if (wanted && entry.size === 0) return { bytes: 0 };
      }
    }
  } catch (err) {
    if (err instanceof TarFormatError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code?.startsWith('Z_'))
      throw new TarFormatError(`not a gzip stream: ${(err as Error).message}`);
    throw err;
  } finally {
    gunzip.destroy();
  }
  if (data > 0 || pending.length > 0) throw new TarFormatError('the archive ends inside an entry');
  return null;
}

function parseHeader(header: Uint8Array): { name: string; size: number; type: string } {
  const stored = parseOctal(header.subarray(148, 156));
  // The checksum is the byte sum of the header with its own field read as spaces.
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += header[i] as number;
  if (stored !== sum) throw new TarFormatError('not a tar archive (header checksum mismatch)');
  const name = cString(header.subarray(0, 100));
  const ustar = cString(header.subarray(257, 262)) === 'ustar';
  const prefix = ustar ? cString(header.subarray(345, 500)) : '';
  return {
    name: prefix ? `${prefix}/${name}` : name,
    size: parseSize(header.subarray(124, 136)),
    type: String.fromCharCode(header[156] as number),
  };
}

// Sizes over 8 GiB are base-256 with the high bit set (GNU); octal otherwise.
function parseSize(field: Uint8Array): number {
  if (((field[0] as number) & 0x80) === 0) return parseOctal(field);
  let n = (field[0] as number) & 0x7f;
  for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] as number);
  return n;
}

function parseOctal(field: Uint8Array): number {
  const text = cString(field).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function cString(field: Uint8Array): string {
  const end = field.indexOf(0);
  return new TextDecoder().decode(end === -1 ? field : field.subarray(0, end));
}

// A pax extended header is records `<length> <key>=<value>\n`.
function paxPath(text: string): string | null {
  for (const record of text.split('\n')) {
    const match = /^\d+ path=(.*)$/s.exec(record);
    if (match) return match[1] as string;
  }
  return null;
}

function withoutFirstFolder(name: string): string {
  const clean = name.replace(/^\.\//, '');
  const slash = clean.indexOf('/');
  return slash === -1 ? clean : clean.slice(slash + 1);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
