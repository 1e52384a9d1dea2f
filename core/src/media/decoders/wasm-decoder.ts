import { totalmem } from 'node:os';
import { assertPixelLimit, CorruptImageError } from '../errors.ts';
import { readHeifHeader } from './heif-header.ts';
import { readJxlHeader } from './jxl-header.ts';
import { MemoryBudget } from './memory-budget.ts';
import { withFile } from './random-access-file.ts';
import {
  type DecodedRgba,
  deserializeError,
  type WasmDecodeRequest,
  type WasmDecodeResponse,
} from './wasm-protocol.ts';

/**
 * The most pixels each WebAssembly decoder can hold in its 2 GiB (32-bit) heap: libheif peaks
 * near 9 bytes per pixel, libjxl near 62 (measured on 12 and 20 MP photos). Beyond these the
 * module aborts, so such images are refused up front like any other oversized image.
 */
export const WASM_MAX_PIXELS = { heif: 200_000_000, jxl: 32_000_000 } as const;

// Peak bytes per pixel of a decode: the module's heap (above) plus the RGBA copy handed back.
const BYTES_PER_PIXEL = { heif: 9 + 4, jxl: 62 + 4 } as const;

/**
 * The memory all WebAssembly decodes may hold at once: a quarter of the machine. Decodes run
 * up to AEX_DECODE_CONCURRENCY at a time, and eight 30 MP JPEG XL files would need 16 GB;
 * beyond this budget they wait their turn instead.
 */
export const wasmMemory = new MemoryBudget(Math.floor(totalmem() / 4));

/** A WebAssembly decode's result, with the orientation its header declared (already applied). */
export interface WasmDecoded extends DecodedRgba {
  orientation: number;
}

/** What one WebAssembly decode may use and for how long. */
export interface WasmDecodeOptions {
  maxPixels: number;
  /** Kill the worker after this long; the default scales with the image's size. */
  timeoutMs?: number;
  /** Aborting stops the decode (its worker is terminated): MediaRepository.close() does. */
  signal?: AbortSignal;
}

/**
 * Decodes a HEIC/HEIF or JPEG XL file: its header is read here first (a few kilobytes) and the
 * pixel limit enforced on it, then a worker decodes it with the WebAssembly decoder. The worker
 * is killed after `timeoutMs`, so a pathological file cannot hold a decode slot forever.
 */
export async function decodeWithWasm(
  path: string,
  decoder: 'heif' | 'jxl',
  options: WasmDecodeOptions,
): Promise<WasmDecoded> {
  const header = await withFile(path, (file) =>
    decoder === 'heif' ? readHeifHeader(file) : readJxlHeader(file),
  );
  const maxPixels = Math.min(options.maxPixels, WASM_MAX_PIXELS[decoder]);
  assertPixelLimit(header.width, header.height, maxPixels);
  // Generous: 12 MP takes ~1 s (HEIC) to ~3 s (JXL) on a laptop core; slow ARM boards ~10×.
  const timeoutMs = options.timeoutMs ?? 120_000 + (header.width * header.height) / 100;
  const pixels = header.width * header.height;
  const release = await wasmMemory.acquire(pixels * BYTES_PER_PIXEL[decoder]);
  try {
    const request = { decoder, path, maxPixels };
    const decoded = await runWorker(request, timeoutMs, options.signal);
    return { ...decoded, orientation: header.orientation };
  } finally {
    release();
  }
}

function runWorker(
  request: WasmDecodeRequest,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<DecodedRgba> {
  const name = request.decoder === 'heif' ? 'HEIF' : 'JPEG XL';
  const stopped = () =>
    new CorruptImageError(`the ${name} decoder was stopped: AEX is shutting down`);
  if (signal?.aborted) return Promise.reject(stopped());
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./wasm-decode.worker.ts', import.meta.url).href);
    let done = false;
    const settle = (finish: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      worker.terminate();
      finish();
    };
    const fail = (err: Error) => settle(() => reject(err));
    const onAbort = () => fail(stopped());
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () => fail(new CorruptImageError(`the ${name} decoder did not finish in ${timeoutMs} ms`)),
      timeoutMs,
    );
    worker.onmessage = (event: MessageEvent<WasmDecodeResponse>) => {
      const response = event.data;
      settle(() => (response.ok ? resolve(response) : reject(deserializeError(response.error))));
    };
    worker.onerror = (event) => {
      fail(new CorruptImageError(`the ${name} decoder crashed: ${event.message}`));
    };
    // A worker that dies without answering (out of memory) must not leave its caller waiting.
    worker.addEventListener('close', () => {
      fail(new CorruptImageError(`the ${name} decoder exited without an answer`));
    });
    worker.postMessage(request);
  });
}
