#!/usr/bin/env node
// Validates the Kubernetes manifests without a cluster, as the API server would
// before storing them:
//
//   node validate.mjs [FILE.yaml ...]     (default: deploy/kubernetes/*.yaml)
//
// Every document of every file is checked; one line per document says what was
// checked, errors name the field. Exit status 0 when all are valid, 1 otherwise.
//
// - Built-in kinds (v1 ConfigMap, apps/v1 DaemonSet, ...): the Kubernetes OpenAPI
//   schema through the npm package kubernetes-models (types, enums, required
//   fields), plus unknown fields. The schemas allow extra fields, but the API server
//   (kubectl's default --validate=strict) rejects them, so a misspelled field must
//   fail here too: a field is known when the schema has something to say about it
//   (putting a value of no JSON type there makes the schema report that path).
// - Checks the API server makes that are not in the schemas: object names, a
//   DaemonSet's selector matching its template, volume mounts naming volumes,
//   container names unique, an image for every container.
// - NetworkAttachmentDefinition (Multus' CRD k8s.cni.cncf.io/v1, no model in
//   kubernetes-models): the CRD's schema by hand (spec.config, a string), metadata
//   through the ObjectMeta model.
// - CNI configurations (the ConfigMap's *.conflist/*.conf, a NAD's spec.config):
//   JSON of the shape our macvlan + dhcp accept; the system tests run them through
//   the real plugins.
// - cni-install's arguments: a container that installs a configuration (--conf-source)
//   says whether it is the node's default network (--primary or --secondary), as the
//   installer refuses to guess.
// - Across documents: the DaemonSet's configMap volumes name a ConfigMap of the set
//   in its namespace, and a --conf-source under such a volume names one of its keys.

import { readFileSync, readdirSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { ObjectMeta } from "@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "..", "..");

const CNI_VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];
const MACVLAN_MODES = ["bridge", "private", "vepa", "passthru", "passthrough"];
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

// ---------------------------------------------------------------- helpers

/** "/spec/template/spec/containers/0/image" -> "spec.template.spec.containers[0].image" */
function fieldPath(pointer) {
  let out = "";
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += (out ? "." : "") + part;
  }
  return out || "(document)";
}

function pointerOf(parts) {
  return parts.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Runs a model's schema validation; [] when valid, else "field: message" strings. */
function schemaErrors(ModelClass, data) {
  try {
    new ModelClass(data).validate();
    return [];
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    return e.errors.map((err) => `${fieldPath(err.instancePath)}: ${err.message}` +
      (err.params?.allowedValues ? ` (${err.params.allowedValues.join(", ")})` : ""));
  }
}

function schemaErrorPaths(ModelClass, data) {
  try {
    new ModelClass(data).validate();
    return new Set();
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    return new Set(e.errors.map((err) => err.instancePath));
  }
}

/**
 * Fields the schema does not define. For each object in the document, every one of
 * its values is replaced by a Symbol (no JSON type matches it) in a copy: the fields
 * the schema knows then fail at their own path, the unknown ones pass. Map entries
 * (labels, ConfigMap data) are known through the map's value schema. A field whose
 * schema accepts anything cannot be told from an unknown one; the Kubernetes core
 * kinds have none outside RawExtension and CRD schemas. The document must be valid.
 */
function unknownFields(ModelClass, doc) {
  const unknown = [];
  const visit = (node, parts) => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, [...parts, i]));
      return;
    }
    if (!isObject(node)) return;
    const keys = Object.keys(node);
    if (keys.length === 0) return;
    const copy = structuredClone(doc);
    let target = copy;
    for (const p of parts) target = target[p];
    for (const k of keys) target[k] = Symbol("probe");
    const failed = schemaErrorPaths(ModelClass, copy);
    for (const k of keys) {
      const pointer = pointerOf([...parts, k]);
      if (failed.has(pointer)) visit(node[k], [...parts, k]); // known: look inside
      else unknown.push(fieldPath(pointer)); // unknown: what is inside is too
    }
  };
  visit(doc, []);
  return unknown.map((f) => `${f}: unknown field (not in the ${doc.apiVersion} ${doc.kind} schema)`);
}

async function modelFor(apiVersion, kind) {
  // kubernetes-models/<group>/<version>/<Kind>, the core group as v1/<Kind>.
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) {
    return null;
  }
  try {
    const module = await import(`kubernetes-models/${apiVersion}/${kind}`);
    return module[kind] ?? null;
  } catch (e) {
    if (e.code === "ERR_MODULE_NOT_FOUND" || e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED") return null;
    throw e;
  }
}

function metadataErrors(doc, { namespaced = true } = {}) {
  const errors = [];
  const meta = doc.metadata;
  if (!isObject(meta)) return ["metadata: required"];
  if (typeof meta.name !== "string" || meta.name === "") errors.push("metadata.name: required");
  else if (meta.name.length > 253 || !DNS1123_SUBDOMAIN.test(meta.name)) {
    errors.push(`metadata.name: "${meta.name}" is not a DNS-1123 subdomain (lower case alphanumerics, '-', '.')`);
  }
  if (meta.namespace !== undefined) {
    if (!namespaced) errors.push("metadata.namespace: the kind is not namespaced");
    else if (typeof meta.namespace !== "string" || meta.namespace.length > 63 || !DNS1123_LABEL.test(meta.namespace)) {
      errors.push(`metadata.namespace: "${meta.namespace}" is not a DNS-1123 label`);
    }
  }
  return errors;
}

// ---------------------------------------------------------------- CNI configurations

/** A network configuration our macvlan with dhcp IPAM accepts. `where` prefixes messages. */
function cniPluginErrors(plugin, where) {
  const errors = [];
  if (!isObject(plugin)) return [`${where}: not a JSON object`];
  if (plugin.type !== "macvlan") errors.push(`${where}.type: "${plugin.type}", expected "macvlan"`);
  if (plugin.master !== undefined && (typeof plugin.master !== "string" || plugin.master === "" ||
      plugin.master.length > 15 || /[\s/]/.test(plugin.master))) {
    errors.push(`${where}.master: ${JSON.stringify(plugin.master)} is not an interface name`);
  }
  if (plugin.mode !== undefined && !MACVLAN_MODES.includes(plugin.mode)) {
    errors.push(`${where}.mode: ${JSON.stringify(plugin.mode)} is not one of ${MACVLAN_MODES.join(", ")}`);
  }
  if (plugin.mtu !== undefined && !(Number.isInteger(plugin.mtu) && plugin.mtu >= 0)) {
    errors.push(`${where}.mtu: ${JSON.stringify(plugin.mtu)} is not a non-negative integer`);
  }
  if (!isObject(plugin.ipam)) errors.push(`${where}.ipam: required (an object with "type": "dhcp")`);
  else if (plugin.ipam.type !== "dhcp") errors.push(`${where}.ipam.type: "${plugin.ipam.type}", expected "dhcp"`);
  return errors;
}

function cniVersionErrors(conf, where) {
  if (!CNI_VERSIONS.includes(conf.cniVersion)) {
    return [`${where}.cniVersion: ${JSON.stringify(conf.cniVersion)} is not one of ${CNI_VERSIONS.join(", ")}`];
  }
  return [];
}

function cniNameErrors(conf, where) {
  // libcni: letters, digits, '_', '.', '-', starting with a letter or digit.
  if (typeof conf.name !== "string" || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(conf.name)) {
    return [`${where}.name: ${JSON.stringify(conf.name)} is not a valid network name`];
  }
  return [];
}

/** Returns [errors, description] for a configuration file's text. */
function cniConfigErrors(text, where, { list }) {
  let conf;
  try {
    conf = JSON.parse(text);
  } catch (e) {
    return [[`${where}: not JSON: ${e.message}`], ""];
  }
  if (!isObject(conf)) return [[`${where}: not a JSON object`], ""];
  const errors = [...cniVersionErrors(conf, where), ...cniNameErrors(conf, where)];
  if (list || conf.plugins !== undefined) {
    if (!Array.isArray(conf.plugins) || conf.plugins.length === 0) {
      errors.push(`${where}.plugins: required, a non-empty list`);
      return [errors, ""];
    }
    if (conf.type !== undefined) errors.push(`${where}.type: a conflist names types in its plugins only`);
    conf.plugins.forEach((p, i) => errors.push(...cniPluginErrors(p, `${where}.plugins[${i}]`)));
    return [errors, `${conf.plugins.map((p) => `${p?.type} + ${p?.ipam?.type}`).join(", ")}, cniVersion ${conf.cniVersion}`];
  }
  errors.push(...cniPluginErrors(conf, where));
  return [errors, `${conf.type} + ${conf.ipam?.type}, cniVersion ${conf.cniVersion}`];
}

// ---------------------------------------------------------------- per kind

function configMapChecks(doc) {
  const errors = [], notes = [];
  for (const [key, value] of Object.entries(doc.data ?? {})) {
    if (!CONFIGMAP_KEY.test(key) || key.length > 253) errors.push(`data.${key}: not a valid ConfigMap key`);
    if (key.endsWith(".conflist") || key.endsWith(".conf")) {
      const [e, what] = cniConfigErrors(value, `data["${key}"]`, { list: key.endsWith(".conflist") });
      errors.push(...e);
      if (e.length === 0) notes.push(`CNI config ${key} (${what})`);
    }
  }
  return [errors, notes];
}

/** cni-install refuses a --conf-source whose role (--primary or --secondary) is not said. */
function installerArgErrors(container, at) {
  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  if (!argv.includes("--conf-source")) return [];
  const roles = [...new Set(argv.filter((a) => a === "--primary" || a === "--secondary"))];
  if (roles.length === 1) return [];
  return [`${at}: --conf-source with ${roles.length ? roles.join(" and ") : "neither --primary nor --secondary"}: ` +
    "cni-install needs exactly one (is the network the node's default?)"];
}

function podTemplateChecks(doc) {
  const errors = [], notes = [];
  const spec = doc.spec ?? {};
  const template = spec.template ?? {};
  const podSpec = template.spec ?? {};
  const labels = template.metadata?.labels ?? {};
  const match = spec.selector?.matchLabels ?? {};
  for (const [k, v] of Object.entries(match)) {
    if (labels[k] !== v) errors.push(`spec.selector.matchLabels.${k}: "${v}" does not match the template's label (${JSON.stringify(labels[k])})`);
  }
  if (Object.keys(match).length === 0 && !(spec.selector?.matchExpressions?.length)) {
    errors.push("spec.selector: empty (it must select the template's labels)");
  }
  const volumes = new Map();
  (podSpec.volumes ?? []).forEach((v, i) => {
    if (volumes.has(v.name)) errors.push(`spec.template.spec.volumes[${i}].name: "${v.name}" is used twice`);
    volumes.set(v.name, v);
  });
  const names = new Set();
  const all = [["initContainers", podSpec.initContainers ?? []], ["containers", podSpec.containers ?? []]];
  for (const [list, containers] of all) {
    containers.forEach((c, i) => {
      const at = `spec.template.spec.${list}[${i}]`;
      if (names.has(c.name)) errors.push(`${at}.name: "${c.name}" is used twice`);
      names.add(c.name);
      if (typeof c.name !== "string" || !DNS1123_LABEL.test(c.name)) errors.push(`${at}.name: not a DNS-1123 label`);
      if (!c.image) errors.push(`${at}.image: required`);
      errors.push(...installerArgErrors(c, at));
      const mountPaths = new Set();
      (c.volumeMounts ?? []).forEach((m, j) => {
        if (!volumes.has(m.name)) errors.push(`${at}.volumeMounts[${j}].name: no volume "${m.name}" in spec.template.spec.volumes`);
        if (mountPaths.has(m.mountPath)) errors.push(`${at}.volumeMounts[${j}].mountPath: "${m.mountPath}" mounted twice`);
        mountPaths.add(m.mountPath);
        if (m.mountPropagation === "Bidirectional" && !c.securityContext?.privileged) {
          errors.push(`${at}.volumeMounts[${j}].mountPropagation: Bidirectional needs a privileged container`);
        }
      });
    });
  }
  notes.push(`${names.size} containers, ${volumes.size} volumes, selector matches template`);
  return [errors, notes];
}

/** The DaemonSet's configMap volumes against the ConfigMaps of the set. */
function crossChecks(docs) {
  const errors = [];
  const configMaps = new Map();
  for (const { doc } of docs) {
    if (doc?.kind === "ConfigMap") configMaps.set(`${doc.metadata?.namespace ?? "default"}/${doc.metadata?.name}`, doc);
  }
  for (const { doc, label } of docs) {
    if (!["DaemonSet", "Deployment", "StatefulSet"].includes(doc?.kind)) continue;
    const namespace = doc.metadata?.namespace ?? "default";
    const podSpec = doc.spec?.template?.spec ?? {};
    const mounted = new Map(); // volume name -> ConfigMap
    for (const v of podSpec.volumes ?? []) {
      if (!v.configMap) continue;
      const cm = configMaps.get(`${namespace}/${v.configMap.name}`);
      if (!cm) {
        if (!v.configMap.optional) errors.push(`${label}: volume "${v.name}" names ConfigMap ${namespace}/${v.configMap.name}, which is not in these manifests`);
        continue;
      }
      mounted.set(v.name, cm);
    }
    for (const c of [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])]) {
      const argv = [...(c.command ?? []), ...(c.args ?? [])];
      argv.forEach((arg, i) => {
        if (arg !== "--conf-source" || i + 1 >= argv.length) return;
        const path = argv[i + 1];
        const mount = (c.volumeMounts ?? []).find((m) => mounted.has(m.name) && path.startsWith(m.mountPath.replace(/\/?$/, "/")));
        if (!mount) {
          errors.push(`${label}: container ${c.name}: --conf-source ${path} is not under a ConfigMap volume`);
          return;
        }
        const key = path.slice(mount.mountPath.replace(/\/?$/, "/").length);
        const cm = mounted.get(mount.name);
        if (!(key in (cm.data ?? {}))) errors.push(`${label}: container ${c.name}: --conf-source ${path}: ConfigMap ${cm.metadata.name} has no key "${key}"`);
      });
    }
  }
  return errors;
}

function networkAttachmentChecks(doc) {
  const errors = [], notes = [];
  // Multus' CRD schema: apiVersion, kind, metadata, spec { config: string }.
  for (const key of Object.keys(doc)) {
    if (!["apiVersion", "kind", "metadata", "spec"].includes(key)) errors.push(`${key}: unknown field (not in the NetworkAttachmentDefinition CRD)`);
  }
  if (isObject(doc.metadata)) {
    errors.push(...schemaErrors(ObjectMeta, doc.metadata).map((e) => `metadata.${e}`.replace(/\.\(document\)/, "")));
    if (errors.length === 0) {
      errors.push(...unknownFields(ObjectMeta, { apiVersion: "meta/v1", kind: "ObjectMeta", ...doc.metadata })
        .filter((e) => !/^(apiVersion|kind):/.test(e)).map((e) => `metadata.${e}`));
    }
  }
  if (!isObject(doc.spec)) {
    errors.push("spec: required, an object");
    return [errors, notes];
  }
  for (const key of Object.keys(doc.spec)) {
    if (key !== "config") errors.push(`spec.${key}: unknown field (the CRD has spec.config only)`);
  }
  if (doc.spec.config === undefined) {
    notes.push("no spec.config (Multus then reads the configuration from the node's CNI directory)");
  } else if (typeof doc.spec.config !== "string") {
    errors.push("spec.config: must be string (JSON text)");
  } else {
    const [e, what] = cniConfigErrors(doc.spec.config, "spec.config", { list: false });
    errors.push(...e);
    if (e.length === 0) notes.push(`spec.config (${what})`);
  }
  return [errors, notes];
}

// ---------------------------------------------------------------- main

async function checkDocument(doc) {
  if (!isObject(doc)) return [["not a mapping"], []];
  const errors = [], notes = [];
  for (const key of ["apiVersion", "kind"]) {
    if (typeof doc[key] !== "string" || doc[key] === "") errors.push(`${key}: required`);
  }
  if (errors.length) return [errors, notes];
  errors.push(...metadataErrors(doc));

  if (doc.apiVersion === "k8s.cni.cncf.io/v1" && doc.kind === "NetworkAttachmentDefinition") {
    const [e, n] = networkAttachmentChecks(doc);
    return [[...errors, ...e], ["NetworkAttachmentDefinition CRD schema, metadata (ObjectMeta schema)", ...n]];
  }
  const ModelClass = await modelFor(doc.apiVersion, doc.kind);
  if (!ModelClass) return [[...errors, `no schema for ${doc.apiVersion} ${doc.kind} (kubernetes-models has none)`], notes];
  const fromSchema = schemaErrors(ModelClass, doc);
  errors.push(...fromSchema);
  if (fromSchema.length === 0) errors.push(...unknownFields(ModelClass, doc));
  notes.push("OpenAPI schema, no unknown fields");
  let e = [], n = [];
  if (doc.kind === "ConfigMap") [e, n] = configMapChecks(doc);
  else if (doc.spec?.template?.spec) [e, n] = podTemplateChecks(doc);
  return [[...errors, ...e], [...notes, ...n]];
}

function defaultFiles() {
  const dir = join(repoRoot, "deploy", "kubernetes");
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));
}

async function main(argv) {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log("usage: node validate.mjs [FILE.yaml ...]   (default: deploy/kubernetes/*.yaml)");
    return 0;
  }
  const files = argv.length ? argv.map((f) => resolve(f)) : defaultFiles();
  const version = JSON.parse(readFileSync(join(here, "node_modules", "kubernetes-models", "package.json"), "utf8")).version;
  console.log(`kubernetes-models ${version}: validating ${files.length} file(s)`);
  let failures = 0, checked = 0;
  const docs = [];
  for (const file of files) {
    const shown = file.startsWith(repoRoot + "/") ? relative(repoRoot, file) : file;
    let parsed;
    try {
      parsed = yaml.loadAll(readFileSync(file, "utf8"), null, { filename: basename(file) });
    } catch (e) {
      console.log(`FAIL ${shown}: ${e.message}`);
      failures++;
      continue;
    }
    let index = 0;
    for (const doc of parsed) {
      index++;
      if (doc === null || doc === undefined) continue; // an empty document, as kubectl skips it
      const label = `${shown} #${index} ${doc?.apiVersion ?? "?"} ${doc?.kind ?? "?"} ` +
        `${doc?.metadata?.namespace ? doc.metadata.namespace + "/" : ""}${doc?.metadata?.name ?? "?"}`;
      const [errors, notes] = await checkDocument(doc);
      checked++;
      docs.push({ doc, label });
      if (errors.length) {
        failures++;
        console.log(`FAIL ${label}`);
        for (const e of errors) console.log(`     ${e}`);
      } else {
        console.log(`ok   ${label}: ${notes.join("; ")}`);
      }
    }
  }
  const cross = crossChecks(docs);
  for (const e of cross) console.log(`FAIL ${e}`);
  failures += cross.length;
  if (checked === 0) {
    console.log("FAIL no document found");
    failures++;
  }
  console.log(`${checked} document(s) checked, ${failures} failure(s)`);
  return failures ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
  console.error(`validate.mjs: ${e.stack ?? e}`);
  process.exitCode = 2;
});
