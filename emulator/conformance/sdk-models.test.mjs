// Issue 13 item 3: Auth0's own SDKs, installed at pinned versions (the `auth0` npm package of
// this suite, `auth0-python` of python/requirements.txt), walked field by field and enum
// value by enum value, against the schema the running emulator accepts (admin GET /schema).
// A field or value an SDK has and the emulator lacks fails here, by name: bumping an SDK
// version shows in one test what Auth0 added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { admin } from './helpers.mjs';
import { gaps } from './sdk-models/compare.mjs';
import { nodeModel } from './sdk-models/node_models.mjs';
import { crdModel } from './sdk-models/crd_model.mjs';

const emulatorSchema = async () => {
  const { status, body } = await admin('GET', '/schema');
  assert.equal(status, 200);
  return body;
};

function pythonModel() {
  const python = process.env.AUTH0_SDK_PYTHON;
  if (!python) throw new Error('AUTH0_SDK_PYTHON is not set: run this suite through run.sh');
  const script = fileURLToPath(new URL('./sdk-models/python_models.py', import.meta.url));
  const run = spawnSync(python, [script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

test('every field and enum value of the Node SDK model is in the emulator', async () => {
  const model = nodeModel();
  const paths = model.entries.map((entry) => entry.path);
  assert.ok(paths.includes('strategy_overrides.google-apps.provisioning.scim.tokens.scopes[]'), paths.join('\n'));
  assert.ok(model.entries.length > 50, `the walk found only ${model.entries.length} paths`);
  assert.deepEqual(gaps(model, await emulatorSchema()), []);
});

test('every field and enum value of the Python SDK model is in the emulator', async () => {
  const model = pythonModel();
  const schema = await emulatorSchema();
  const paths = model.entries.map((entry) => entry.path);
  assert.ok(paths.includes('provisioning.google_workspace.sync_users'), paths.join('\n'));
  assert.ok(model.entries.length > 50, `the walk found only ${model.entries.length} paths`);
  // enabled_features_enum.py, read on its own as the issue names it.
  const features = schema.connection_profile.find((entry) => entry.path === 'enabled_features[]').enum;
  for (const value of model.enabled_features_enum) assert.ok(features.includes(value), `enabled_features lacks ${value}`);
  assert.deepEqual(gaps(model, schema), []);
});

test('the check names a field the emulator lacks', async () => {
  const schema = await emulatorSchema();
  const without = {
    connection_profile: schema.connection_profile
      .filter((entry) => entry.path !== 'provisioning.google_workspace.sync_users')
      .map((entry) => (entry.path === 'enabled_features[]' ? { ...entry, enum: ['scim'] } : entry)),
  };
  const problems = gaps(pythonModel(), without);
  assert.ok(problems.some((p) => p.includes('lacks the field provisioning.google_workspace.sync_users')), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('lacks the value "directory_sync" of enabled_features[]')), problems.join('\n'));
});

// The same models against the CRD (crds/, what users can write): a field or enum value
// Auth0's SDKs have and the ConnectionProfile resource lacks fails here, by name.
test('every field and enum value of the SDK models is in the ConnectionProfile CRD', async () => {
  const crd = crdModel();
  assert.ok(crd.connection_profile.some((e) => e.path === 'provisioning.google_workspace.sync_users'));
  assert.deepEqual(gaps(nodeModel(), crd), []);
  assert.deepEqual(gaps(pythonModel(), crd), []);
});

test('the check names a field the CRD lacks', () => {
  const crd = crdModel();
  const without = {
    connection_profile: crd.connection_profile
      .filter((entry) => !entry.path.startsWith('provisioning.google_workspace'))
      .map((entry) => (entry.path === 'enabled_features[]' ? { ...entry, enum: ['scim', 'universal_logout'] } : entry)),
  };
  const problems = gaps(pythonModel(), without);
  assert.ok(problems.some((p) => p.includes('lacks the field provisioning.google_workspace')), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('lacks the value "directory_sync" of enabled_features[]')), problems.join('\n'));
});
