#!/usr/bin/env node
// Runs the Khronos glTF validator (npm package `gltf-validator`, installed globally by
// scripts/deps.sh) on one .gltf/.glb file and prints the report's issues as JSON:
// {"numErrors", "numWarnings", "numInfos", "numHints", "messages": [...]}.
// Exit status: 0 when there are no errors and no warnings, 1 when there are, 2 on a usage or
// read error, 3 when the validator package is not installed (callers skip then).
'use strict';
const fs = require('fs');
const path = require('path');

function loadValidator() {
  try {
    return require('gltf-validator');
  } catch (e) {
    // A global install is not on Node's default search path.
    try {
      const root = require('child_process').execSync('npm root -g', {encoding: 'utf8'}).trim();
      return require(path.join(root, 'gltf-validator'));
    } catch (e2) {
      return null;
    }
  }
}

if (process.argv.length !== 3) {
  console.error('usage: validate_gltf.js FILE.glb');
  process.exit(2);
}
const validator = loadValidator();
if (validator === null) {
  console.error('gltf-validator is not installed (npm install -g gltf-validator)');
  process.exit(3);
}
let bytes;
try {
  bytes = new Uint8Array(fs.readFileSync(process.argv[2]));
} catch (e) {
  console.error(String(e));
  process.exit(2);
}
validator.validateBytes(bytes, {uri: path.basename(process.argv[2]), maxIssues: 0})
    .then((report) => {
      console.log(JSON.stringify(report.issues, null, 2));
      process.exit(report.issues.numErrors === 0 && report.issues.numWarnings === 0 ? 0 : 1);
    })
    .catch((error) => {
      console.error('validation failed: ' + String(error));
      process.exit(2);
    });
