// Compares an SDK's connection-profile model with the emulator's schema dump: every field
// path the SDK has must be in the emulator with a compatible type, and every enum value the
// SDK lists must be accepted. Returns one line per gap, naming the field.

/** Read-only fields the emulator's schema (writable fields) does not list on purpose. */
export const READ_ONLY = new Set(['id']);

export function gaps(sdk, emulatorDump) {
  const emulator = new Map(emulatorDump.connection_profile.map((entry) => [entry.path, entry]));
  const problems = [];
  for (const entry of sdk.entries) {
    if (READ_ONLY.has(entry.path)) continue;
    if (entry.type.startsWith('unknown:')) {
      problems.push(`${sdk.sdk}: ${entry.path} has a type this check cannot read (${entry.type}): teach sdk-models to`);
      continue;
    }
    const known = emulator.get(entry.path);
    if (!known) {
      problems.push(`${sdk.sdk}: the emulator lacks the field ${entry.path} (${entry.type})`);
      continue;
    }
    if (known.type !== entry.type) {
      problems.push(`${sdk.sdk}: ${entry.path} is ${entry.type} in the SDK but ${known.type} in the emulator`);
    }
    for (const value of entry.enum ?? []) {
      if (!(known.enum ?? []).includes(value)) {
        problems.push(`${sdk.sdk}: the emulator lacks the value "${value}" of ${entry.path}`);
      }
    }
  }
  return problems;
}
