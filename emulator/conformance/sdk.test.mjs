// Auth0's official Node SDK (auth0 v7) against the emulator over https.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { ManagementClient, ManagementError, Management, TokenProvider } from 'auth0';
import { admin, audience, clientId, clientSecret, domain, requests, reset, storedProfiles, tenantPath } from './helpers.mjs';

const management = (options = {}) => new ManagementClient({ domain, clientId, clientSecret, ...options });
const idPattern = /^cop_[A-Za-z0-9]{22}$/;

beforeEach(reset);

test('token flow: the client-credentials grant gives a JWT the API accepts', async () => {
  const provider = new TokenProvider({ domain, clientId, clientSecret, audience });
  const token = await provider.getAccessToken();
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  assert.equal(claims.exp - claims.iat, 86400);
  assert.equal(claims.aud, audience);
  // The four connection-profile scopes and the ten of user attribute and self-service profiles.
  assert.equal(claims.scope.split(' ').length, 14);
  const client = new ManagementClient({ domain, token });
  const page = await client.connectionProfiles.list({ take: 10 });
  assert.deepEqual(page.data, []);
  const log = await requests();
  assert.deepEqual(log.map((entry) => [entry.method, entry.path, entry.status]), [
    ['POST', '/oauth/token', 200],
    ['GET', '/api/v2/connection-profiles', 200],
  ]);
});

test('token flow: bad credentials are a 401 access_denied', async () => {
  const provider = new TokenProvider({ domain, clientId, clientSecret: 'wrong', audience });
  await assert.rejects(provider.getAccessToken(), (error) => {
    assert.ok(error instanceof ManagementError, String(error));
    assert.equal(error.statusCode, 401);
    assert.deepEqual(error.body, { error: 'access_denied', error_description: 'Unauthorized' });
    return true;
  });
});

test('unauthorized: a token the tenant did not issue is an UnauthorizedError', async () => {
  const forged = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
  await assert.rejects(new ManagementClient({ domain, token: forged }).connectionProfiles.list({ take: 10 }), (error) => {
    assert.ok(error instanceof Management.UnauthorizedError, String(error));
    assert.equal(error.statusCode, 401);
    assert.equal(error.body.message, 'Invalid token.');
    return true;
  });
});

test('create, get, update, delete', async () => {
  const client = management();
  const body = {
    name: 'Conformance',
    organization: { show_as_button: 'optional', assign_membership_on_login: 'required' },
    connection_name_prefix_template: 'con-{org_id}-',
    enabled_features: ['scim', 'universal_logout'],
    connection_config: {},
  };
  const created = await client.connectionProfiles.create(body);
  assert.match(created.id, idPattern);
  // An unset strategy_overrides is left out, as in the later recordings from real tenants.
  assert.deepEqual(created, { ...body, id: created.id });
  assert.deepEqual(await client.connectionProfiles.get(created.id), created);

  const updated = await client.connectionProfiles.update(created.id, {
    enabled_features: ['scim'],
    strategy_overrides: { okta: { enabled_features: ['universal_logout'] } },
  });
  assert.deepEqual(updated.enabled_features, ['scim']);
  assert.equal(updated.name, 'Conformance');
  assert.deepEqual(updated.strategy_overrides, { okta: { enabled_features: ['universal_logout'] } });
  assert.deepEqual((await storedProfiles())[0], updated);

  await client.connectionProfiles.delete(created.id);
  assert.deepEqual(await storedProfiles(), []);
  await assert.rejects(client.connectionProfiles.get(created.id), (error) => {
    assert.ok(error instanceof Management.NotFoundError, String(error));
    assert.equal(error.statusCode, 404);
    assert.equal(error.body.message, 'Connection profile not found.');
    return true;
  });
  // The SDK's delete has no typed 404 (Auth0 documents none): a plain ManagementError.
  await assert.rejects(client.connectionProfiles.delete(created.id), (error) => {
    assert.ok(error instanceof ManagementError, String(error));
    assert.equal(error.statusCode, 404);
    return true;
  });
});

test('templates: list, get one, and create from it', async () => {
  const client = management();
  const { connection_profile_templates: templates } = await client.connectionProfiles.listTemplates();
  assert.ok(templates.length > 0);
  const one = await client.connectionProfiles.getTemplate(templates[0].id);
  assert.deepEqual(one, templates[0]);
  const created = await client.connectionProfiles.create(one.template);
  assert.equal(created.name, one.template.name);
  await assert.rejects(client.connectionProfiles.getTemplate('cpt_unknown'), Management.NotFoundError);
});

test('paging through 27 profiles, ten at a time', async () => {
  const client = management();
  const made = [];
  for (let i = 0; i < 27; i += 1) {
    made.push((await client.connectionProfiles.create({ name: `page-${String(i).padStart(2, '0')}` })).id);
  }
  let page = await client.connectionProfiles.list({ take: 10 });
  const pages = [page.data.length];
  const seen = [...page.data.map((p) => p.id)];
  while (page.hasNextPage()) {
    page = await page.getNextPage();
    pages.push(page.data.length);
    seen.push(...page.data.map((p) => p.id));
  }
  assert.deepEqual(pages, [10, 10, 7]);
  assert.deepEqual([...seen].sort(), [...made].sort());
  assert.equal(new Set(seen).size, 27);

  const iterated = [];
  for await (const profile of await client.connectionProfiles.list({ take: 10 })) iterated.push(profile.id);
  assert.deepEqual(iterated, seen);

  const lists = (await requests()).filter((entry) => entry.endpoint === 'list_profiles');
  assert.ok(lists.every((entry) => entry.status === 200 && /take=10/.test(entry.query)));
  assert.equal(lists.filter((entry) => /from=/.test(entry.query)).length, 4);
});

test('the SDK default list() (take=50) pages ten at a time to the end', async () => {
  const client = management();
  for (let i = 0; i < 20; i += 1) await client.connectionProfiles.create({ name: `default-${i}` });
  const seen = [];
  for await (const profile of await client.connectionProfiles.list()) seen.push(profile.id);
  assert.equal(seen.length, 20);
  assert.equal(new Set(seen).size, 20);
  const lists = (await requests()).filter((entry) => entry.endpoint === 'list_profiles');
  // 10, 10, then the recorded empty last page without `next`.
  assert.equal(lists.length, 3);
  assert.ok(lists.every((entry) => entry.status === 200 && /take=50/.test(entry.query)));
});

test('a create that leaves fields out gets the recorded defaults', async () => {
  const created = await management().connectionProfiles.create({ name: 'bare' });
  assert.deepEqual(created, {
    id: created.id,
    name: 'bare',
    organization: { show_as_button: 'none', assign_membership_on_login: 'none' },
    enabled_features: ['scim', 'universal_logout'],
    connection_config: null,
  });
});

test('conflict: a taken name is a ConflictError', async () => {
  const client = management();
  await client.connectionProfiles.create({ name: 'taken' });
  await assert.rejects(client.connectionProfiles.create({ name: 'taken' }), (error) => {
    assert.ok(error instanceof Management.ConflictError, String(error));
    assert.equal(error.statusCode, 409);
    assert.deepEqual(error.body, { statusCode: 409, error: 'Conflict', message: 'Connection profile conflict.' });
    return true;
  });
});

test('bad request: an unknown key is a BadRequestError naming it', async () => {
  await assert.rejects(management().connectionProfiles.create({ name: 'x', colour: 'red' }), (error) => {
    assert.ok(error instanceof Management.BadRequestError, String(error));
    assert.equal(error.body.errorCode, 'invalid_body');
    assert.match(error.body.message, /colour/);
    return true;
  });
});

test('too many requests: a TooManyRequestsError with the rate-limit headers', async () => {
  assert.equal((await admin('PUT', tenantPath('/rate-limit'), { burst: 3, per_second: 0.1 })).status, 200);
  const client = management({ maxRetries: 0 });
  for (let i = 0; i < 3; i += 1) await client.connectionProfiles.list({ take: 10 });
  await assert.rejects(client.connectionProfiles.list({ take: 10 }), (error) => {
    assert.ok(error instanceof Management.TooManyRequestsError, String(error));
    assert.equal(error.statusCode, 429);
    const headers = error.rawResponse.headers;
    assert.equal(headers.get('x-ratelimit-limit'), '3');
    assert.equal(headers.get('x-ratelimit-remaining'), '0');
    assert.ok(Number(headers.get('x-ratelimit-reset')) >= Math.floor(Date.now() / 1000));
    return true;
  });
});

test('forbidden: a missing scope and an unentitled tenant', async () => {
  const reader = new ManagementClient({ domain, clientId: 'reader-client', clientSecret: 'reader-secret' });
  await reader.connectionProfiles.list({ take: 10 });
  await assert.rejects(reader.connectionProfiles.create({ name: 'nope' }), (error) => {
    assert.ok(error instanceof Management.ForbiddenError, String(error));
    assert.equal(error.body.errorCode, 'insufficient_scope');
    assert.match(error.body.message, /create:connection_profiles/);
    return true;
  });
  await admin('PUT', tenantPath('/entitlement'), { entitled: false });
  await assert.rejects(management().connectionProfiles.list({ take: 10 }), (error) => {
    assert.ok(error instanceof Management.ForbiddenError, String(error));
    assert.equal(error.body.errorCode, 'insufficient_entitlement');
    return true;
  });
});

test('the SDK retries an injected 503 and succeeds', async () => {
  await admin('PUT', tenantPath('/faults'), [{ endpoint: 'create_profile', status: 503, times: 1 }]);
  const created = await management().connectionProfiles.create({ name: 'after-a-503' });
  assert.match(created.id, idPattern);
  const creates = (await requests()).filter((entry) => entry.endpoint === 'create_profile');
  assert.deepEqual(creates.map((entry) => entry.status), [503, 201]);
});

test('a connection dropped after the write: the SDK sees an error, the profile exists', async () => {
  await admin('PUT', tenantPath('/faults'), [{ endpoint: 'create_profile', drop_after_write: true, times: 1 }]);
  await assert.rejects(management({ maxRetries: 0 }).connectionProfiles.create({ name: 'written' }));
  assert.deepEqual((await storedProfiles()).map((p) => p.name), ['written']);
});
