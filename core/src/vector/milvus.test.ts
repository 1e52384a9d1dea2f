import { describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { randomToken, reachable } from '@aex/shared/testing/servers';
import {
  checkCollectionFieldsWithOptions,
  formatCollectionSchema,
  MilvusClient,
} from '@zilliz/milvus2-sdk-node';
import { exactScore, vectorIndexContract } from './contract.ts';
import { createMilvusIndex } from './milvus.ts';
import { classifyMilvusError, MilvusStatusError, ok, toVectorIndexError } from './milvus-errors.ts';
import { filterExpression, idsExpression, quote } from './milvus-expr.ts';
import {
  collectionRequest,
  indexRequest,
  METRICS,
  parseSpecDescription,
  searchParams,
  specDescription,
} from './milvus-spec.ts';
import {
  type CollectionSpec,
  type VectorFilter,
  VectorIndexError,
  type VectorMetric,
} from './vector-index.ts';

const id = randomUUID();

describe('Milvus filter expressions', () => {
  test('visibility and ids, quoted and lowercased; nothing → "", an empty id list → null', () => {
    expect(filterExpression(undefined)).toBe('');
    expect(filterExpression({})).toBe('');
    expect(filterExpression({ visibility: 'public' })).toBe('visibility == "public"');
    expect(filterExpression({ ids: [id.toUpperCase()] })).toBe(`id in ["${id}"]`);
    expect(filterExpression({ visibility: 'internal', ids: [id, id] })).toBe(
      `visibility == "internal" and id in ["${id}", "${id}"]`,
    );
    expect(filterExpression({ ids: [] })).toBeNull();
    expect(filterExpression({ visibility: 'public', ids: [] })).toBeNull();
    expect(idsExpression([id])).toBe(`id in ["${id}"]`);
  });

  test.each([
    { ids: [`${id}"] or id != ["`] },
    { ids: ['" or 1 == 1 or "'] },
    { ids: [`${id}\n`] },
    { ids: [42 as never] },
    { visibility: 'public" or visibility != "' as never },
    { visibility: 'secret' as never },
  ] as VectorFilter[])('an injection attempt throws VectorIndexError: %j', (filter) => {
    expect(() => filterExpression(filter)).toThrow(VectorIndexError);
  });

  test('quote escapes what could end a Milvus string literal', () => {
    expect(quote('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
    expect(quote('')).toBe('""');
  });
});

// Five points and one query as in the contract; Milvus's raw scores computed here as Milvus
// defines them (COSINE: similarity, L2: SQUARED distance, IP: dot product).
const QUERY = [1, 0, 0];
const POINTS = [
  [1, 0, 0],
  [0.8, 0.6, 0],
  [0, 1, 0],
  [-1, 0, 0],
  [2, 0.5, 0],
];
function milvusRaw(metric: VectorMetric, a: number[], b: number[]): number {
  const dot = a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  if (metric === 'cosine') return dot / (norm(a) * norm(b));
  if (metric === 'ip') return dot;
  return a.reduce((s, x, i) => s + (x - (b[i] ?? 0)) ** 2, 0);
}

describe('Milvus scores', () => {
  test.each(['cosine', 'l2', 'ip'] as const)(
    '%s: raw → the port’s score and distance',
    (metric) => {
      for (const point of POINTS) {
        const { score, distance } = METRICS[metric].hit(milvusRaw(metric, QUERY, point));
        expect(score).toBeCloseTo(exactScore(metric, QUERY, point), 10);
        expect(distance).toBeCloseTo(metric === 'cosine' ? 1 - score : -score, 10);
      }
    },
  );

  test('l2: squared distances are rooted, clamped at 0, and never give −0', () => {
    expect(METRICS.l2.hit(9)).toEqual({ score: -3, distance: 3 });
    expect(METRICS.l2.hit(-1e-7)).toEqual({ score: 0, distance: 0 });
    expect(Object.is(METRICS.l2.hit(0).score, -0)).toBe(false);
  });

  test('metric types and HNSW parameters', () => {
    expect([METRICS.cosine.milvus, METRICS.l2.milvus, METRICS.ip.milvus]).toEqual([
      'COSINE',
      'L2',
      'IP',
    ]);
    expect(searchParams(1).ef).toBeGreaterThanOrEqual(1);
    expect(searchParams(1000).ef).toBe(1000);
    const spec: CollectionSpec = { model: { id: 'm', version: '1' }, dimension: 8, metric: 'ip' };
    expect(indexRequest('c', spec)).toMatchObject({
      index_type: 'HNSW',
      metric_type: 'IP',
      params: { M: 16, efConstruction: 200 },
    });
  });
});

describe('Milvus collection spec', () => {
  const spec: CollectionSpec = {
    model: { id: 'openai/clip "ViT-B/32"', version: '2024-01 ✓' },
    dimension: 512,
    metric: 'cosine',
  };

  test('the description round-trips the spec; anything else is not ours', () => {
    expect(parseSpecDescription(specDescription(spec))).toEqual(spec);
    const marker = specDescription(spec).split(' ')[0];
    for (const bad of [
      undefined,
      '',
      'a collection made by hand',
      JSON.stringify(spec),
      `${marker} {not json`,
      `${marker} null`,
      `${marker} ${JSON.stringify({ ...spec, metric: 'hamming' })}`,
      `${marker} ${JSON.stringify({ ...spec, dimension: 0 })}`,
      `${marker} ${JSON.stringify({ ...spec, model: { id: '', version: '1' } })}`,
    ]) {
      expect(parseSpecDescription(bad)).toBeUndefined();
    }
  });

  test('the schema passes the SDK’s checks and encodes as Milvus will read it', async () => {
    const req = collectionRequest('aex_x', spec, 'Strong');
    expect(checkCollectionFieldsWithOptions(req.fields)).toBe(true);
    // The SDK's own encoder, as createCollection uses it; no server is contacted.
    const sdk = new MilvusClient({ address: '127.0.0.1:1', __SKIP_CONNECT__: true });
    try {
      // The client's (protected) schema types: what createCollection encodes with.
      type ProtoType = Parameters<typeof formatCollectionSchema>[1][string];
      const proto = (sdk as unknown as { schemaProto: { lookupType(n: string): ProtoType } })
        .schemaProto;
      const types = {
        collectionSchemaType: proto.lookupType('milvus.proto.schema.CollectionSchema'),
        fieldSchemaType: proto.lookupType('milvus.proto.schema.FieldSchema'),
        functionSchemaType: proto.lookupType('milvus.proto.schema.FunctionSchema'),
        structArrayFieldSchemaType: proto.lookupType('milvus.proto.schema.StructArrayFieldSchema'),
      };
      const T = types.collectionSchemaType;
      const bytes = T.encode(T.create(formatCollectionSchema(req, types))).finish();
      // The schema proto's own field names (camelCase), as the server decodes them.
      const schema = T.toObject(T.decode(bytes), { enums: String }) as {
        description: string;
        fields: Array<{
          name: string;
          dataType: string;
          isPrimaryKey?: boolean;
          typeParams?: Array<{ key: string; value: string }>;
        }>;
      };
      expect(parseSpecDescription(schema.description)).toEqual(spec);
      const params = (name: string) =>
        Object.fromEntries(
          (schema.fields.find((f) => f.name === name)?.typeParams ?? []).map((p) => [
            p.key,
            p.value,
          ]),
        );
      expect(schema.fields.map((f) => [f.name, f.dataType, f.isPrimaryKey ?? false])).toEqual([
        ['id', 'VarChar', true],
        ['embedding', 'FloatVector', false],
        ['visibility', 'VarChar', false],
      ]);
      expect(params('id').max_length).toBe('36');
      expect(params('embedding').dim).toBe('512');
      expect(params('visibility').max_length).toBe('16');
    } finally {
      await sdk.closeConnection();
    }
  });
});

describe('Milvus errors', () => {
  const grpc = (code: number, message: string) => Object.assign(new Error(message), { code });

  test.each([
    ['gRPC UNAVAILABLE', grpc(14, '14 UNAVAILABLE: No connection established'), 'unreachable'],
    ['gRPC DEADLINE_EXCEEDED', grpc(4, '4 DEADLINE_EXCEEDED: Deadline exceeded'), 'unreachable'],
    ['gRPC UNAUTHENTICATED', grpc(16, '16 UNAUTHENTICATED: auth check failure'), 'auth'],
    ['status code 1800', { status: { error_code: 'UnexpectedError', code: 1800 } }, 'auth'],
    ['PermissionDenied', { error_code: 'PermissionDenied', reason: 'not permitted' }, 'auth'],
    ['status code 100', { error_code: 'UnexpectedError', code: 100, reason: '' }, 'not_found'],
    ['SDK load error', new Error('ErrorCode: X. Reason: collection not found[x]'), 'not_found'],
    ['a TypeError', new TypeError('undefined is not an object'), 'other'],
  ] as const)('%s → %s', (_, err, kind) => {
    expect(classifyMilvusError(err)).toBe(kind);
  });

  test('ok passes success and throws the status of anything else', () => {
    const fine = { status: { error_code: 'Success', code: 0, reason: '' }, data: [] };
    expect(ok(fine)).toBe(fine);
    expect(ok({ error_code: 'Success', reason: '' })).toEqual({
      error_code: 'Success',
      reason: '',
    });
    expect(ok(undefined)).toBeUndefined();
    expect(() => ok({ error_code: 'UnexpectedError', reason: 'bad' })).toThrow(MilvusStatusError);
    expect(() => ok({ status: { error_code: 'Success', code: 1100, reason: 'x' } })).toThrow('x');
  });

  test('a VectorIndexError names the address and what to check, and keeps the cause', () => {
    const cause = grpc(14, 'no route');
    const err = toVectorIndexError(cause, { address: 'milvus:19530', action: 'connect' });
    expect(err).toBeInstanceOf(VectorIndexError);
    expect(err.message).toContain('milvus:19530');
    expect(err.message).toContain('MILVUS_ADDRESS');
    expect(err.cause).toBe(cause);
    const auth = toVectorIndexError(grpc(16, 'bad token'), { address: 'm', action: 'connect' });
    expect(auth.message).toContain('credentials');
  });

  test('createMilvusIndex: bad options throw before connecting; no server → VectorIndexError', async () => {
    await expect(createMilvusIndex({ address: '' })).rejects.toThrow('MILVUS_ADDRESS');
    const address = '127.0.0.1:1';
    await expect(createMilvusIndex({ address, collectionPrefix: 'aex-' })).rejects.toThrow(
      VectorIndexError,
    );
    await expect(createMilvusIndex({ address, consistency: 'Fast' as never })).rejects.toThrow(
      VectorIndexError,
    );
    // Port 1 on the loopback: refused at once, a real connection attempt by the SDK.
    const err = await createMilvusIndex({ address, timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VectorIndexError);
    expect((err as Error).message).toContain(address);
    expect((err as Error).message).toContain('MILVUS_ADDRESS');
  }, 15_000);
});

// The one contract, against a real Milvus only (DESIGN.md: an adapter whose server is not
// reachable is reported as not tested, never as passing).
const MILVUS_ADDRESS = process.env.MILVUS_ADDRESS;
const milvusUrl = MILVUS_ADDRESS?.includes('://') ? MILVUS_ADDRESS : `http://${MILVUS_ADDRESS}`;
const milvusUp = MILVUS_ADDRESS ? await reachable(milvusUrl, 19530, 2000) : false;
const title = !MILVUS_ADDRESS
  ? 'Milvus (skipped: MILVUS_ADDRESS not set)'
  : milvusUp
    ? `Milvus at ${MILVUS_ADDRESS}`
    : `Milvus (skipped: Milvus not reachable at ${MILVUS_ADDRESS})`;

describe.skipIf(!milvusUp)(title, () => {
  vectorIndexContract(title, async () => {
    // A prefix of its own per run: runs never collide, and cleanup drops exactly its own.
    const index = await createMilvusIndex({
      address: MILVUS_ADDRESS ?? '',
      token: process.env.MILVUS_TOKEN,
      collectionPrefix: `aex_test_${randomToken(8)}_`,
      consistency: 'Strong',
    });
    return {
      index,
      async cleanup() {
        for (const c of await index.listCollections()) await index.dropCollection(c.spec.model);
        await index.close();
      },
    };
  });
});
