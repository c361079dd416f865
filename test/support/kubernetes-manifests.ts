import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './deploy-files.js';

export const KUBERNETES_DIR = join(ROOT, 'deploy', 'kubernetes');

/** The fields of the Kubernetes objects the tests look at. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; labels?: Record<string, string> };
  readonly data?: Record<string, string>;
  readonly stringData?: Record<string, string>;
  readonly spec?: {
    readonly selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    readonly ports?: { name?: string; port: number; targetPort?: number | string }[];
    readonly template?: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

export interface Probe {
  readonly httpGet?: { path: string; port: number | string };
  readonly periodSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly failureThreshold?: number;
}

export interface Container {
  readonly name: string;
  readonly ports?: { name?: string; containerPort: number }[];
  readonly envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readonly env?: { name: string; value?: string; valueFrom?: unknown }[];
  readonly resources?: {
    requests?: Record<string, string>;
    limits?: Record<string, string>;
  };
  readonly startupProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly lifecycle?: {
    preStop?: { sleep?: { seconds: number }; exec?: { command: string[] } };
  };
}

export interface PodSpec {
  readonly terminationGracePeriodSeconds?: number;
  readonly containers: Container[];
}

/** Every object of every manifest under deploy/kubernetes (kustomization.yaml aside). */
export function readManifests(): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const file of readdirSync(KUBERNETES_DIR).sort()) {
    if (!/\.ya?ml$/.test(file) || file === 'kustomization.yaml') continue;
    for (const doc of parseAllDocuments(readFileSync(join(KUBERNETES_DIR, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      const object = doc.toJS() as K8sObject | null;
      if (object) objects.push(object);
    }
  }
  return objects;
}

/** The files kustomization.yaml applies. */
export function kustomizationResources(): string[] {
  const [doc] = parseAllDocuments(readFileSync(join(KUBERNETES_DIR, 'kustomization.yaml'), 'utf8'));
  return (doc.toJS() as { resources: string[] }).resources;
}

/** The environment a container starts with: its ConfigMaps and Secrets, then its own `env`. */
export function containerEnv(container: Container, objects: K8sObject[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    const kind = source.configMapRef ? 'ConfigMap' : 'Secret';
    const object = objects.find((o) => o.kind === kind && o.metadata.name === ref?.name);
    if (!object) throw new Error(`${container.name}: envFrom names a missing ${kind} ${ref?.name}`);
    Object.assign(env, object.data ?? {}, object.stringData ?? {});
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
  }
  return env;
}

/** A probe's or Service's port, named or numbered, as the container's port number. */
export function resolvePort(container: Container, port: number | string | undefined): number {
  if (typeof port === 'number') return port;
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`${container.name} has no port named ${String(port)}`);
  return named.containerPort;
}
