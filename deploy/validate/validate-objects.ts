/**
 * Every check one rendered object gets, built-in kind or custom resource: its JSON schema and
 * strict field validation (no field the API server would reject as unknown).
 */
import { schemaErrors, StrictFieldChecker, type K8sObject } from './k8s-schema';
import { customResourceSchemaErrors, isCustomResource } from './custom-resources';

const idOf = (object: K8sObject): string => `${object.kind}/${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`;

/** Readable problems of all objects; [] when every one is valid. */
export function validationErrors(objects: K8sObject[], strict = new StrictFieldChecker(objects)): string[] {
  const custom = objects.filter(isCustomResource);
  const customErrors = customResourceSchemaErrors(custom);
  return objects.flatMap((object) => {
    const schema = isCustomResource(object) ? customErrors[custom.indexOf(object)] : schemaErrors(object);
    return [...schema, ...strict.unknownFields(object)].map((error) => `${idOf(object)}: ${error}`);
  });
}
