import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ImageList, Problem, UploadResult } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import sharp from 'sharp';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';
import {
  cleanFileName,
  parseFileModified,
  uploadOptionsFromHeaders,
  uploadOptionsFromTusMetadata,
} from './upload-headers.ts';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

describe('cleanFileName: a display name, never a path', () => {
  test.each([
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\Windows\\System32\\cmd.exe', 'cmd.exe'],
    ['C:\\Users\\me\\IMG_0001.JPG', 'IMG_0001.JPG'],
    ['/absolute/path/photo.jpg', 'photo.jpg'],
    ['photo.jpg/', undefined],
    ['..', undefined],
    ['.', undefined],
    ['   ', undefined],
    ['a\u0000b\u0007c\u007f\u0085.jpg', 'abc.jpg'],
    ['line\r\nbreak.jpg', 'linebreak.jpg'],
    ['photo\u202Egpj.exe', 'photogpj.exe'],
    ['zero\u200Bwidth\uFEFF.png', 'zerowidth.png'],
    ['e\u0301te\u0301.jpg', '\u00e9t\u00e9.jpg'],
    ['  spaced name.jpg  ', 'spaced name.jpg'],
    ['.hidden', '.hidden'],
  ])('%j → %j', (raw, expected) => {
    expect(cleanFileName(raw)).toBe(expected as string | undefined);
  });

  test('long names are cut at 255 UTF-8 bytes, on a character boundary, keeping the extension', () => {
    for (const raw of [`${'é'.repeat(300)}.jpeg`, `${'📷'.repeat(100)}.heic`, 'x'.repeat(1000)]) {
      const name = cleanFileName(raw) as string;
      expect(utf8Bytes(name)).toBeLessThanOrEqual(255);
      expect(utf8Bytes(name)).toBeGreaterThan(240);
      expect(name).not.toContain('\uFFFD');
      expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name);
      if (raw.includes('.')) expect(name.endsWith(raw.slice(raw.lastIndexOf('.')))).toBe(true);
    }
  });
});

describe('parseFileModified', () => {
  const now = Date.parse('2025-06-01T00:00:00Z');
  test.each([
    ['2024-05-01T12:30:00Z', '2024-05-01T12:30:00.000Z'],
    ['2024-05-01T12:30:00.123+02:00', '2024-05-01T10:30:00.123Z'],
    ['2024-05-01', '2024-05-01T00:00:00.000Z'],
    ['1714566600000', '2024-05-01T12:30:00.000Z'],
    ['-2208988800000', '1900-01-01T00:00:00.000Z'],
  ])('%s', (raw, iso) => {
    expect(parseFileModified(raw, 'X', now).toISOString()).toBe(iso);
  });
  test.each([
    'yesterday',
    '1e400',
    'NaN',
    'Infinity',
    '0x1F',
    '2024-13-45T00:00:00Z',
    '2024-05-01T12:30:00Z; DROP TABLE images',
    '99999999999999', // year 5138
    '-99999999999999', // before 1800
    '2025-06-03T00:00:00Z', // two days after "now"
    '1714566600000.5',
  ])('refuses %j, naming the header', (raw) => {
    expect(() => parseFileModified(raw, 'X-Aex-File-Modified', now)).toThrow(/X-Aex-File-Modified/);
  });
});

describe('uploadOptionsFromHeaders and Upload-Metadata', () => {
  const headers = (h: Record<string, string>) => new Headers(h);
  test('all three, decoded', () => {
    const options = uploadOptionsFromHeaders(
      headers({
        'x-aex-file-name': encodeURIComponent('../Ferien/Strand 🌊.jpg'),
        'x-aex-file-modified': '2024-05-01T12:30:00Z',
        'x-aex-sidecar': b64url({ source: 'xmp', rating: 4, keywords: ['beach'] }),
      }),
    );
    expect(options).toEqual({
      fileName: 'Strand 🌊.jpg',
      fileModifiedAt: new Date('2024-05-01T12:30:00Z'),
      sidecar: { source: 'xmp', rating: 4, keywords: ['beach'] },
    });
    expect(uploadOptionsFromHeaders(headers({}))).toEqual({});
  });

  test.each([
    [{ 'x-aex-file-name': '%E0%A4%A' }, /X-Aex-File-Name/],
    [{ 'x-aex-file-name': '%FF%FE' }, /X-Aex-File-Name/],
    [{ 'x-aex-sidecar': 'not base64!' }, /X-Aex-Sidecar must be base64url/],
    [{ 'x-aex-sidecar': Buffer.from('{"source":').toString('base64url') }, /not JSON/],
    [{ 'x-aex-sidecar': b64url({ source: 'xmp', rating: 9 }) }, /X-Aex-Sidecar.*rating/],
    [{ 'x-aex-sidecar': b64url({ source: 'xmp', evil: true }) }, /X-Aex-Sidecar.*evil/],
    [{ 'x-aex-sidecar': b64url({ source: 'icloud' }) }, /X-Aex-Sidecar.*source/],
    [{ 'x-aex-sidecar': b64url([1, 2]) }, /X-Aex-Sidecar/],
    [{ 'x-aex-sidecar': 'A'.repeat(200_000) }, /X-Aex-Sidecar must be base64url/],
    [{ 'x-aex-file-modified': 'soon' }, /X-Aex-File-Modified/],
  ])('%j is a 400 naming the header', (h, message) => {
    expect(() => uploadOptionsFromHeaders(headers(h as Record<string, string>))).toThrow(message);
  });

  test('tus metadata: filename (or name), modified, sidecar as JSON', () => {
    expect(
      uploadOptionsFromTusMetadata({
        name: '../../etc/passwd',
        filetype: 'image/jpeg',
        modified: '1714566600000',
        sidecar: JSON.stringify({ source: 'takeout', description: 'Beach' }),
      }),
    ).toEqual({
      fileName: 'passwd',
      fileModifiedAt: new Date('2024-05-01T12:30:00Z'),
      sidecar: { source: 'takeout', description: 'Beach' },
    });
    expect(() => uploadOptionsFromTusMetadata({ sidecar: '{"source":"xmp","x":1}' })).toThrow(
      /Upload-Metadata sidecar/,
    );
    expect(() => uploadOptionsFromTusMetadata({ modified: 'later' })).toThrow(
      /Upload-Metadata modified/,
    );
  });
});

/** A small PNG without metadata; `seed` makes its bytes (and sha256) unique. */
async function png(seed: number): Promise<Uint8Array<ArrayBuffer>> {
  const background = { r: seed % 256, g: (seed * 7) % 256, b: (seed * 13) % 256 };
  return new Uint8Array(
    await sharp({ create: { width: 40, height: 30, channels: 3, background } })
      .png()
      .toBuffer(),
  );
}

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`upload headers over HTTP on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
      }, 30_000);
      afterAll(async () => {
        await h?.stop();
      });

      const post = async (body: Uint8Array<ArrayBuffer>, headers: Record<string, string>) =>
        h.request('/api/v1/images', { method: 'POST', body, headers });

      test('a hostile name is stored as its base name; storage stays by content', async () => {
        const res = await post(await png(1), {
          'x-aex-file-name': encodeURIComponent('../../etc/passwd'),
        });
        expect(res.status).toBe(201);
        const { image } = UploadResult.parse(await res.json());
        expect(image.originalName).toBe('passwd');
        expect((await h.blobKeys()).every((k) => !k.includes('passwd'))).toBe(true);
      });

      test('the modified time is the taken-at of a photo that says nothing; the sidecar applies', async () => {
        const res = await post(await png(2), {
          'x-aex-file-name': encodeURIComponent('Strand 🌊.png'),
          'x-aex-file-modified': '1714566600000',
          'x-aex-sidecar': b64url({
            source: 'takeout',
            description: 'At the beach',
            keywords: ['beach', 'summer'],
            rating: 5,
          }),
        });
        expect(res.status).toBe(201);
        const { image } = UploadResult.parse(await res.json());
        expect(image).toMatchObject({
          originalName: 'Strand 🌊.png',
          takenAt: '2024-05-01T12:30:00.000Z',
          takenAtSource: 'file',
          description: 'At the beach',
          rating: 5,
        });
        expect(image.keywords).toEqual(expect.arrayContaining(['beach', 'summer']));
      });

      test.each([
        ['x-aex-file-name', '%zz', /X-Aex-File-Name/],
        ['x-aex-file-modified', '9999-01-01T00:00:00Z', /X-Aex-File-Modified/],
        ['x-aex-file-modified', 'last tuesday', /X-Aex-File-Modified/],
        ['x-aex-sidecar', '{"source":"xmp"}', /X-Aex-Sidecar/],
        [
          'x-aex-sidecar',
          b64url({ source: 'xmp', location: { latitude: 91, longitude: 0 } }),
          /X-Aex-Sidecar.*latitude/,
        ],
      ])('forged %s %j: 400 problem, nothing written', async (name, value, detail) => {
        const keysBefore = await h.blobKeys();
        const listBefore = ImageList.parse(await (await h.request('/api/v1/images')).json());
        const res = await post(await png(100 + value.length), { [name]: value });
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        const problem = Problem.parse(await res.json());
        expect(problem.code).toBe('invalid_input');
        expect(problem.detail).toMatch(detail);
        expect(await h.blobKeys()).toEqual(keysBefore);
        expect(await h.spoolFiles()).toEqual([]);
        const list = ImageList.parse(await (await h.request('/api/v1/images')).json());
        expect(list.items.length).toBe(listBefore.items.length);
      });
    },
  );
}
