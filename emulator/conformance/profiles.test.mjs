// Auth0's official Node SDK (auth0 v7) against the emulator's user attribute profile and
// self-service profile endpoints, over https.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { ManagementClient, Management } from 'auth0';
import { admin, clientId, clientSecret, domain, requests, reset, tenantPath } from './helpers.mjs';

const management = () => new ManagementClient({ domain, clientId, clientSecret });
const uapId = /^uap_[A-Za-z0-9]{22}$/;
const sspId = /^ssp_[A-Za-z0-9]{22}$/;
const attribute = (label) => ({ label, description: `The ${label}`, auth0_mapping: 'email', profile_required: true });

beforeEach(reset);

test('user attribute profiles: create, get, update, delete', async () => {
  const client = management();
  const created = await client.userAttributeProfiles.create({ name: 'Workforce', user_attributes: { email: attribute('Email') } });
  assert.match(created.id, uapId);
  assert.equal(created.user_id.oidc_mapping, 'sub');
  assert.equal(created.user_id.scim_mapping, 'externalId');
  assert.deepEqual(await client.userAttributeProfiles.get(created.id), created);
  const updated = await client.userAttributeProfiles.update(created.id, {
    user_id: { scim_mapping: 'userName' },
    user_attributes: { name: attribute('Name') },
  });
  assert.equal(updated.name, 'Workforce');
  assert.equal(updated.user_id.scim_mapping, 'userName');
  assert.deepEqual(updated.user_id.saml_mapping, created.user_id.saml_mapping);
  assert.deepEqual(Object.keys(updated.user_attributes), ['name']);
  await client.userAttributeProfiles.delete(created.id);
  await assert.rejects(client.userAttributeProfiles.get(created.id), (error) => {
    assert.ok(error instanceof Management.NotFoundError, String(error));
    assert.equal(error.body.message, 'User attribute profile not found.');
    return true;
  });
  // A second DELETE is a 204 (recorded).
  await client.userAttributeProfiles.delete(created.id);
});

test('user attribute profiles: every page of 12, through the SDK pager', async () => {
  const client = management();
  const made = [];
  for (let i = 0; i < 12; i += 1) {
    made.push((await client.userAttributeProfiles.create({ name: `page-${i}`, user_attributes: { email: attribute('E') } })).id);
  }
  let page = await client.userAttributeProfiles.list({ take: 5 });
  const sizes = [page.data.length];
  const seen = page.data.map((p) => p.id);
  while (page.hasNextPage()) {
    page = await page.getNextPage();
    sizes.push(page.data.length);
    seen.push(...page.data.map((p) => p.id));
  }
  assert.deepEqual(sizes, [5, 5, 2]);
  assert.deepEqual(seen, [...made].sort());
  const iterated = [];
  for await (const profile of await client.userAttributeProfiles.list()) iterated.push(profile.id);
  assert.deepEqual(iterated, seen, 'the default list() (take=50) reaches every profile');
  const lists = (await requests()).filter((entry) => entry.endpoint === 'list_user_attribute_profiles');
  assert.ok(lists.every((entry) => entry.status === 200));
});

test('user attribute profiles: templates, a taken name, the in-use 409', async () => {
  const client = management();
  const { user_attribute_profile_templates: templates } = await client.userAttributeProfiles.listTemplates();
  const one = await client.userAttributeProfiles.getTemplate(templates[0].id);
  assert.deepEqual(one, templates[0]);
  const created = await client.userAttributeProfiles.create(one.template);
  await assert.rejects(client.userAttributeProfiles.create(one.template), Management.ConflictError);
  const ssp = await client.selfServiceProfiles.create({ name: 'uses it', user_attribute_profile_id: created.id });
  await assert.rejects(client.userAttributeProfiles.delete(created.id), (error) => {
    assert.equal(error.statusCode, 409);
    assert.equal(error.body.message, 'User attribute profile is in use.');
    return true;
  });
  await client.selfServiceProfiles.delete(ssp.id);
  await client.userAttributeProfiles.delete(created.id);
});

test('self-service profiles: create, get, update, delete, custom text', async () => {
  const client = management();
  const created = await client.selfServiceProfiles.create({
    name: 'Acme SSO',
    description: 'For Acme',
    user_attributes: [{ name: 'email', description: 'Email', is_optional: false }],
    allowed_strategies: ['oidc', 'okta-samlp'],
    branding: { logo_url: 'https://acme.example/logo.png', colors: { primary: '#19aecc' } },
  });
  assert.match(created.id, sspId);
  assert.ok(created.created_at);
  assert.deepEqual(await client.selfServiceProfiles.get(created.id), created);
  const updated = await client.selfServiceProfiles.update(created.id, { description: null, user_attributes: null });
  assert.equal(updated.description, undefined);
  assert.deepEqual(updated.user_attributes, []);
  assert.equal(updated.name, 'Acme SSO');

  assert.deepEqual(await client.selfServiceProfiles.customText.list(created.id, 'en', 'get-started'), {});
  const text = { introduction: 'Welcome to <b>Acme</b>' };
  assert.deepEqual(await client.selfServiceProfiles.customText.set(created.id, 'en', 'get-started', text), text);
  assert.deepEqual(await client.selfServiceProfiles.customText.list(created.id, 'en', 'get-started'), text);
  assert.deepEqual(await client.selfServiceProfiles.customText.set(created.id, 'en', 'get-started', {}), {});

  await client.selfServiceProfiles.delete(created.id);
  await assert.rejects(client.selfServiceProfiles.get(created.id), (error) => {
    assert.ok(error instanceof Management.NotFoundError, String(error));
    assert.equal(error.body.message, `Profile with ID: ${created.id} not found`);
    return true;
  });
});

test('self-service profiles: every page through the SDK pager, and the quota of 20', async () => {
  const client = management();
  const made = [];
  for (let i = 0; i < 20; i += 1) made.push((await client.selfServiceProfiles.create({ name: 'Same name' })).id);
  await assert.rejects(client.selfServiceProfiles.create({ name: 'one more' }), (error) => {
    assert.ok(error instanceof Management.ConflictError, String(error));
    assert.deepEqual(error.body, { statusCode: 409, error: 'Conflict', message: 'No more profiles can be created for this tenant.' });
    return true;
  });
  let page = await client.selfServiceProfiles.list({ per_page: 7 });
  const sizes = [page.data.length];
  const seen = page.data.map((p) => p.id);
  while (page.hasNextPage()) {
    page = await page.getNextPage();
    sizes.push(page.data.length);
    seen.push(...page.data.map((p) => p.id));
  }
  assert.deepEqual(sizes, [7, 7, 6]);
  assert.deepEqual(seen, made, 'creation order, each once');
  const iterated = [];
  for await (const profile of await client.selfServiceProfiles.list()) iterated.push(profile.id);
  assert.deepEqual(iterated, made);
  const lists = (await requests()).filter((entry) => entry.endpoint === 'list_self_service_profiles');
  assert.ok(lists.every((entry) => entry.status === 200 && /include_totals=true/.test(entry.query)));
});

test('self-service profiles: a missing scope is a ForbiddenError', async () => {
  const reader = new ManagementClient({ domain, clientId: 'reader-client', clientSecret: 'reader-secret' });
  await assert.rejects(reader.selfServiceProfiles.list(), (error) => {
    assert.ok(error instanceof Management.ForbiddenError, String(error));
    assert.equal(error.body.message, 'Insufficient scope, expected: read:self_service_profiles.');
    return true;
  });
  assert.equal((await admin('GET', tenantPath('/self-service-profiles'))).status, 200);
});
