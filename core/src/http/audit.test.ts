import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { AuditList, UploadResult } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';
import { freshPng } from '../testing/route-matrix-fixtures.ts';

const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`audit log on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      let editor: { subject: string; displayName: string };
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
        editor = (await (await h.as('editor').request('/api/v1/auth/me')).json()) as typeof editor;
        // The harness makes the reader (and records it) the first time one is needed: now.
        await h.credentials.token('reader');
      }, 60_000);
      afterAll(async () => {
        await h?.stop();
      });

      const audit = async (query = '') => {
        const res = await h.request(`/api/v1/admin/audit${query}`);
        expect(res.status).toBe(200);
        return AuditList.parse(await res.json());
      };

      test('an upload and an edit name who made them, what, and in which request', async () => {
        const uploaded = await h.as('editor').request('/api/v1/images', {
          method: 'POST',
          body: await freshPng(),
        });
        expect(uploaded.status).toBe(201);
        const { image } = UploadResult.parse(await uploaded.json());
        const patch = { description: 'Harbour at dusk', visibility: 'public' };
        const edited = await h
          .as('editor')
          .request(`/api/v1/images/${image.id}`, json('PATCH', patch));
        expect(edited.status).toBe(200);

        const { items } = await audit(`?targetType=image&targetId=${image.id}`);
        expect(items.map((e) => e.action)).toEqual(['image.update', 'image.upload']);
        expect(items[1]).toMatchObject({
          actor: { subject: editor.subject, name: 'Harness editor' },
          target: { type: 'image', id: image.id },
          requestId: uploaded.headers.get('x-request-id'),
          details: null,
        });
        expect(items[0]).toMatchObject({
          requestId: edited.headers.get('x-request-id'),
          details: patch,
        });
      });

      test('refused and failed changes, replays and re-uploads of stored bytes record nothing', async () => {
        const before = (await audit('?limit=500')).items.length;
        const png = await freshPng();
        const headers = { 'idempotency-key': crypto.randomUUID() };
        for (let i = 0; i < 2; i++) {
          await h.as('editor').request('/api/v1/images', { method: 'POST', headers, body: png });
        }
        // The same bytes without the key: the stored image again (200), nothing changed.
        expect(
          (await h.as('editor').request('/api/v1/images', { method: 'POST', body: png })).status,
        ).toBe(200);
        await h.as('reader').request('/api/v1/albums', json('POST', { name: 'not allowed' }));
        await h.as('editor').request(`/api/v1/images/${crypto.randomUUID()}`, { method: 'DELETE' });
        await h.as('editor').request('/api/v1/albums', json('POST', { name: '' }));
        const after = (await audit('?limit=500')).items;
        expect(after.slice(0, after.length - before).map((e) => e.action)).toEqual([
          'image.upload',
        ]);
      });

      test('created things are named by their new id; secrets sent are never kept', async () => {
        const album = await h
          .as('editor')
          .request('/api/v1/albums', json('POST', { name: 'Trips' }));
        const { id: albumId } = (await album.json()) as { id: string };
        const key = await h.request(
          '/api/v1/admin/api-keys',
          json('POST', { name: 'ci', role: 'editor' }),
        );
        const { id: keyId, key: secret } = (await key.json()) as { id: string; key: string };
        const user = await h.request(
          '/api/v1/admin/users',
          json('POST', {
            email: 'ann@aex.test',
            role: 'reader',
            password: 'correct horse battery',
          }),
        );
        const { id: userId } = (await user.json()) as { id: string };

        const { items } = await audit('?limit=3');
        expect(items.map((e) => [e.action, e.target.id])).toEqual([
          ['user.create', userId],
          ['apikey.create', keyId],
          ['album.create', albumId],
        ]);
        expect(items[0]?.details).toMatchObject({ email: 'ann@aex.test', password: '[redacted]' });
        const everything = JSON.stringify((await audit('?limit=500')).items);
        expect(everything).not.toContain('correct horse battery');
        expect(everything).not.toContain(secret.split('_').at(-1) as string);
      });

      test('filters by actor and action; pages without gaps or repeats', async () => {
        const mine = await audit(`?actor=${encodeURIComponent(editor.subject)}&limit=500`);
        expect(mine.items.length).toBeGreaterThan(2);
        expect(new Set(mine.items.map((e) => e.actor.subject))).toEqual(new Set([editor.subject]));
        const creates = await audit('?action=album.create');
        expect(creates.items.every((e) => e.action === 'album.create')).toBe(true);

        const all = (await audit('?limit=500')).items.map((e) => e.id);
        const paged: string[] = [];
        let cursor: string | null = null;
        do {
          const page: AuditList = await audit(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
          paged.push(...page.items.map((e) => e.id));
          cursor = page.nextCursor;
        } while (cursor);
        expect(paged).toEqual(all);
      });

      test.each([
        ['?limit=0'],
        ['?limit=501'],
        ['?cursor=not-a-cursor'],
        [`?targetId=${crypto.randomUUID()}`],
        [`?actor=${'x'.repeat(300)}`],
      ])('%s is a 400', async (query) => {
        const res = await h.request(`/api/v1/admin/audit${query}`);
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
      });

      test('the log is private to admins', async () => {
        expect((await h.as('editor').request('/api/v1/admin/audit')).status).toBe(403);
        const res = await h.request('/api/v1/admin/audit');
        expect(res.headers.get('cache-control')).toBe('private, no-store');
      });
    },
  );
}
