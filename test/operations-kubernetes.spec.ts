import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { APP_SETTINGS, loadAppConfig } from '../src/edupulse/app.config.js';
import { HealthController } from '../src/edupulse/health/health.controller.js';
import { outboxConfigFromEnv } from '../src/edupulse/outbox.config.js';
import { OUTBOX_SETTINGS } from '../src/outbox/config/outbox-settings.js';
import { resolveOutboxOptions } from '../src/outbox/config/resolve-outbox-options.js';
import { INBOX_SETTINGS } from '../src/outbox/inbox/inbox-settings.js';
import { NATS_TRANSPORT_SETTINGS } from '../src/outbox/nats/nats-transport.settings.js';
import { RABBITMQ_TRANSPORT_SETTINGS } from '../src/outbox/rabbitmq/rabbitmq-transport.settings.js';
import {
  containerEnv,
  kustomizationResources,
  readManifests,
  resolvePort,
  type Container,
  type K8sObject,
} from './support/kubernetes-manifests.js';

/** The GET routes HealthController serves, read from Nest's route metadata. */
function healthRoutes(): Set<string> {
  const join = (...parts: string[]) =>
    '/' +
    parts
      .flatMap((p) => p.split('/'))
      .filter(Boolean)
      .join('/');
  const base = Reflect.getMetadata(PATH_METADATA, HealthController) as string;
  const routes = new Set<string>();
  const proto = HealthController.prototype as unknown as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const handler = proto[name];
    if (typeof handler !== 'function' || name === 'constructor') continue;
    const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
    const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
    if (path !== undefined && method === RequestMethod.GET) routes.add(join(base, path));
  }
  return routes;
}

/** Settings flagged as credentials anywhere: they belong in a Secret. */
const SECRET_VARIABLES = [
  ...APP_SETTINGS,
  ...OUTBOX_SETTINGS,
  ...INBOX_SETTINGS,
  ...NATS_TRANSPORT_SETTINGS,
  ...RABBITMQ_TRANSPORT_SETTINGS,
]
  .filter((s) => 'secret' in s && s.secret)
  .map((s) => s.env);

describe('the Kubernetes manifests in deploy/kubernetes', () => {
  const objects = readManifests();
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const container = (d: K8sObject): Container => {
    const containers = d.spec!.template!.spec.containers;
    expect(containers).toHaveLength(1);
    return containers[0];
  };
  const envOf = (d: K8sObject) => containerEnv(container(d), objects);
  const resolved = (d: K8sObject) => resolveOutboxOptions(outboxConfigFromEnv(envOf(d)).outbox);

  it('are all applied by kustomization.yaml (the ServiceMonitor, which needs the operator, aside)', () => {
    const files = kustomizationResources();
    for (const file of ['configmap.yaml', 'secret.yaml', 'service.yaml']) {
      expect(files).toContain(file);
    }
    expect(files.filter((f) => f.startsWith('deployment-'))).toHaveLength(2);
    expect(files).not.toContain('servicemonitor.yaml');
  });

  it('split the service into writer-only and relay Deployments behind one Service', () => {
    expect(deployments).toHaveLength(2);
    const relayEnabled = deployments.map((d) => [d.metadata.name, resolved(d).relayEnabled]);
    expect(relayEnabled).toEqual(
      expect.arrayContaining([
        ['edupulse-writer', false],
        ['edupulse-relay', true],
      ]),
    );
    const services = objects.filter((o) => o.kind === 'Service');
    expect(services).toHaveLength(1);
    const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(selector).every(([key, value]) => labels[key] === value);
    const selector = services[0].spec!.selector as Record<string, string>;
    for (const d of deployments) {
      const labels = d.spec!.template!.metadata.labels;
      // The Service reaches every pod; each Deployment owns only its own.
      expect(matches(selector, labels)).toBe(true);
      expect(matches(d.spec!.selector!.matchLabels!, labels)).toBe(true);
      for (const other of deployments.filter((o) => o !== d)) {
        expect(matches(d.spec!.selector!.matchLabels!, other.spec!.template!.metadata.labels)).toBe(
          false,
        );
      }
      // The Service's target port is the container's HTTP port.
      const port = services[0].spec!.ports![0];
      expect(resolvePort(container(d), port.targetPort)).toBe(Number(envOf(d).PORT));
    }
  });

  it('probe paths the HealthController serves: startup and liveness /health/live, readiness /health/ready', () => {
    const routes = healthRoutes();
    expect(routes).toEqual(new Set(['/health', '/health/live', '/health/ready']));
    for (const d of deployments) {
      const c = container(d);
      expect(c.startupProbe?.httpGet?.path).toBe('/health/live');
      expect(c.livenessProbe?.httpGet?.path).toBe('/health/live');
      expect(c.readinessProbe?.httpGet?.path).toBe('/health/ready');
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
        expect(routes.has(probe!.httpGet!.path)).toBe(true);
        expect(resolvePort(c, probe!.httpGet!.port)).toBe(Number(envOf(d).PORT));
      }
      // The startup probe gives the process time; liveness does not kill it while it starts.
      const startupSeconds = c.startupProbe!.periodSeconds! * c.startupProbe!.failureThreshold!;
      expect(startupSeconds).toBeGreaterThanOrEqual(30);
    }
  });

  it('listen on the PORT of the ConfigMap', () => {
    for (const d of deployments) {
      const env = envOf(d);
      expect(env.PORT).toBeDefined();
      expect(loadAppConfig(env).port).toBe(Number(env.PORT));
      expect(container(d).ports?.map((p) => p.containerPort)).toEqual([Number(env.PORT)]);
    }
  });

  it('take settings from a ConfigMap and credentials (DATABASE_URL, NATS_SERVERS) from a Secret, all valid', () => {
    const configMaps = objects.filter((o) => o.kind === 'ConfigMap');
    const secrets = objects.filter((o) => o.kind === 'Secret');
    expect(SECRET_VARIABLES).toEqual(expect.arrayContaining(['DATABASE_URL', 'NATS_SERVERS']));
    for (const d of deployments) {
      const c = container(d);
      const fromSecrets = new Set(
        secrets
          .filter((s) => c.envFrom?.some((e) => e.secretRef?.name === s.metadata.name))
          .flatMap((s) => Object.keys({ ...s.data, ...s.stringData })),
      );
      const inPlainSight = [
        ...configMaps
          .filter((m) => c.envFrom?.some((e) => e.configMapRef?.name === m.metadata.name))
          .flatMap((m) => Object.keys(m.data ?? {})),
        ...(c.env ?? []).filter((v) => v.value !== undefined).map((v) => v.name),
      ];
      expect(c.envFrom?.some((e) => e.configMapRef)).toBe(true);
      expect(fromSecrets).toEqual(new Set(['DATABASE_URL', 'NATS_SERVERS']));
      expect(inPlainSight.filter((name) => SECRET_VARIABLES.includes(name))).toEqual([]);
      // The service would start with this environment: every variable validates.
      const env = envOf(d);
      expect(() => loadAppConfig(env)).not.toThrow();
      expect(() => outboxConfigFromEnv(env)).not.toThrow();
      expect(env.LOG_FORMAT).toBe('json');
    }
  });

  it('ask for resources: CPU and memory requests, a memory limit', () => {
    for (const d of deployments) {
      const { requests, limits } = container(d).resources ?? {};
      expect(requests?.cpu).toBeTruthy();
      expect(requests?.memory).toBeTruthy();
      expect(limits?.memory).toBeTruthy();
    }
  });

  it('give pods a grace period longer than the preStop pause plus the shutdown timeout (configured or defaulted)', () => {
    const defaultMs = Number(
      OUTBOX_SETTINGS.find((s) => s.env === 'OUTBOX_SHUTDOWN_TIMEOUT_MS')!.default,
    );
    expect(defaultMs).toBe(10_000);
    for (const d of deployments) {
      const shutdownTimeoutMs = resolved(d).shutdownTimeoutMs;
      expect(shutdownTimeoutMs).toBe(Number(envOf(d).OUTBOX_SHUTDOWN_TIMEOUT_MS ?? defaultMs));
      const preStop = container(d).lifecycle?.preStop;
      const pauseSeconds =
        preStop?.sleep?.seconds ??
        Number(preStop?.exec?.command.find((arg) => /^\d+$/.test(arg)) ?? 0);
      const grace = d.spec!.template!.spec.terminationGracePeriodSeconds;
      expect(grace).toBeDefined();
      expect(grace! * 1_000).toBeGreaterThan(pauseSeconds * 1_000 + shutdownTimeoutMs);
    }
  });
});
