import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Image, Problem, UploadResult } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';
import { attachment } from './routes/images-original.ts';

const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');
const FILE = 'exif-samples/jpg/gps/DSCN0010.jpg';

describe('Content-Disposition for hostile names', () => {
  const ATTR_CHARS = /^[A-Za-z0-9!#$&+\-.^_`|~%]*$/;
  const parts = (header: string) => {
    const m = /^attachment; filename="([^"\\]*)"; filename\*=UTF-8''(.*)$/.exec(header);
    if (!m) throw new Error(`unexpected header ${header}`);
    return { ascii: m[1] ?? '', name: decodeURIComponent(m[2] ?? ''), encoded: m[2] ?? '' };
  };
  test.each([
    ['holiday.jpg', 'holiday.jpg', 'holiday.jpg'],
    ['../../etc/passwd', 'passwd', 'passwd'],
    ['C:\\Users\\me\\photo.jpg', 'photo.jpg', 'photo.jpg'],
    ['résumé 😀.jpg', 'résumé 😀.jpg', 'r_sum_ __.jpg'],
    ['a"b;c%41.jpg', 'a"b;c%41.jpg', 'a_b_c_41.jpg'],
    ['evil\r\nSet-Cookie: x=1.jpg', 'evilSet-Cookie: x=1.jpg', 'evilSet-Cookie: x=1.jpg'],
    ['\u202Egpj.exe', 'gpj.exe', 'gpj.exe'],
    ["it's (1)*.jpg", "it's (1)*.jpg", "it's (1)*.jpg"],
    ['...', 'fallback.jpg', 'fallback.jpg'],
    [null, 'fallback.jpg', 'fallback.jpg'],
    ['lone \ud800 surrogate.jpg', 'lone  surrogate.jpg', 'lone  surrogate.jpg'],
  ])('%p', (name, exact, ascii) => {
    const header = attachment(name, 'fallback.jpg');
    const p = parts(header);
    expect(p.name).toBe(exact);
    expect(p.ascii).toBe(ascii);
    expect(p.encoded).toMatch(ATTR_CHARS);
    // Nothing that could end the header or start another.
    expect(header).not.toMatch(/[\r\n]/);
    expect(header.includes('\u0000')).toBe(false);
  });
  test('long names are cut at 200 characters, never inside a character', () => {
    const p = parts(attachment(`${'😀'.repeat(300)}.jpg`, 'f.jpg'));
    expect(Array.from(p.name)).toHaveLength(200);
  });
});

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`original download on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      let image: Image;
      let bytes: Buffer;
      let url: string;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
        bytes = await readFile(join(FIXTURES, FILE));
        const res = await h.request('/api/v1/images', {
          method: 'POST',
          body: new Uint8Array(bytes),
        });
        image = UploadResult.parse(await res.json()).image;
        url = `/api/v1/images/${image.id}/original`;
      }, 30_000);
      afterAll(async () => {
        await h?.stop();
      });
      const get = (headers: Record<string, string> = {}, method = 'GET') =>
        h.request(url, { method, headers });

      test('the whole original, as an attachment, with validators and private caching', async () => {
        expect(image.urls.original).toBe(url);
        const res = await get();
        expect(res.status).toBe(200);
        expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
        expect(Object.fromEntries(res.headers)).toMatchObject({
          'content-type': 'image/jpeg',
          'content-length': String(bytes.length),
          etag: `"${image.sha256}"`,
          'accept-ranges': 'bytes',
          'x-content-type-options': 'nosniff',
        });
        expect(res.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
        expect(res.headers.get('content-disposition')).toBe(
          attachment(image.originalName, `${image.sha256}.jpg`),
        );
      });

      test('If-None-Match answers 304 for the ETag, weak or in a list, and for *', async () => {
        for (const inm of [
          `"${image.sha256}"`,
          `W/"${image.sha256}"`,
          `"other", "${image.sha256}"`,
          '*',
        ]) {
          const res = await get({ 'if-none-match': inm });
          expect(res.status).toBe(304);
          expect(await res.text()).toBe('');
          expect(res.headers.get('etag')).toBe(`"${image.sha256}"`);
        }
        const other = await get({ 'if-none-match': '"something-else"' });
        expect(other.status).toBe(200);
        expect((await other.arrayBuffer()).byteLength).toBe(bytes.length);
      });

      test('a single Range gives 206 with exactly those bytes', async () => {
        const size = bytes.length;
        for (const [range, start, end] of [
          ['bytes=0-9', 0, 9],
          ['bytes=100-', 100, size - 1],
          ['bytes=-10', size - 10, size - 1],
          [`bytes=10-${size * 2}`, 10, size - 1],
          [`bytes=-${size * 2}`, 0, size - 1],
        ] as const) {
          const res = await get({ range });
          expect(res.status).toBe(206);
          expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
          expect(res.headers.get('content-length')).toBe(String(end - start + 1));
          const got = Buffer.from(await res.arrayBuffer());
          expect(got.equals(bytes.subarray(start, end + 1))).toBe(true);
        }
        const matching = await get({ range: 'bytes=0-1', 'if-range': `"${image.sha256}"` });
        expect(matching.status).toBe(206);
        await matching.arrayBuffer();
      });

      test('ranges it will not serve: 416 past the end; the whole file for the rest', async () => {
        const size = bytes.length;
        for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 10}`, 'bytes=-0']) {
          const res = await get({ range });
          expect(res.status).toBe(416);
          expect(res.headers.get('content-range')).toBe(`bytes */${size}`);
        }
        const ignored: Array<Record<string, string>> = [
          { range: 'bytes=5-2' },
          { range: 'bytes=0-1,5-6' },
          { range: 'items=0-1' },
          { range: 'bytes=abc' },
          { range: 'bytes=0-1', 'if-range': '"stale"' },
        ];
        for (const headers of ignored) {
          const res = await get(headers);
          expect(res.status).toBe(200);
          expect((await res.arrayBuffer()).byteLength).toBe(size);
        }
      });

      test('HEAD gives the headers without the body', async () => {
        const res = await get({}, 'HEAD');
        expect(res.status).toBe(200);
        expect(res.headers.get('content-length')).toBe(String(bytes.length));
        expect(res.headers.get('etag')).toBe(`"${image.sha256}"`);
        expect(await res.text()).toBe('');
      });

      test('bad ids are refused with a problem', async () => {
        for (const [path, status] of [
          ['/api/v1/images/not-a-uuid/original', 400],
          [`/api/v1/images/${crypto.randomUUID()}/original`, 404],
        ] as const) {
          const res = await h.request(path);
          expect(res.status).toBe(status);
          expect(Problem.parse(await res.json()).status).toBe(status);
        }
      });
    },
  );
}
