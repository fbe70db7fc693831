// Shared set-up for the conformance suite: where the emulator is and its admin API.
import assert from 'node:assert/strict';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this suite through run.sh`);
  return value;
}

export const domain = required('EMULATOR_DOMAIN');
export const adminUrl = required('EMULATOR_ADMIN');
export const clientId = 'emulator-client';
export const clientSecret = 'emulator-secret';
export const audience = `https://${domain}/api/v2/`;

export async function admin(method, path, body) {
  const response = await fetch(adminUrl + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

export async function reset() {
  assert.equal((await admin('POST', '/reset')).status, 204);
}

export const tenantPath = (rest) => `/tenants/localhost${rest}`;

export async function requests() {
  return (await admin('GET', tenantPath('/requests'))).body;
}

export async function storedProfiles() {
  return (await admin('GET', tenantPath('/profiles'))).body;
}
