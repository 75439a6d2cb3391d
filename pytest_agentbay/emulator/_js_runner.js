// Runs INSIDE a session's sandbox (node): one run_code call's JavaScript.
// The code comes in AGENTBAY_CODE_<n> environment variables; console output goes to the
// sandbox's stdout/stderr as it happens. When the event loop is empty (timers and promises
// done) the runner writes the mark it was given and one JSON record: the final expression's
// value (awaited when it is a promise) as `text`, and the first error with its stack.
'use strict';
const fs = require('fs');
const util = require('util');
const vm = require('vm');

const env = process.env;
const parts = Number(env.AGENTBAY_CODE_PARTS || 0);
let code = '';
for (let i = 0; i < parts; i++) {
  code += env['AGENTBAY_CODE_' + i];
  delete env['AGENTBAY_CODE_' + i];
}
const mark = env.AGENTBAY_MARK;
for (const name of ['AGENTBAY_CODE_PARTS', 'AGENTBAY_MARK', 'AGENTBAY_RUNNER']) delete env[name];

const record = { results: [], error: null };
function fail(error) {
  if (record.error) return;
  const isError = error instanceof Error;
  record.error = {
    name: isError ? error.name : 'Error',
    value: isError ? String(error.message) : util.inspect(error),
    traceback: isError && error.stack ? String(error.stack) : util.inspect(error),
  };
}
function show(value) {
  if (value !== undefined) record.results.push({ text: util.inspect(value), is_main_result: true });
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
process.on('exit', () => {
  fs.writeSync(1, mark + JSON.stringify(record));
});

globalThis.require = require;
globalThis.module = module;
globalThis.exports = module.exports;
try {
  const value = vm.runInThisContext(code, { filename: 'index.js' });
  if (value && typeof value.then === 'function') {
    value.then(show, fail);
  } else {
    show(value);
  }
} catch (error) {
  fail(error);
}
