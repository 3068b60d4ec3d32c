import { dirname, join } from 'node:path';
import ts from 'typescript';
import type { K8sObject } from './kustomize';

/** Where each kind's typings live in kubernetes-models, and the interface to check against. */
const TYPINGS: Record<string, [module: string, type: string]> = {
  ConfigMap: ['kubernetes-models/v1/ConfigMap', 'IConfigMap'],
  Secret: ['kubernetes-models/v1/Secret', 'ISecret'],
  Service: ['kubernetes-models/v1/Service', 'IService'],
  ServiceAccount: ['kubernetes-models/v1/ServiceAccount', 'IServiceAccount'],
  Deployment: ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  Job: ['kubernetes-models/batch/v1/Job', 'IJob'],
  PodDisruptionBudget: ['kubernetes-models/policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'],
  NetworkPolicy: ['kubernetes-models/networking.k8s.io/v1/NetworkPolicy', 'INetworkPolicy'],
  Pod: ['kubernetes-models/v1/Pod', 'IPod'],
  MutatingWebhookConfiguration: [
    'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration',
    'IMutatingWebhookConfiguration',
  ],
};

const declarations = new Map<string, ts.SourceFile | undefined>();

/**
 * Type-checks each object, written out as an object literal, against the kubernetes-models
 * interface of its kind. This complements `validate()`, whose JSON schemas accept unknown fields:
 * TypeScript's excess-property check rejects a misspelled field at any depth
 * (`readOnlyRootFileSystem`, `initContainer`, `restartpolicy`), which the API server would
 * drop without a word. Returns the compiler's messages, empty when every object is well-formed.
 */
export function typeCheckObjects(objects: K8sObject[], besideFile: string): string[] {
  const file = join(dirname(besideFile), '__rendered_manifests__.ts');
  const lines: string[] = [];
  objects.forEach((object, index) => {
    const typing = TYPINGS[object.kind];
    if (!typing) throw new Error(`no typings mapped for ${object.kind}`);
    lines.push(`import type { ${typing[1]} as T${index} } from '${typing[0]}';`);
  });
  objects.forEach((object, index) => {
    lines.push(`// ${object.kind}/${object.metadata.name}`);
    lines.push(`export const o${index}: T${index} = ${JSON.stringify(object, null, 2)};`);
  });
  const source = lines.join('\n');

  const options: ts.CompilerOptions = {
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, ...rest) => {
    if (name === file) return ts.createSourceFile(name, source, ts.ScriptTarget.ES2022, true);
    // The lib and kubernetes-models declarations do not change between calls: parse them once.
    if (!declarations.has(name)) declarations.set(name, getSourceFile(name, ...rest));
    return declarations.get(name);
  };
  host.fileExists = (name) => name === file || fileExists(name);
  host.readFile = (name) => (name === file ? source : readFile(name));

  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!diagnostic.file || diagnostic.start === undefined) return message;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const object = source
      .split('\n')
      .slice(0, line)
      .reverse()
      .find((l) => l.startsWith('// '));
    return `${object?.slice(3) ?? '?'}: ${message}`;
  });
}
