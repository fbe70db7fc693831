// The Auth0 Deploy CLI (connectionProfiles only): deploy, deploy again, export.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { deploy, dump } from 'auth0-deploy-cli';
import { clientId, clientSecret, domain, requests, reset, storedProfiles } from './helpers.mjs';

const desired = [
  {
    name: 'deploy-alpha',
    organization: { show_as_button: 'optional', assign_membership_on_login: 'required' },
    connection_name_prefix_template: 'alpha-{org_id}',
    enabled_features: ['scim'],
    connection_config: {},
  },
  {
    name: 'deploy-beta',
    enabled_features: ['universal_logout'],
    strategy_overrides: { okta: { enabled_features: ['scim'] } },
  },
  {
    name: 'deploy-gamma',
    cross_app_access_resource_app: { status: { default_value: 'disabled', allowed_values: ['enabled', 'disabled'] } },
  },
];

let work;
const config = () => ({
  AUTH0_DOMAIN: domain,
  AUTH0_CLIENT_ID: clientId,
  AUTH0_CLIENT_SECRET: clientSecret,
  AUTH0_INCLUDED_ONLY: ['connectionProfiles'],
  AUTH0_ALLOW_DELETE: false,
});

before(async () => {
  await reset();
  work = mkdtempSync(join(tmpdir(), 'deploy-cli-'));
  writeFileSync(join(work, 'tenant.yaml'), yaml.dump({ connectionProfiles: desired }));
});

after(() => rmSync(work, { recursive: true, force: true }));

const withoutId = ({ id, ...rest }) => rest;
// What Auth0 stores for a field a create leaves out (recorded from real tenants).
const withDefaults = (p) => ({
  organization: { show_as_button: 'none', assign_membership_on_login: 'none' },
  enabled_features: ['scim', 'universal_logout'],
  connection_config: null,
  ...p,
});
const byName = (a, b) => a.name.localeCompare(b.name);
const writes = (log) => log.filter((entry) => ['POST', 'PATCH', 'DELETE'].includes(entry.method) && entry.path.startsWith('/api/'));

test('deploy, deploy again with nothing to change, export: the results match', async () => {
  await deploy({ input_file: join(work, 'tenant.yaml'), config: config() });
  const first = (await storedProfiles()).sort(byName);
  assert.deepEqual(first.map(withoutId), desired.map(withDefaults).sort(byName));
  const afterFirst = (await requests()).length;
  assert.equal(writes(await requests()).filter((entry) => entry.method === 'POST').length, 3);

  await deploy({ input_file: join(work, 'tenant.yaml'), config: config() });
  const second = (await storedProfiles()).sort(byName);
  assert.deepEqual(second, first, 'the second deploy changes nothing');
  const secondWrites = writes((await requests()).slice(afterFirst));
  assert.ok(secondWrites.every((entry) => entry.method === 'PATCH' && entry.status === 200), JSON.stringify(secondWrites));

  const out = join(work, 'export');
  await dump({ output_folder: out, format: 'yaml', config: config() });
  const exportedFile = readdirSync(out).find((file) => file.endsWith('.yaml'));
  const exported = yaml.load(readFileSync(join(out, exportedFile), 'utf8')).connectionProfiles;
  const comparable = (p) => Object.fromEntries(Object.entries(withoutId(p)).filter(([, v]) => v !== null));
  assert.deepEqual(exported.map(comparable).sort(byName), desired.map(withDefaults).map(comparable).sort(byName));
});
