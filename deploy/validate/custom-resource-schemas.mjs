// Validates custom resources against the JSON schemas of their @kubernetes-models package, for
// ./custom-resources.ts (those packages are ES modules only, hence a process of its own).
// stdin: {"packages": {"<API group>": "<package>"}, "objects": [...]}
// stdout: one list of error strings per object, empty when it is valid.
import { readFileSync } from 'node:fs';

const { packages, objects } = JSON.parse(readFileSync(0, 'utf8'));

async function modelOf(apiVersion, kind) {
  const slash = String(apiVersion).indexOf('/');
  const pkg = packages[String(apiVersion).slice(0, slash)];
  if (slash < 0 || !pkg || !/^[A-Za-z0-9]+$/.test(String(kind))) return null;
  try {
    const model = (await import(`${pkg}/${apiVersion}/${kind}`))[kind];
    return typeof model === 'function' && model.apiVersion === apiVersion && model.kind === kind ? model : null;
  } catch {
    return null;
  }
}

async function errorsOf(object) {
  const Model = await modelOf(object?.apiVersion, object?.kind);
  if (!Model) return [`no custom resource schema for ${object?.apiVersion} ${object?.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    if (!error?.errors?.length) return [String(error)];
    return error.errors.map((detail) => `${detail.instancePath || '/'} ${detail.message ?? ''} ${JSON.stringify(detail.params ?? {})}`.trim());
  }
}

const results = [];
for (const object of objects) results.push(await errorsOf(object));
process.stdout.write(JSON.stringify(results));
