import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ImageList } from '@aex/shared';
import { REPO_ROOT } from '@aex/shared/testing/processes';
import { type CoreHarness, startCoreHarness } from '../../src/testing/core-harness.ts';
import { CredentialRefusedError } from '../credentials.ts';
import { FileFactsCache } from './file-facts.ts';
import { importTree } from './importer.ts';

const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');

const XMP = `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmp:Rating="4"
    xmp:MetadataDate="2030-01-01T10:00:00+01:00">
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Lakeside at dawn</rdf:li></rdf:Alt></dc:description>
   <dc:subject><rdf:Bag><rdf:li>lake</rdf:li><rdf:li>dawn</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;

const TAKEOUT = JSON.stringify({
  title: 'DSCN0010.jpg',
  description: 'Holiday in Tuscany',
  photoTakenTime: { timestamp: '1224777600', formatted: 'Oct 23, 2008' },
  geoData: {
    latitude: 43.4674,
    longitude: 11.8851,
    altitude: 0,
    latitudeSpan: 0,
    longitudeSpan: 0,
  },
  photoLastModifiedTime: { timestamp: '1893456000' },
});

describe('aex import', () => {
  let h: CoreHarness;
  let server: ReturnType<typeof Bun.serve>;
  let root: string;
  let base: string;
  /** An editor's API key: uploads need one. */
  let editorKey: string;
  const asEditor = () => ({ authorization: `Bearer ${editorKey}` });

  beforeAll(async () => {
    h = await startCoreHarness('embedded');
    editorKey = await h.credentials.apiKey('editor');
    server = Bun.serve({ port: 0, fetch: (r) => h.core.fetch(r), maxRequestBodySize: 1024 ** 3 });
    base = `http://127.0.0.1:${server.port}`;
    root = await mkdtemp(join(tmpdir(), 'aex-import-'));
    const put = async (rel: string, from: string) => {
      await mkdir(join(root, rel, '..'), { recursive: true });
      await copyFile(join(FIXTURES, from), join(root, rel));
    };
    await put('a/cat.jpg', 'objects/cat.jpg');
    await put('a/copy of cat.jpg', 'objects/cat.jpg');
    await put('b/Canon_40D.jpg', 'exif-samples/jpg/Canon_40D.jpg');
    await writeFile(join(root, 'b/Canon_40D.jpg.xmp'), XMP);
    await put('c/DSCN0010.jpg', 'exif-samples/jpg/gps/DSCN0010.jpg');
    await writeFile(join(root, 'c/DSCN0010.jpg.json'), TAKEOUT);
    await put('c/broken.jpg', 'exif-samples/jpg/corrupted.jpg');
    await writeFile(join(root, 'c/empty.jpg'), '');
    // An MP4 header: a video, which the importer skips rather than fails.
    await writeFile(
      join(root, 'clip.mp4'),
      Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex'),
    );
    await writeFile(join(root, 'notes.txt'), 'not a photo');
    await put('.trash/old.jpg', 'objects/rose.jpg');
  });
  afterAll(async () => {
    await server?.stop(true);
    await h?.stop();
    await rm(root, { recursive: true, force: true });
  });

  const quiet = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;

  test('imports the photos with their sidecars and reports each failure with its reason', async () => {
    const summary = await importTree({
      root,
      server: base,
      headers: asEditor(),
      concurrency: 3,
      progress: quiet,
      cache: await FileFactsCache.open(null),
    });
    expect(summary).toMatchObject({ images: 5, imported: 3, duplicates: 1, alreadyIn: 0 });
    expect(summary.failed.map((f) => f.rel)).toEqual(['c/broken.jpg', 'c/empty.jpg']);
    expect(summary.failed[0]?.reason).toContain('could not be decoded');
    expect(summary.failed[1]?.reason).toContain('empty');
    expect(summary.skipped.map((s) => s.rel)).toContain('clip.mp4');
    expect(summary.skipped.find((s) => s.rel === 'clip.mp4')?.reason).toContain('video/mp4');

    const list = ImageList.parse(await (await h.request('/api/v1/images?limit=50')).json());
    const byName = new Map(list.items.map((i) => [i.originalName, i]));
    expect([...byName.keys()].sort()).toEqual(['Canon_40D.jpg', 'DSCN0010.jpg', 'cat.jpg']);
    // The XMP sidecar is newer than the file's metadata: its values win.
    expect(byName.get('Canon_40D.jpg')).toMatchObject({
      description: 'Lakeside at dawn',
      rating: 4,
    });
    expect(byName.get('Canon_40D.jpg')?.keywords).toEqual(expect.arrayContaining(['lake', 'dawn']));
    expect(byName.get('DSCN0010.jpg')?.description).toBe('Holiday in Tuscany');
  });

  test('a rerun uploads nothing that is already in', async () => {
    const summary = await importTree({
      root,
      server: base,
      headers: asEditor(),
      concurrency: 3,
      progress: quiet,
      cache: await FileFactsCache.open(null),
    });
    expect(summary).toMatchObject({ imported: 0, alreadyIn: 3, duplicates: 1, bytesUploaded: 0 });
    expect(summary.failed).toHaveLength(2);
  });

  test('the command: progress with rates on stderr, summary on stdout, exit 1 when some failed', async () => {
    const proc = Bun.spawn(
      [
        process.execPath,
        'core/bin/aex.ts',
        'import',
        root,
        '--server',
        base,
        '--no-cache',
        '--concurrency',
        '2',
      ],
      {
        cwd: REPO_ROOT,
        stdout: 'pipe',
        stderr: 'pipe',
        env: { ...process.env, AEX_API_KEY: editorKey },
      },
    );
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(code).toBe(1);
    expect(err).toMatch(/importing .*files.*uploaded.*images\/s.*MB\/s.*ETA/);
    expect(out).toContain('already in 3');
    expect(out).toContain('c/broken.jpg: ');
    const usage = Bun.spawn([process.execPath, 'core/bin/aex.ts', 'import'], {
      cwd: REPO_ROOT,
      stderr: 'pipe',
    });
    expect(await usage.exited).toBe(2);
  });

  test('a server that does not answer stops the run with where it tried, not a file failure each', async () => {
    const gone = Bun.serve({ port: 0, fetch: () => new Response('') });
    const url = `http://127.0.0.1:${gone.port}`;
    await gone.stop(true);
    const err = await importTree({
      root,
      server: url,
      headers: asEditor(),
      concurrency: 2,
      progress: quiet,
      cache: await FileFactsCache.open(null),
    }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toContain(`the server at ${url} did not answer`);
  }, 20_000);

  test('without a credential, or with a reader key, nothing is uploaded and it says what to pass', async () => {
    const run = async (headers: Record<string, string>) =>
      importTree({
        root,
        server: base,
        headers,
        concurrency: 2,
        progress: quiet,
        cache: await FileFactsCache.open(null),
      }).then(
        () => null,
        (err: Error) => err,
      );
    const none = await run({});
    expect(none).toBeInstanceOf(CredentialRefusedError);
    expect(none?.message).toContain('--api-key');
    const reader = await run({
      authorization: `Bearer ${await h.credentials.apiKey('reader')}`,
    });
    expect(reader?.message).toContain('needs the editor role');

    const proc = Bun.spawn(
      [process.execPath, 'core/bin/aex.ts', 'import', root, '--server', base],
      {
        cwd: REPO_ROOT,
        stdout: 'pipe',
        stderr: 'pipe',
        env: { ...process.env, AEX_API_KEY: '', AEX_TOKEN: '' },
      },
    );
    const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(1);
    expect(err).toContain('AEX_API_KEY');
    const bad = Bun.spawn(
      [process.execPath, 'core/bin/aex.ts', 'import', root, '--api-key', 'not-a-key'],
      { cwd: REPO_ROOT, stderr: 'pipe' },
    );
    expect(await bad.exited).toBe(2);
  });
});
