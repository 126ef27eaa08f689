#!/usr/bin/env node
// Prints every document of the given YAML files as one JSON array (empty documents
// left out), read by js-yaml as validate.mjs reads them. For the system tests, which
// take the CNI configurations out of the manifests.
//   node to-json.mjs FILE.yaml ...
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import yaml from "js-yaml";

const docs = [];
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(readFileSync(file, "utf8"), null, { filename: basename(file) })) {
    if (doc !== null && doc !== undefined) docs.push(doc);
  }
}
process.stdout.write(JSON.stringify(docs, null, 2) + "\n");
