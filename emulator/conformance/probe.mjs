#!/usr/bin/env node
// The live conformance probe (issue 12): checks, against the tenant named by AUTH0_DOMAIN,
// every emulator behaviour marked recorded or decided in docs/emulator.md, and prints
// `behaviour | emulator | this tenant`. `make conformance-live` runs it against a real
// tenant; `make test` (emulator/conformance/run.sh) runs it against the emulator with
// --expect-agree, where every row must agree.
//
// Safety: it makes only profiles named `probe-<random>-…`, deletes every one of them at the
// end (also after a failure or Ctrl-C), and never reads, writes or deletes another: listings
// are looked at only for their shape (page sizes, the `next` key) and for its own profiles.
// Nothing secret is printed (no token, secret, domain or id).
//
// Env: AUTH0_DOMAIN (`tenant.eu.auth0.com`, or `127.0.0.1:PORT` for the emulator),
// AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET (a machine-to-machine application granted the four
// connection-profile scopes). Needs node >= 20 (fetch).
import { randomBytes } from 'node:crypto';

const domain = process.env.AUTH0_DOMAIN;
const clientId = process.env.AUTH0_CLIENT_ID;
const clientSecret = process.env.AUTH0_CLIENT_SECRET;
const expectAgree = process.argv.includes('--expect-agree');
if (!domain || !clientId || !clientSecret) {
  console.error('set AUTH0_DOMAIN, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET');
  process.exit(2);
}

const base = `https://${domain}`;
const prefix = `probe-${randomBytes(4).toString('hex')}-`;
const created = new Set();
/** Pages a listing may take before the probe gives up on it (a tenant of 1,000 profiles). */
const MAX_PAGES = 100;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let token;
let lastHeaders;
let interrupted = false;
let cleaning = false;

async function call(method, path, body) {
  if (interrupted && !cleaning) throw new Error('interrupted');
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch(`${base}/api/v2/connection-profiles${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    lastHeaders = response.headers;
    const text = await response.text();
    if (response.status === 429 && attempt < 5) {
      const reset = Number(response.headers.get('x-ratelimit-reset'));
      const wait = Number.isFinite(reset) && reset > 0 ? reset * 1000 - Date.now() : 1000;
      await sleep(Math.min(Math.max(wait, 200), 10_000));
      continue;
    }
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    if (method === 'POST' && response.status === 201 && parsed?.id) created.add(parsed.id);
    return { status: response.status, body: parsed, headers: response.headers };
  }
}

async function login() {
  const response = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      audience: `${base}/api/v2/`,
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (response.status !== 200 || !body.access_token) {
    throw new Error(`the token endpoint answered ${response.status} ${body.error ?? ''}`);
  }
  token = body.access_token;
}

/** JSON with object keys sorted, so key order never counts as a difference. */
const canonical = (value) =>
  Array.isArray(value)
    ? value.map(canonical)
    : value && typeof value === 'object'
      ? Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical(value[key])]))
      : value;
const show = (value) => (value === undefined ? 'absent' : JSON.stringify(canonical(value)));
const shape = (reply) => `${reply.status}${reply.body?.errorCode ? ` ${reply.body.errorCode}` : ''}`;
const field = (reply, key) => (reply.status >= 300 ? shape(reply) : show(reply.body?.[key]));
const rows = [];
function row(behaviour, emulator, tenant) {
  rows.push({ behaviour, emulator, tenant: String(tenant) });
}

/** Every page of a listing with `take`: sizes, whether each had `next`, and the last body. */
async function listing(take) {
  const pages = [];
  let from;
  for (let i = 0; i < MAX_PAGES; i += 1) {
    const query = `?take=${take}${from ? `&from=${encodeURIComponent(from)}` : ''}`;
    const reply = await call('GET', query);
    if (reply.status !== 200) return { error: shape(reply), pages };
    const list = reply.body?.connection_profiles ?? [];
    pages.push({ size: list.length, next: 'next' in (reply.body ?? {}), keys: Object.keys(reply.body ?? {}).sort(), own: list.filter((p) => typeof p?.name === 'string' && p.name.startsWith(prefix)).map((p) => p.id) });
    if (!reply.body?.next) return { pages };
    from = reply.body.next;
  }
  return { error: `more than ${MAX_PAGES} pages`, pages };
}

async function probe() {
  await login();

  // create, and what a create that names only `name` stores
  const bare = await call('POST', '', { name: `${prefix}bare` });
  row('create answers 201 with a cop_ id', '201 cop_+22', bare.status === 201 && /^cop_[A-Za-z0-9]{22}$/.test(bare.body?.id ?? '') ? '201 cop_+22' : shape(bare));
  row('create without organization', '{"assign_membership_on_login":"none","show_as_button":"none"}', field(bare, 'organization'));
  row('create without enabled_features', '["scim","universal_logout"]', field(bare, 'enabled_features'));
  row('create without connection_config', 'null', field(bare, 'connection_config'));
  row('unset strategy_overrides', 'absent', field(bare, 'strategy_overrides'));
  row('create without connection_name_prefix_template', 'absent', field(bare, 'connection_name_prefix_template'));
  row('rate-limit headers on an API answer', 'limit, remaining, reset (Unix s)', (() => {
    const h = bare.headers;
    const names = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'];
    if (!names.every((n) => h.has(n))) return `missing ${names.filter((n) => !h.has(n)).join(', ')}`;
    const reset = Number(h.get('x-ratelimit-reset'));
    return reset > 1e9 && reset < 1e10 ? 'limit, remaining, reset (Unix s)' : `reset ${h.get('x-ratelimit-reset')}`;
  })());

  // a second profile with a taken name
  const twin = await call('POST', '', { name: `${prefix}bare` });
  row('create with a taken name', '409', shape(twin));

  // PATCH of a nested object, and clearing with null
  const nested = await call('POST', '', {
    name: `${prefix}nested`,
    organization: { show_as_button: 'optional', assign_membership_on_login: 'required' },
    strategy_overrides: { okta: { enabled_features: ['scim'] } },
  });
  const id = nested.body?.id;
  if (id) {
    const patched = await call('PATCH', `/${id}`, { organization: { show_as_button: 'none' } });
    row('PATCH of a nested object (organization)', '{"show_as_button":"none"}', field(patched, 'organization'));
    row('PATCH keeps fields it does not name', '{"okta":{"enabled_features":["scim"]}}', field(patched, 'strategy_overrides'));
    const cleared = await call('PATCH', `/${id}`, { strategy_overrides: null });
    row('PATCH strategy_overrides: null', 'absent', field(cleared, 'strategy_overrides'));
    const noOrg = await call('PATCH', `/${id}`, { organization: null });
    row('PATCH organization: null', 'absent', field(noOrg, 'organization'));
    const xaa = await call('PATCH', `/${id}`, { cross_app_access_resource_app: null });
    row('PATCH cross_app_access_resource_app: null', '200', shape(xaa));
  } else {
    row('PATCH of a nested object (organization)', '{"show_as_button":"none"}', `create failed: ${shape(nested)}`);
  }

  // ids
  const malformed = await call('GET', '/not-a-profile-id');
  row('GET a malformed id', '400 invalid_uri', shape(malformed));
  const unknown = await call('GET', '/cop_0000000000000000000000');
  row('GET an unknown well-formed id', '404 Connection profile not found.', `${unknown.status} ${unknown.body?.message ?? ''}`.trim());
  const doomed = await call('POST', '', { name: `${prefix}doomed` });
  if (doomed.body?.id) {
    const first = await call('DELETE', `/${doomed.body.id}`);
    const second = await call('DELETE', `/${doomed.body.id}`);
    if (first.status === 204) created.delete(doomed.body.id);
    row('DELETE twice', '204 then 404', `${first.status} then ${second.status}`);
  }

  // listings: pad the tenant to a multiple of ten (at least 20) with our own profiles
  const before = await listing(10);
  if (before.error) {
    row('last page after a full page', '{"connection_profiles":[]}', `not checked: ${before.error}`);
  } else {
    const total = before.pages.reduce((sum, page) => sum + page.size, 0);
    let pad = (10 - (total % 10)) % 10;
    while (total + pad < 20) pad += 10;
    for (let i = 0; i < pad; i += 1) await call('POST', '', { name: `${prefix}pad-${i}` });
    const after = await listing(10);
    const last = after.pages.at(-1);
    const previous = after.pages.at(-2);
    row(
      'last page after a full page',
      '{"connection_profiles":[]}',
      after.error ? `not checked: ${after.error}` : previous?.size === 10 && last.size === 0 && !last.next ? `{"${last.keys.join('","')}":[]}` : `pages ${after.pages.map((p) => `${p.size}${p.next ? '+next' : ''}`).join(',')}`,
    );
    const fifty = await call('GET', '?take=50');
    const size = fifty.body?.connection_profiles?.length;
    row('take=50 (the SDKs\' default)', '200, 10 a page, next', fifty.status === 200 ? `200, ${size} a page${fifty.body?.next ? ', next' : ''}` : shape(fifty));
    const above = await call('GET', '?take=51');
    row('take=51', '400 invalid_query_string', shape(above));
  }

  // templates
  const templates = await call('GET', '/templates');
  const items = templates.body?.connection_profile_templates;
  row('templates list', 'connection_profile_templates[{display_name,id,template}]', Array.isArray(items) ? `connection_profile_templates[${items.length ? `{${Object.keys(items[0]).sort().join(',')}}` : ''}]` : shape(templates));
  if (Array.isArray(items) && items.length) {
    const one = await call('GET', `/templates/${encodeURIComponent(items[0].id)}`);
    row('one template', '{display_name,id,template}', one.status === 200 ? `{${Object.keys(one.body).sort().join(',')}}` : shape(one));
  }
}

async function cleanUp() {
  cleaning = true;
  const failed = [];
  for (const id of created) {
    const reply = await call('DELETE', `/${id}`).catch((error) => ({ status: String(error) }));
    if (reply.status === 204 || reply.status === 404) created.delete(id);
    else failed.push(reply.status);
  }
  if (failed.length) console.error(`could not delete ${failed.length} probe profiles (answers ${failed.join(', ')}); their names start with ${prefix}`);
}

process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.error('interrupted: deleting the probe profiles first');
});

let failure;
try {
  await probe();
} catch (error) {
  failure = error;
} finally {
  if (token) await cleanUp();
}

const width = (key, title) => Math.max(title.length, ...rows.map((r) => r[key].length));
const [wb, we, wt] = [width('behaviour', 'behaviour'), width('emulator', 'emulator'), width('tenant', 'this tenant')];
const line = (b, e, t) => `| ${b.padEnd(wb)} | ${e.padEnd(we)} | ${t.padEnd(wt)} |`;
console.log(line('behaviour', 'emulator', 'this tenant'));
console.log(`|${'-'.repeat(wb + 2)}|${'-'.repeat(we + 2)}|${'-'.repeat(wt + 2)}|`);
for (const r of rows) console.log(line(r.behaviour, r.emulator, r.tenant));
const differ = rows.filter((r) => r.emulator !== r.tenant);
console.log(`\n${rows.length} behaviours checked, ${differ.length} differ${differ.length ? `: ${differ.map((r) => r.behaviour).join('; ')}` : ''}`);
if (failure) {
  console.error(`the probe stopped early: ${failure.message}`);
  process.exit(1);
}
if (created.size) process.exit(1);
if (expectAgree && differ.length) process.exit(1);
