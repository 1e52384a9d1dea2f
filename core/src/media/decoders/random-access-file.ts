import { type FileHandle, open } from 'node:fs/promises';

/**
 * Positional reads of a file, so header parsers (TIFF IFDs, ISOBMFF boxes) look at the few
 * kilobytes they need instead of loading a 200 MB upload into memory.
 */
export class RandomAccessFile {
  private constructor(
    private readonly handle: FileHandle,
    /** Size in bytes when the file was opened. */
    readonly size: number,
  ) {}

  static async open(path: string): Promise<RandomAccessFile> {
    const handle = await open(path, 'r');
    try {
      return new RandomAccessFile(handle, (await handle.stat()).size);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Up to `length` bytes at `offset`: fewer at the end of the file, none past it. */
  async read(offset: number, length: number): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= this.size || length <= 0) {
      return Buffer.alloc(0);
    }
    const wanted = Math.min(length, this.size - offset);
    const buffer = Buffer.allocUnsafe(wanted);
    let done = 0;
    while (done < wanted) {
      const { bytesRead } = await this.handle.read(buffer, done, wanted - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === wanted ? buffer : buffer.subarray(0, done);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Opens `path`, runs `fn` with it and closes it whatever happens. */
export async function withFile<T>(path: string, fn: (file: RandomAccessFile) => Promise<T>) {
  const file = await RandomAccessFile.open(path);
  try {
    return await fn(file);
  } finally {
    await file.close();
  }
}
