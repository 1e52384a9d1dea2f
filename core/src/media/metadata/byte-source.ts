import type { FileHandle } from 'node:fs/promises';

/** Bytes read by offset, from a file or from memory, so one parser serves both. */
export interface ByteSource {
  readonly size: number;
  /** `length` bytes at `offset`; fewer at the end. */
  read(offset: number, length: number): Promise<Buffer>;
}

/** A source that reads an open file with positioned reads (nothing is read ahead). */
export function fileSource(file: FileHandle, size: number): ByteSource {
  return {
    size,
    async read(offset, length) {
      const wanted = Math.max(0, Math.min(length, size - offset));
      const buffer = Buffer.alloc(wanted);
      if (wanted === 0) return buffer;
      const { bytesRead } = await file.read(buffer, 0, wanted, offset);
      return buffer.subarray(0, bytesRead);
    },
  };
}

/** A source over bytes already in memory (an APP1 segment, a PNG eXIf chunk). */
export function bufferSource(data: Uint8Array): ByteSource {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  };
}

/** Bytes `from`…`to` as Latin-1 text (four-character codes, signatures). */
export function latin1(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', from, to);
}

/** UTF-8 text (XMP is UTF-8 in every container AEX reads). */
export function utf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}

/** Strips the `Exif\0\0` prefix some writers leave before a TIFF header; null if no TIFF. */
export function tiffStart(data: Uint8Array): Uint8Array | null {
  const body = latin1(data, 0, 6) === 'Exif\0\0' ? data.subarray(6) : data;
  const order = latin1(body, 0, 2);
  return order === 'II' || order === 'MM' ? body : null;
}
