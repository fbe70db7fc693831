// The ConnectionProfile CRD (crds/, generated from the operator's Rust types) in the shape
// of the emulator's schema dump: `{connection_profile: [{path, type, enum?}]}`, with Auth0's
// wire spelling (snake_case, `google-apps`), so `gaps()` can hold it against Auth0's SDK
// models. Only the Auth0 fields of the spec: tenantRef, deletionPolicy, managementPolicy
// and externalID are the operator's own.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

const OWN = new Set(['tenantRef', 'deletionPolicy', 'managementPolicy', 'externalID']);
const CRD = fileURLToPath(new URL('../../../crds/connectionprofiles.auth0.operators.dev.yaml', import.meta.url));

export function wire(key) {
  if (key === 'googleApps') return 'google-apps';
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function walk(path, schema, entries) {
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const here = path ? `${path}.${wire(key)}` : wire(key);
    entries.push({ path: here, type: child.type, ...(child.enum ? { enum: child.enum } : {}) });
    if (child.type === 'object') walk(here, child, entries);
    if (child.type === 'array' && child.items) {
      const items = `${here}[]`;
      entries.push({ path: items, type: child.items.type, ...(child.items.enum ? { enum: child.items.enum } : {}) });
      if (child.items.type === 'object') walk(items, child.items, entries);
    }
  }
}

/** The CRD's spec as a schema dump; `file` defaults to the committed CRD. */
export function crdModel(file = CRD) {
  const crd = yaml.load(readFileSync(file, 'utf8'));
  const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
  const auth0Fields = { properties: Object.fromEntries(Object.entries(spec.properties).filter(([k]) => !OWN.has(k))) };
  const entries = [];
  walk('', auth0Fields, entries);
  return { connection_profile: entries };
}
