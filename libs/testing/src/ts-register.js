/* eslint-disable */
// Lets a child process run this repo's TypeScript directly (tests spawn the node daemon with it):
//   node -r ./libs/testing/src/ts-register.js apps/node-agent/src/main.ts
// Compiles .ts with @swc/core (as jest does) and resolves the @berth/* path aliases.
'use strict';
const path = require('path');
const Module = require('module');
const { addHook } = require('pirates');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '../../..');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const m = /^@berth\/([a-z-]+)$/.exec(request);
  return resolve.call(this, m ? path.join(root, 'libs', m[1], 'src') : request, ...rest);
};
addHook(
  (code, filename) =>
    swc.transformSync(code, {
      filename,
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        keepClassNames: true,
      },
      module: { type: 'commonjs' },
      sourceMaps: 'inline',
    }).code,
  { exts: ['.ts'], ignoreNodeModules: true },
);
