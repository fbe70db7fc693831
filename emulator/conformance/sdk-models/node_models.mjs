// The connection-profile model of Auth0's Node SDK (the `auth0` npm package this suite pins),
// read from its published type declarations: every field path from `ConnectionProfile`, with
// its type and enum values, in the same shape as python_models.py and the emulator's dump.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The SDK's version and the text of its `Management` type declarations. */
export function declarations() {
  const root = dirname(require.resolve('auth0/package.json'));
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const text = readFileSync(join(root, 'dist/cjs/management/api/types/types.d.ts'), 'utf8');
  return { sdk: `auth0 ${version}`, text };
}

/** Interfaces, type aliases and enum constants by name. */
export function parse(text) {
  const interfaces = new Map();
  for (const match of text.matchAll(/^export interface (\w+) \{\n([\s\S]*?)^\}/gm)) {
    const fields = [];
    for (const line of match[2].split('\n')) {
      const field = line.match(/^\s{4}("?[\w-]+"?)(\??):\s*(.+);$/);
      if (field) fields.push({ name: field[1].replaceAll('"', ''), type: field[3] });
    }
    interfaces.set(match[1], fields);
  }
  const aliases = new Map();
  for (const match of text.matchAll(/^export type (\w+) = ([^\n]+);$/gm)) aliases.set(match[1], match[2]);
  const enums = new Map();
  for (const match of text.matchAll(/^export declare const (\w+): \{\n([\s\S]*?)^\};/gm)) {
    enums.set(match[1], [...match[2].matchAll(/readonly \w+: "([^"]*)";/g)].map((m) => m[1]));
  }
  return { interfaces, aliases, enums };
}

/** Strips `| undefined`, `| null` and the parentheses around them. */
function bare(type) {
  let t = type.trim();
  for (;;) {
    const before = t;
    t = t.replace(/\s*\|\s*(undefined|null)\b/g, '').trim();
    if (t.startsWith('(') && t.endsWith(')') && !t.includes('[keyof')) t = t.slice(1, -1).trim();
    if (t === before) return t;
  }
}

export function walk(model, path, type, entries, depth = 0) {
  if (depth > 20) throw new Error(`${path}: the model nests too deep`);
  const t = bare(type);
  if (t.endsWith('[]')) {
    entries.push({ path, type: 'array' });
    walk(model, `${path}[]`, t.slice(0, -2), entries, depth + 1);
    return;
  }
  const enumOf = t.match(/^\(typeof (?:Management\.)?(\w+)\)\[keyof typeof (?:Management\.)?\w+\]$/);
  if (enumOf) {
    entries.push({ path, type: 'string', enum: model.enums.get(enumOf[1]) });
    return;
  }
  const name = t.replace(/^Management\./, '');
  if (model.enums.has(name)) {
    entries.push({ path, type: 'string', enum: model.enums.get(name) });
  } else if (model.interfaces.has(name)) {
    if (path) entries.push({ path, type: 'object' });
    for (const field of model.interfaces.get(name)) {
      walk(model, path ? `${path}.${field.name}` : field.name, field.type, entries, depth + 1);
    }
  } else if (model.aliases.has(name)) {
    walk(model, path, model.aliases.get(name), entries, depth + 1);
  } else if (t === 'string' || t === 'boolean') {
    entries.push({ path, type: t });
  } else if (t === 'number') {
    entries.push({ path, type: 'integer' });
  } else {
    entries.push({ path, type: `unknown:${t}` });
  }
}

export function nodeModel() {
  const { sdk, text } = declarations();
  const entries = [];
  walk(parse(text), '', 'ConnectionProfile', entries);
  return { sdk, entries };
}
