// Scenario 7 of auth0-bench: one `a0deploy import` of a YAML file, through the Deploy CLI's
// own Node API (what `a0deploy import` runs), so that the time spent in the deploy can be
// told apart from the time spent starting Node and loading the Deploy CLI.
//
//   node bench/deploy-cli.mjs MODULES_DIR INPUT_YAML CONFIG_JSON
//
// MODULES_DIR holds node_modules/auth0-deploy-cli (emulator/conformance). Prints one JSON
// line on stdout, last: {"load_ms", "deploy_ms", "deploy_started_unix_ms"}. The Deploy CLI's
// own log goes to stdout as well (its logger writes there directly).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [modulesDir, inputFile, configFile] = process.argv.slice(2);
if (!configFile) {
  console.error('usage: deploy-cli.mjs MODULES_DIR INPUT_YAML CONFIG_JSON');
  process.exit(2);
}
const started = performance.now();
const require = createRequire(join(resolve(modulesDir), 'package.json'));
const { deploy } = require('auth0-deploy-cli');
const loaded = performance.now();
const deployStartedUnixMs = Date.now();
await deploy({ input_file: inputFile, config: JSON.parse(readFileSync(configFile, 'utf8')) });
const done = performance.now();
console.log(JSON.stringify({ load_ms: loaded - started, deploy_ms: done - loaded, deploy_started_unix_ms: deployStartedUnixMs }));
