import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { IDENTITY_ROLE_MAP, IdentityEnv, parseEnv, parseRoleMap } from '../../src/mod.ts';
import { startTestIssuer, type TestIssuer } from '../../testing/oidc-issuer.ts';
import { externalIssuerOptions } from './from-env.ts';
import { roleFromClaims } from './roles-claim.ts';
import { createTokenVerifier } from './token-verifier.ts';

describe('roleFromClaims', () => {
  const map = parseRoleMap('staff=reader,photographers=editor,/aex/admins=admin');

  test.each([
    [
      'Keycloak realm roles',
      { realm_access: { roles: ['offline_access', 'editor'] } },
      'realm_access.roles',
      IDENTITY_ROLE_MAP,
      'editor',
    ],
    [
      'the strongest role wins',
      { realm_access: { roles: ['reader', 'admin', 'editor'] } },
      'realm_access.roles',
      IDENTITY_ROLE_MAP,
      'admin',
    ],
    ['groups, mapped', { groups: ['staff', 'photographers'] }, 'groups', map, 'editor'],
    ['a group path with slashes', { groups: ['/aex/admins'] }, 'groups', map, 'admin'],
    ['one string instead of an array', { groups: 'staff' }, 'groups', map, 'reader'],
    [
      'an Auth0 namespaced claim',
      { 'https://aex.example/roles': ['admin'] },
      'https://aex.example/roles',
      IDENTITY_ROLE_MAP,
      'admin',
    ],
    ['no claim', {}, 'groups', map, null],
    ['no name that maps', { groups: ['visitors', 'Admin'] }, 'groups', map, null],
    ['a set map replaces the default', { groups: ['admin'] }, 'groups', map, null],
    ['names that are not strings', { groups: [1, { admin: true }, null] }, 'groups', map, null],
    [
      'prototype names map to nothing',
      { groups: ['__proto__', 'constructor', 'toString'] },
      'groups',
      map,
      null,
    ],
    [
      'a path through a non-object',
      { realm_access: 'admin' },
      'realm_access.roles',
      IDENTITY_ROLE_MAP,
      null,
    ],
  ] as const)('%s', (_name, claims, path, roleMap, role) => {
    expect(roleFromClaims(claims as Record<string, unknown>, path, roleMap)).toBe(role);
  });
});

describe('parseRoleMap', () => {
  test('pairs, trimmed; the last = separates the role', () => {
    expect(parseRoleMap(' a = admin , cn=staff=reader ,')).toEqual({
      a: 'admin',
      'cn=staff': 'reader',
    });
  });

  test.each([
    ['a role that is not one of ours', 'a=owner'],
    ['no role', 'a'],
    ['no name', '=admin'],
    ['a name mapped twice', 'a=admin,a=reader'],
    ['nothing', ' , '],
  ])('refuses %s', (_name, text) => {
    expect(() => parseRoleMap(text)).toThrow(/name=role|mapped twice|maps no name/);
  });
});

describe('IdentityEnv', () => {
  test('defaults: built-in issuer, audience aex, Keycloak claim, 30 s skew', () => {
    const env = parseEnv(IdentityEnv, {});
    expect(env).toEqual({
      AEX_OIDC_AUDIENCE: 'aex',
      AEX_ROLES_CLAIM: 'realm_access.roles',
      AEX_CLOCK_SKEW: 30_000,
    });
    expect(externalIssuerOptions(env)).toBeNull();
  });

  test('an external issuer becomes verifier options', () => {
    const env = parseEnv(IdentityEnv, {
      AEX_OIDC_ISSUER: 'https://id.example/realms/aex',
      AEX_ROLES_CLAIM: 'groups',
      AEX_ROLE_MAP: 'staff=reader',
      AEX_CLOCK_SKEW: '5s',
    });
    expect(externalIssuerOptions(env)).toEqual({
      issuer: 'https://id.example/realms/aex',
      audience: 'aex',
      jwksUrl: undefined,
      rolesClaim: 'groups',
      roleMap: { staff: 'reader' },
      clockSkewSec: 5,
    });
  });

  test('every bad variable is named', () => {
    expect(() =>
      parseEnv(IdentityEnv, {
        AEX_OIDC_ISSUER: 'ftp://id.example',
        AEX_ROLE_MAP: 'staff=boss',
        AEX_ROLES_CLAIM: 'a..b',
        AEX_CLOCK_SKEW: 'soon',
      }),
    ).toThrow(/AEX_OIDC_ISSUER[\s\S]*AEX_ROLES_CLAIM[\s\S]*AEX_ROLE_MAP[\s\S]*AEX_CLOCK_SKEW/);
  });
});

describe('roles from real tokens', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await startTestIssuer();
  });
  afterAll(() => issuer.stop());

  test('a groups claim through a role map', async () => {
    const verifier = createTokenVerifier({
      issuer: issuer.issuer,
      audience: 'aex',
      jwksUrl: issuer.jwksUrl,
      rolesClaim: 'groups',
      roleMap: parseRoleMap('staff=reader,photographers=editor'),
    });
    const editor = await issuer.sign({ groups: ['staff', 'photographers'] });
    expect((await verifier.verify(editor)).role).toBe('editor');
    const nobody = await issuer.sign({ groups: ['visitors'], realm_access: { roles: ['admin'] } });
    expect((await verifier.verify(nobody)).role).toBeNull();
  });
});
