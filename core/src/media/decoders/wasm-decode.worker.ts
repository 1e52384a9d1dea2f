import { readFile } from 'node:fs/promises';
import { decodeHeif } from './heif-wasm.ts';
import { decodeJxl } from './jxl-wasm.ts';
import {
  type DecodedRgba,
  serializeError,
  type WasmDecodeRequest,
  type WasmDecodeResponse,
} from './wasm-protocol.ts';

/**
 * One WebAssembly decode, off the main thread: a HEIC takes about a second and a JPEG XL a few,
 * time during which the event loop would otherwise serve nothing. The worker lives for one
 * image, so the module's memory (which WebAssembly can grow but never shrink) goes with it.
 */
declare const self: Worker;

self.onmessage = async (event: MessageEvent<WasmDecodeRequest>) => {
  const { decoder, path, maxPixels } = event.data;
  // The decoders print why they fail (console) and then return nothing: keep those lines for
  // the error instead of writing them to the server's log.
  const logs: string[] = [];
  const capture = (...args: unknown[]) => {
    if (logs.length < 8) logs.push(args.map(describe).filter(Boolean).join(' ').slice(0, 300));
  };
  console.log = capture;
  console.warn = capture;
  console.error = capture;
  let response: WasmDecodeResponse;
  let transfer: ArrayBuffer[] = [];
  try {
    // The WebAssembly decoders need the whole file; the upload limit bounds its size.
    const bytes = await readFile(path);
    const out: DecodedRgba =
      decoder === 'heif' ? await decodeHeif(bytes, maxPixels) : await decodeJxl(bytes);
    // Hand the pixels over without a copy when they own their buffer.
    const whole = out.data.byteOffset === 0 && out.data.byteLength === out.data.buffer.byteLength;
    const data = whole ? out.data : out.data.slice();
    response = { ok: true, ...out, data };
    transfer = [data.buffer as ArrayBuffer];
  } catch (err) {
    response = { ok: false, error: serializeError(err, logs) };
  }
  self.postMessage(response, transfer);
};

/** A logged value as text: libheif logs `{ code, subcode, message }` objects and raw handles. */
function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  const message = (value as { message?: unknown }).message;
  return typeof message === 'string' ? message : '';
}
