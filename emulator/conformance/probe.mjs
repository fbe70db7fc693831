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
// It covers connection profiles, user attribute profiles and self-service profiles (with
// their custom text). The self-service quota (a 409 past 20 per tenant) is probed only with
// --quota: it fills the tenant to 20 for a moment, which would make anyone else's create
// fail meanwhile.
//
// Env: AUTH0_DOMAIN (`tenant.eu.auth0.com`, or `127.0.0.1:PORT` for the emulator),
// AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET (a machine-to-machine application granted read:,
// create:, update: and delete: of connection_profiles, user_attribute_profiles and
// self_service_profiles, and read:/update:self_service_profile_custom_texts). Needs node >= 20
// (fetch).
import { randomBytes } from 'node:crypto';

const domain = process.env.AUTH0_DOMAIN;
const clientId = process.env.AUTH0_CLIENT_ID;
const clientSecret = process.env.AUTH0_CLIENT_SECRET;
const expectAgree = process.argv.includes('--expect-agree');
const probeQuota = process.argv.includes('--quota');
if (!domain || !clientId || !clientSecret) {
  console.error('set AUTH0_DOMAIN, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET');
  process.exit(2);
}

const base = `https://${domain}`;
const prefix = `probe-${randomBytes(4).toString('hex')}-`;
/** What the probe made and has not deleted yet: id -> its collection. */
const created = new Map();
const CP = 'connection-profiles';
const UAP = 'user-attribute-profiles';
const SSP = 'self-service-profiles';
/** Pages a listing may take before the probe gives up on it (a tenant of 1,000 profiles). */
const MAX_PAGES = 100;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let token;
let lastHeaders;
let interrupted = false;
let cleaning = false;

/** A connection-profile call: `path` under /api/v2/connection-profiles. */
const call = (method, path, body) => callOn(CP, method, path, body);

/**
 * A call under /api/v2/<collection>; `body` is sent as JSON, or as it is with `form` (a
 * form-encoded body). A 201 to a POST of the collection itself records the id to delete.
 */
async function callOn(collection, method, path, body, { form = false } = {}) {
  if (interrupted && !cleaning) throw new Error('interrupted');
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch(`${base}/api/v2/${collection}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
      },
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
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
    if (method === 'POST' && path === '' && response.status === 201 && parsed?.id) created.set(parsed.id, collection);
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

/**
 * Every page of a checkpoint listing with `take`: sizes, whether each had `next`, its keys,
 * and the ids of the probe's own profiles on it.
 */
async function listing(take, collection = CP, key = 'connection_profiles') {
  const pages = [];
  let from;
  for (let i = 0; i < MAX_PAGES; i += 1) {
    const query = `?take=${take}${from ? `&from=${encodeURIComponent(from)}` : ''}`;
    const reply = await callOn(collection, 'GET', query);
    if (reply.status !== 200) return { error: shape(reply), pages };
    const list = reply.body?.[key] ?? [];
    pages.push({ size: list.length, next: 'next' in (reply.body ?? {}), keys: Object.keys(reply.body ?? {}).sort(), own: list.filter((p) => typeof p?.name === 'string' && p.name.startsWith(prefix)).map((p) => p.id) });
    if (!reply.body?.next) return { pages };
    from = reply.body.next;
  }
  return { error: `more than ${MAX_PAGES} pages`, pages };
}

/**
 * The row `behaviour` of a checkpoint listing's end: pads the tenant's items of `collection`
 * to a multiple of `take` (at least `least`) with the probe's own (`body(i)`), lists them
 * `take` at a time and expects a full page, then an empty one `{"<key>":[]}` without
 * `next`. Returns the listing, or nothing when it could not be read.
 */
async function lastPage(behaviour, take, least, collection, key, body) {
  const before = await listing(take, collection, key);
  if (before.error) {
    row(behaviour, `{"${key}":[]}`, `not checked: ${before.error}`);
    return undefined;
  }
  const total = before.pages.reduce((sum, page) => sum + page.size, 0);
  let pad = (take - (total % take)) % take;
  while (total + pad < least) pad += take;
  for (let i = 0; i < pad; i += 1) await callOn(collection, 'POST', '', body(i));
  const after = await listing(take, collection, key);
  const last = after.pages.at(-1);
  row(
    behaviour,
    `{"${key}":[]}`,
    after.error ? `not checked: ${after.error}` : after.pages.at(-2)?.size === take && last.size === 0 && !last.next ? `{"${last.keys.join('","')}":[]}` : `pages ${after.pages.map((p) => `${p.size}${p.next ? '+next' : ''}`).join(',')}`,
  );
  return after.error ? undefined : after;
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
  const after = await lastPage('last page after a full page', 10, 20, CP, 'connection_profiles', (i) => ({ name: `${prefix}pad-${i}` }));
  if (after) {
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

  await probeUserAttributeProfiles();
  await probeSelfServiceProfiles();
}

/** `status message` of an answer, with any id in the message shown as its prefix and `…`. */
const said = (reply) => `${reply.status} ${String(reply.body?.message ?? '').replace(/\b(cop|uap|ssp)_[A-Za-z0-9]+/g, '$1_…')}`.trim();

/** The user_id a user attribute profile holds when none is sent (recorded). */
const DEFAULT_USER_ID = {
  oidc_mapping: 'sub',
  saml_mapping: [
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
  ],
  scim_mapping: 'externalId',
};
const same = (a, b) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
/** The default user_id, named, or what stands instead. */
const userId = (reply) => (reply.status >= 300 ? shape(reply) : same(reply.body?.user_id, DEFAULT_USER_ID) ? 'the default' : show(reply.body?.user_id));
const attribute = (label) => ({ label, description: `${label} of the probe`, auth0_mapping: 'email', profile_required: false });
const uapBody = (name, extra = {}) => ({ name: `${prefix}${name}`, user_attributes: { email: attribute('Email') }, ...extra });

async function probeUserAttributeProfiles() {
  const uap = (method, path, body, options) => callOn(UAP, method, path, body, options);
  const bare = await uap('POST', '', uapBody('uap'));
  row('UAP: create answers 201 with a uap_ id', '201 uap_+22', bare.status === 201 && /^uap_[A-Za-z0-9]{22}$/.test(bare.body?.id ?? '') ? '201 uap_+22' : shape(bare));
  if (bare.status !== 201) return; // the API off (early access) or the scopes missing: the row says which
  const id = bare.body.id;
  row('UAP: create without user_id', 'the default', userId(bare));
  const filled = await uap('PATCH', `/${id}`, { user_id: { scim_mapping: 'userName' } });
  row('UAP: PATCH user_id fills the mappings it leaves out', 'the default but scim_mapping "userName"', filled.status === 200 && same(filled.body?.user_id, { ...DEFAULT_USER_ID, scim_mapping: 'userName' }) ? 'the default but scim_mapping "userName"' : userId(filled));
  row('UAP: PATCH user_id {} resets', 'the default', userId(await uap('PATCH', `/${id}`, { user_id: {} })));
  await uap('PATCH', `/${id}`, { user_id: { scim_mapping: 'userName' } });
  row('UAP: PATCH user_id null resets', 'the default', userId(await uap('PATCH', `/${id}`, { user_id: null })));
  const replaced = await uap('PATCH', `/${id}`, { user_attributes: { phone: attribute('Phone') } });
  row('UAP: PATCH user_attributes replaces the map', '["phone"]', replaced.status === 200 ? show(Object.keys(replaced.body?.user_attributes ?? {})) : shape(replaced));
  row('UAP: create with a taken name', '409 User attribute profile conflict.', said(await uap('POST', '', uapBody('uap'))));
  const other = await uap('POST', '', uapBody('uap-other'));
  if (other.body?.id) row('UAP: rename onto a taken name', '409', shape(await uap('PATCH', `/${other.body.id}`, { name: `${prefix}uap` })));
  row('UAP: an attribute key of 51 characters', '400 invalid_body', shape(await uap('POST', '', { name: `${prefix}uap-long`, user_attributes: { ['k'.repeat(51)]: attribute('Long') } })));
  row('UAP: 4 saml_mapping items', '400 invalid_body', shape(await uap('POST', '', uapBody('uap-saml', { user_id: { saml_mapping: ['a', 'b', 'c', 'd'] } }))));
  row('UAP: an unknown key', '400 invalid_body', shape(await uap('POST', '', uapBody('uap-unknown', { probe_unknown: 1 }))));
  row('UAP: a form-encoded body', '400 Invalid request payload JSON format', said(await uap('POST', '', `name=${prefix}uap-form`, { form: true })));
  row('UAP: GET a malformed id', '400 invalid_uri', shape(await uap('GET', '/not-a-profile-id')));
  row('UAP: GET an unknown well-formed id', '404 User attribute profile not found.', said(await uap('GET', '/uap_0000000000000000000000')));
  const doomed = await uap('POST', '', uapBody('uap-doomed'));
  if (doomed.body?.id) {
    const first = await uap('DELETE', `/${doomed.body.id}`);
    const second = await uap('DELETE', `/${doomed.body.id}`);
    if (first.status === 204) created.delete(doomed.body.id);
    row('UAP: DELETE twice', '204 then 204', `${first.status} then ${second.status}`);
  }

  // checkpoint paging: pad the tenant's user attribute profiles to a multiple of three (at
  // least six) with the probe's own, then list three at a time
  const after = await lastPage('UAP: last page after a full page', 3, 6, UAP, 'user_attribute_profiles', (i) => uapBody(`uap-pad-${i}`));
  if (after) {
    const own = after.pages.flatMap((page) => page.own);
    row('UAP: listed in id order', 'id order', own.every((one, i) => i === 0 || own[i - 1] < one) ? 'id order' : 'another order');
    const plain = await uap('GET', '');
    row('UAP: take left out', '200, 5 a page, next', plain.status === 200 ? `200, ${plain.body?.user_attribute_profiles?.length} a page${plain.body?.next ? ', next' : ''}` : shape(plain));
  }
  for (const [query, behaviour] of [['?take=0', 'take=0'], ['?take=101', 'take=101'], ['?from=not-a-checkpoint', 'a bad checkpoint'], ['?page=1', 'an unknown parameter']]) {
    row(`UAP: ${behaviour}`, '400 invalid_query_string', shape(await uap('GET', query)));
  }

  const templates = await uap('GET', '/templates');
  const items = templates.body?.user_attribute_profile_templates;
  row('UAP: templates list', 'user_attribute_profile_templates[{display_name,id,template}] with auth0-generic', Array.isArray(items) ? `user_attribute_profile_templates[${items.length ? `{${Object.keys(items[0]).sort().join(',')}}` : ''}]${items.some((t) => t.id === 'auth0-generic') ? ' with auth0-generic' : ''}` : shape(templates));
}

/** Every strategy a self-service profile created without `allowed_strategies` holds (decided). */
const ALL_STRATEGIES = ['oidc', 'samlp', 'waad', 'google-apps', 'adfs', 'okta', 'auth0-samlp', 'okta-samlp', 'keycloak-samlp', 'pingfederate'];

async function probeSelfServiceProfiles() {
  const ssp = (method, path, body, options) => callOn(SSP, method, path, body, options);
  const bare = await ssp('POST', '', { name: `${prefix}ssp` });
  row('SSP: create answers 201 with an ssp_ id', '201 ssp_+22', bare.status === 201 && /^ssp_[A-Za-z0-9]{22}$/.test(bare.body?.id ?? '') ? '201 ssp_+22' : shape(bare));
  if (bare.status !== 201) return;
  const id = bare.body.id;
  const unset = (body) => ['description', 'branding', 'user_attribute_profile_id'].map((key) => `${key} ${show(body?.[key])}`).concat(`user_attributes ${show(body?.user_attributes)}`).join(', ');
  row('SSP: unset fields', 'description absent, branding absent, user_attribute_profile_id absent, user_attributes []', unset(bare.body));
  row('SSP: create without allowed_strategies', 'all ten, in order', same(bare.body?.allowed_strategies, ALL_STRATEGIES) ? 'all ten, in order' : show(bare.body?.allowed_strategies));
  row('SSP: create with a taken name', '201', shape(await ssp('POST', '', { name: `${prefix}ssp` })));

  const full = await ssp('POST', '', {
    name: `${prefix}ssp-full`,
    description: 'probe',
    branding: { logo_url: 'https://example.com/logo.png', colors: { primary: '#0059d6' } },
    user_attributes: [{ name: 'email', description: 'Email', is_optional: false }],
  });
  if (full.body?.id) {
    const cleared = await ssp('PATCH', `/${full.body.id}`, { description: null, branding: null, user_attributes: null });
    row('SSP: PATCH null clears', 'description absent, branding absent, user_attribute_profile_id absent, user_attributes []', cleared.status === 200 ? unset(cleared.body) : shape(cleared));
    await sleep(1100);
    const again = await ssp('PATCH', `/${full.body.id}`, { name: `${prefix}ssp-full` });
    row('SSP: a PATCH that changes nothing moves updated_at', 'moved', again.status === 200 ? (again.body?.updated_at !== cleared.body?.updated_at ? 'moved' : 'kept') : shape(again));
  }
  row('SSP: an unknown user_attribute_profile_id', '400 invalid_body', shape(await ssp('POST', '', { name: `${prefix}ssp-dangling`, user_attribute_profile_id: 'uap_0000000000000000000000' })));
  row('SSP: an unknown key', '400 invalid_body', shape(await ssp('POST', '', { name: `${prefix}ssp-unknown`, probe_unknown: 1 })));
  row('SSP: a form-encoded body', '400 Invalid request payload JSON format', said(await ssp('POST', '', `name=${prefix}ssp-form`, { form: true })));

  // a user attribute profile of the probe's own, used by a self-service profile
  const used = await callOn(UAP, 'POST', '', uapBody('uap-used'));
  if (used.body?.id) {
    const both = await ssp('POST', '', { name: `${prefix}ssp-both`, user_attribute_profile_id: used.body.id, user_attributes: [{ name: 'email', description: 'Email', is_optional: false }] });
    row('SSP: user_attributes with user_attribute_profile_id', '400 invalid_body', shape(both));
    const user = await ssp('POST', '', { name: `${prefix}ssp-user`, user_attribute_profile_id: used.body.id });
    row('SSP: naming a user attribute profile', '201, its id', user.status === 201 ? (user.body?.user_attribute_profile_id === used.body.id ? '201, its id' : `201, ${show(user.body?.user_attribute_profile_id)}`) : shape(user));
    if (user.status === 201) {
      const refused = await callOn(UAP, 'DELETE', `/${used.body.id}`);
      if (refused.status === 204) created.delete(used.body.id);
      row('UAP: DELETE while a self-service profile uses it', '409 User attribute profile is in use.', said(refused));
    }
  }

  row('SSP: GET a malformed id', '400 invalid_uri', shape(await ssp('GET', '/not-a-profile-id')));
  row('SSP: GET an unknown well-formed id', '404 Profile with ID: ssp_… not found', said(await ssp('GET', '/ssp_0000000000000000000000')));
  row('SSP: DELETE of an unknown id', '204', shape(await ssp('DELETE', '/ssp_0000000000000000000000')));

  // offset paging: shapes only, and the probe's own profiles in creation order
  const totals = await ssp('GET', '?include_totals=true&per_page=100');
  row('SSP: include_totals=true', '{limit,self_service_profiles,start,total}', totals.status === 200 ? `{${Object.keys(totals.body ?? {}).sort().join(',')}}` : shape(totals));
  const listed = totals.body?.self_service_profiles ?? [];
  const mine = [...created].filter(([, of]) => of === SSP).map(([one]) => one);
  const order = listed.map((p) => p.id).filter((one) => mine.includes(one));
  row('SSP: listed in creation order', 'creation order', same(order, mine) ? 'creation order' : `another order (${order.length} of ${mine.length} listed)`);
  const bareList = await ssp('GET', '?per_page=1');
  row('SSP: without include_totals', 'an array of 1', bareList.status === 200 ? (Array.isArray(bareList.body) ? `an array of ${bareList.body.length}` : `{${Object.keys(bareList.body ?? {}).sort().join(',')}}`) : shape(bareList));
  const past = await ssp('GET', '?page=1000&per_page=100&include_totals=true');
  row('SSP: a page past the end', '[]', past.status === 200 ? show(past.body?.self_service_profiles) : shape(past));
  for (const [query, behaviour] of [['?per_page=0', 'per_page=0'], ['?per_page=101', 'per_page=101'], ['?page=-1', 'page=-1'], ['?take=5', 'an unknown parameter']]) {
    row(`SSP: ${behaviour}`, '400 invalid_query_string', shape(await ssp('GET', query)));
  }

  // custom text
  const text = `/${id}/custom-text/en/get-started`;
  const never = await ssp('GET', text);
  row('custom text: never set', '{}', never.status === 200 ? show(never.body) : shape(never));
  const put = await ssp('PUT', text, { introduction: 'Probe <b>text</b>' });
  row('custom text: PUT answers the map', '{"introduction":"Probe <b>text</b>"}', put.status === 200 ? show(put.body) : shape(put));
  await ssp('PATCH', `/${id}`, { description: 'probe' });
  const kept = await ssp('GET', text);
  row('custom text: kept by a PATCH of the profile', '{"introduction":"Probe <b>text</b>"}', kept.status === 200 ? show(kept.body) : shape(kept));
  await ssp('PUT', text, {});
  const reset = await ssp('GET', text);
  row('custom text: PUT {} resets', '{}', reset.status === 200 ? show(reset.body) : shape(reset));
  row('custom text: another language', '400 invalid_uri', shape(await ssp('GET', `/${id}/custom-text/fr/get-started`)));
  row('custom text: another page', '400 invalid_uri', shape(await ssp('GET', `/${id}/custom-text/en/sign-up`)));
  row('custom text: 2001 characters', '400 invalid_body', shape(await ssp('PUT', text, { introduction: 'x'.repeat(2001) })));
  row('custom text: of an unknown profile', '404 Self-service profile not found.', said(await ssp('GET', '/ssp_0000000000000000000000/custom-text/en/get-started')));
  const gone = await ssp('POST', '', { name: `${prefix}ssp-gone` });
  if (gone.body?.id) {
    await ssp('PUT', `/${gone.body.id}/custom-text/en/get-started`, { introduction: 'gone' });
    const deleted = await ssp('DELETE', `/${gone.body.id}`);
    if (deleted.status === 204) created.delete(gone.body.id);
    row('custom text: of a deleted profile', '404', shape(await ssp('GET', `/${gone.body.id}/custom-text/en/get-started`)));
  }

  // the quota, only when asked (--quota): fills the tenant to 20 for a moment
  if (probeQuota) {
    let answer;
    for (let i = 0; i < 21; i += 1) {
      answer = await ssp('POST', '', { name: `${prefix}ssp-quota-${i}` });
      if (answer.status !== 201) break;
    }
    row('SSP: a create past 20', '409 No more profiles can be created for this tenant.', said(answer));
  }
}

async function cleanUp() {
  cleaning = true;
  const failed = [];
  // Self-service profiles first: they may use the user attribute profiles.
  for (const collection of [SSP, CP, UAP]) {
    for (const [id, of] of [...created]) {
      if (of !== collection) continue;
      const reply = await callOn(of, 'DELETE', `/${id}`).catch((error) => ({ status: String(error) }));
      if (reply.status === 204 || reply.status === 404) created.delete(id);
      else failed.push(reply.status);
    }
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
