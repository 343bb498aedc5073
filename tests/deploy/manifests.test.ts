// deploy/ cannot run here (no container engine), so these tests parse every manifest and cross-check
// them against the source tree and against each other: entry points exist, every O2O_* variable handed
// to a service is one it reads (and its config loads with them), ports and addresses agree between
// containers, Services and env vars, one image everywhere, secrets only referenced, never inlined.
// Checks that need a service's code are skipped (with the reason) while that service does not exist.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

const repo = resolve(import.meta.dirname, '..', '..');
const deployDir = join(repo, 'deploy');
const k8sDir = join(deployDir, 'k8s');
const SERVICES = ['world-model', 'learner', 'coordinator', 'simulator'] as const;
type ServiceName = (typeof SERVICES)[number];
const GRPC_SERVICES: ServiceName[] = ['world-model', 'learner', 'simulator'];
const IMAGE = 'o2o:latest';
const WORKLOAD_KINDS = ['Deployment', 'Job', 'StatefulSet'];

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML
type Doc = any;

function readYaml(path: string): Doc {
  return parse(readFileSync(path, 'utf8'), { merge: true });
}

function k8sDocs(): { file: string; doc: Doc }[] {
  const out: { file: string; doc: Doc }[] = [];
  for (const f of readdirSync(k8sDir).filter((n) => /^\d\d-.*\.ya?ml$/.test(n))) {
    for (const d of parseAllDocuments(readFileSync(join(k8sDir, f), 'utf8'))) {
      assert.deepEqual(d.errors, [], `${f}: YAML errors`);
      const doc = d.toJS();
      if (doc !== null && doc !== undefined) out.push({ file: f, doc });
    }
  }
  return out;
}

const compose = (): Doc => readYaml(join(deployDir, 'docker-compose.yml'));
const mainPath = (service: string): string => join(repo, 'services', service, 'main.ts');
const serviceExists = (service: string): boolean => existsSync(mainPath(service));

/** Project .ts files reachable by relative imports from `entry` (static and dynamic). */
function importClosure(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file) || !existsSync(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+\.ts)['"]/g)) {
      stack.push(resolve(dirname(file), m[1]!));
    }
  }
  return [...seen];
}

/** The O2O_* names a service's code (and the project code it imports) mentions. */
function envVarsRead(service: string): Set<string> {
  const names = new Set<string>();
  for (const file of importClosure(mainPath(service))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\bO2O_[A-Z0-9_]*[A-Z0-9]\b/g)) names.add(m[0]);
  }
  return names;
}

interface Container {
  where: string;
  service: ServiceName;
  image: string;
  command: string[];
  env: Record<string, string>;
  ports: number[];
}

function composeContainers(): Container[] {
  const c = compose();
  const out: Container[] = [];
  for (const [name, svc] of Object.entries<Doc>(c.services)) {
    if (svc.image !== IMAGE && svc.build === undefined) continue;
    out.push({
      where: `docker-compose.yml services.${name}`,
      service: name as ServiceName,
      image: svc.image,
      command: svc.command,
      env: Object.fromEntries(Object.entries<unknown>(svc.environment ?? {}).map(([k, v]) => [k, String(v)])),
      ports: (svc.expose ?? []).map(Number),
    });
  }
  return out;
}

function k8sContainers(): Container[] {
  const docs = k8sDocs();
  const configMaps = new Map<string, Record<string, string>>(
    docs.filter((d) => d.doc.kind === 'ConfigMap').map((d) => [d.doc.metadata.name, d.doc.data]),
  );
  const out: Container[] = [];
  for (const { file, doc } of docs) {
    if (!WORKLOAD_KINDS.includes(doc.kind)) continue;
    for (const ct of doc.spec.template.spec.containers) {
      if (!String(ct.image).startsWith('o2o')) continue;
      const env: Record<string, string> = {};
      for (const ref of ct.envFrom ?? []) {
        const data = configMaps.get(ref.configMapRef?.name);
        assert.ok(data, `${file}: envFrom names ConfigMap ${ref.configMapRef?.name}, which is not defined`);
        Object.assign(env, data);
      }
      for (const e of ct.env ?? []) env[e.name] = e.value ?? '(from ref)';
      out.push({
        where: `k8s/${file} ${doc.metadata.name}`,
        service: doc.metadata.name,
        image: ct.image,
        command: ct.args,
        env,
        ports: (ct.ports ?? []).map((p: Doc) => p.containerPort),
      });
    }
  }
  return out;
}

const allContainers = (): Container[] => [...composeContainers(), ...k8sContainers()];

function portOf(address: string): number {
  const m = /:(\d+)$/.exec(address);
  assert.ok(m, `no port in ${address}`);
  return Number(m[1]);
}

describe('deploy/ manifests', () => {
  it('every YAML file parses', () => {
    const files = [
      'docker-compose.yml',
      'otel-collector.yaml',
      ...readdirSync(k8sDir).map((f) => `k8s/${f}`),
    ].filter((f) => /\.ya?ml$/.test(f));
    for (const f of files) {
      for (const d of parseAllDocuments(readFileSync(join(deployDir, f), 'utf8'))) {
        assert.deepEqual(d.errors, [], `${f}: ${d.errors.map((e) => e.message).join('; ')}`);
      }
    }
    assert.ok(files.length >= 10);
  });

  it('the four services run from the one image, in compose and in Kubernetes', () => {
    const byWhere = (list: Container[]) => list.map((c) => c.service).sort();
    assert.deepEqual(byWhere(composeContainers()), [...SERVICES].sort());
    assert.deepEqual(byWhere(k8sContainers()), [...SERVICES].sort());
    for (const c of allContainers()) assert.equal(c.image, IMAGE, `${c.where}: image`);
    const built = Object.entries<Doc>(compose().services).filter(([, s]) => s.build !== undefined);
    assert.equal(built.length, 1, 'the image is built once in compose');
    assert.equal(built[0]![1].build.dockerfile, 'deploy/Dockerfile');
    assert.equal(built[0]![1].build.context, '..');
    const kustomization = readYaml(join(k8sDir, 'kustomization.yaml'));
    assert.deepEqual(
      kustomization.images.map((i: Doc) => `${i.name}:${i.newTag}`),
      [IMAGE],
    );
    const listed = new Set<string>(kustomization.resources);
    for (const f of readdirSync(k8sDir).filter((n) => /^\d\d-/.test(n)))
      assert.ok(listed.has(f), `${f} not in kustomization`);
  });

  for (const service of SERVICES) {
    it(`${service}: the command is services/${service}/main.ts and the env vars match what it reads`, async function () {
      for (const c of allContainers().filter((x) => x.service === service)) {
        assert.deepEqual(c.command, [`services/${service}/main.ts`], `${c.where}: command`);
      }
      if (!serviceExists(service)) {
        this.skip(); // services/<name>/main.ts not written yet: nothing to cross-check against
      }
      const read = envVarsRead(service);
      for (const c of allContainers().filter((x) => x.service === service)) {
        for (const name of Object.keys(c.env).filter((n) => n.startsWith('O2O_'))) {
          assert.ok(read.has(name), `${c.where}: sets ${name}, which services/${service} never reads`);
        }
      }
      const configPath = join(repo, 'services', service, 'config.ts');
      if (!existsSync(configPath)) return;
      const config = (await import(pathToFileURL(configPath).href)) as {
        loadConfig?: (env: NodeJS.ProcessEnv, argv?: string[]) => unknown;
      };
      assert.equal(typeof config.loadConfig, 'function', `services/${service}/config.ts exports loadConfig`);
      for (const c of allContainers().filter((x) => x.service === service)) {
        // What the container gets: its own variables (secret refs stand in as placeholders).
        const env = Object.fromEntries(
          Object.entries(c.env).map(([k, v]) => [k, composeDefault(v).replace('(from ref)', '10.0.0.1')]),
        );
        delete env['O2O_NATS_TOKEN_FILE'];
        try {
          config.loadConfig!(env, []);
        } catch (err) {
          assert.fail(`${c.where}: services/${service} rejects its environment: ${(err as Error).message}`);
        }
      }
    });
  }

  it('gRPC ports agree between O2O_LISTEN, container ports, compose expose and Kubernetes Services', () => {
    const docs = k8sDocs();
    for (const c of allContainers()) {
      if (!GRPC_SERVICES.includes(c.service)) {
        assert.deepEqual(c.ports, [], `${c.where}: the coordinator has no gRPC server`);
        continue;
      }
      const listen = c.env['O2O_LISTEN'] ?? '';
      assert.ok(
        listen?.startsWith('0.0.0.0:'),
        `${c.where}: O2O_LISTEN must bind all interfaces in a container`,
      );
      assert.deepEqual(c.ports, [portOf(listen)], `${c.where}: exposed port vs O2O_LISTEN`);
    }
    for (const service of GRPC_SERVICES) {
      const svc = docs.find((d) => d.doc.kind === 'Service' && d.doc.metadata.name === service);
      assert.ok(svc, `k8s: no Service for ${service}`);
      const deployment = docs.find(
        (d) => d.doc.kind === 'Deployment' && d.doc.metadata.name === service,
      )!.doc;
      const named = deployment.spec.template.spec.containers[0].ports;
      for (const p of svc.doc.spec.ports) {
        const target = named.find((x: Doc) => x.name === p.targetPort || x.containerPort === p.targetPort);
        assert.ok(target, `k8s Service ${service}: targetPort ${p.targetPort} is no container port`);
      }
      assert.deepEqual(
        svc.doc.spec.selector,
        deployment.spec.selector.matchLabels,
        `k8s Service ${service}: selector`,
      );
    }
  });

  it('addresses in env vars point at services that listen there (world model, NATS, collector)', () => {
    const docs = k8sDocs();
    const k8sServicePorts = (name: string): number[] =>
      docs
        .find((d) => d.doc.kind === 'Service' && d.doc.metadata.name === name)
        ?.doc.spec.ports.map((p: Doc) => p.port) ?? [];
    const c = compose();
    const composePorts = (name: string): number[] => {
      const s = c.services[name];
      assert.ok(s, `compose: no service ${name}`);
      const ports = [...(s.expose ?? []), ...(s.ports ?? []).map((p: string) => p.split(':').pop())];
      if (name === 'nats') ports.push(4222);
      if (name === 'otel-collector') ports.push(...collectorPorts());
      return ports.map(Number);
    };
    for (const ct of allContainers()) {
      const compose = ct.where.startsWith('docker-compose');
      const ports = compose ? composePorts : k8sServicePorts;
      const check = (variable: string, host: string, port: number) =>
        assert.ok(
          ports(host).includes(port),
          `${ct.where}: ${variable} -> ${host}:${port}, which nothing serves`,
        );
      const nats = new URL(ct.env['O2O_NATS_URL']!);
      check('O2O_NATS_URL', nats.hostname, Number(nats.port));
      const otlp = new URL(ct.env['OTEL_EXPORTER_OTLP_ENDPOINT']!);
      check('OTEL_EXPORTER_OTLP_ENDPOINT', otlp.hostname, Number(otlp.port));
      assert.ok(collectorPorts().includes(Number(otlp.port)), 'the collector receives OTLP on that port');
      const wm = ct.env['O2O_LEARNER_WM_ADDRESS'];
      if (wm !== undefined) check('O2O_LEARNER_WM_ADDRESS', wm.split(':')[0]!, portOf(wm));
    }
    const collector = readYaml(join(deployDir, 'otel-collector.yaml'));
    const jaeger = collector.exporters['otlp/jaeger'].endpoint as string;
    assert.ok(
      k8sServicePorts('jaeger').includes(portOf(jaeger)),
      `collector exports to ${jaeger}, not a jaeger port`,
    );
  });

  it('the Kubernetes collector config is deploy/otel-collector.yaml', () => {
    const cm = k8sDocs().find(
      (d) => d.doc.kind === 'ConfigMap' && d.doc.metadata.name === 'otel-collector-config',
    )!;
    assert.deepEqual(parse(cm.doc.data['config.yaml']), readYaml(join(deployDir, 'otel-collector.yaml')));
  });

  it('NATS: JetStream on persistent storage; token and TLS only referenced from Secrets, mounted where the env says', () => {
    const docs = k8sDocs();
    assert.ok(!docs.some((d) => d.doc.kind === 'Secret'), 'no Secret objects are committed');
    const sts = docs.find((d) => d.doc.kind === 'StatefulSet' && d.doc.metadata.name === 'nats')!.doc;
    assert.equal(sts.spec.volumeClaimTemplates[0].metadata.name, 'data');
    const natsConf = docs.find((d) => d.doc.kind === 'ConfigMap' && d.doc.metadata.name === 'nats-config')!
      .doc.data['nats.conf'];
    assert.match(natsConf, /jetstream\s*\{[^}]*store_dir:\s*\/data\//);
    assert.match(natsConf, /token:\s*\$O2O_NATS_TOKEN/);
    const natsEnv = sts.spec.template.spec.containers[0].env;
    assert.deepEqual(natsEnv.find((e: Doc) => e.name === 'O2O_NATS_TOKEN').valueFrom.secretKeyRef, {
      name: 'o2o-nats-auth',
      key: 'token',
    });
    const configMap = docs.find((d) => d.doc.kind === 'ConfigMap' && d.doc.metadata.name === 'o2o-env')!.doc
      .data;
    const workloads = docs.filter(
      (d) => WORKLOAD_KINDS.includes(d.doc.kind) && SERVICES.includes(d.doc.metadata.name),
    );
    assert.equal(workloads.length, SERVICES.length);
    for (const { doc } of workloads) {
      const pod = doc.spec.template.spec;
      const mounts = pod.containers[0].volumeMounts as Doc[];
      for (const variable of ['O2O_NATS_TOKEN_FILE', 'O2O_NATS_TLS_CA']) {
        const path = configMap[variable] as string;
        const mount = mounts.find((m) => path.startsWith(`${m.mountPath}/`));
        assert.ok(mount, `${doc.metadata.name}: ${variable}=${path} is not under any volume mount`);
        const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
        assert.ok(volume.secret, `${doc.metadata.name}: ${variable} must come from a Secret`);
        const file = path.slice(mount.mountPath.length + 1);
        assert.ok(
          volume.secret.items.some((i: Doc) => i.path === file),
          `${doc.metadata.name}: Secret ${volume.secret.secretName} does not provide ${file}`,
        );
      }
    }
    const c = compose();
    assert.equal(
      c.services.nats.volumes.some((v: string) => v.startsWith('nats-data:')),
      true,
    );
    for (const s of Object.values<Doc>(c.services)) {
      const token = s.environment?.O2O_NATS_TOKEN;
      if (token !== undefined)
        assert.match(token, /^\$\{O2O_NATS_TOKEN:\?/, 'compose takes the token from .env');
    }
  });

  it('NATS ports in nats.conf (compose) and the nats-config ConfigMap match the Service, probes and healthcheck', () => {
    const docs = k8sDocs();
    const confPorts = (text: string) => ({
      client: Number(/^port:\s*(\d+)/m.exec(text)?.[1]),
      monitor: Number(/^http_port:\s*(\d+)/m.exec(text)?.[1]),
    });
    const composeConf = confPorts(readFileSync(join(deployDir, 'nats.conf'), 'utf8'));
    const k8sConf = confPorts(
      docs.find((d) => d.doc.kind === 'ConfigMap' && d.doc.metadata.name === 'nats-config')!.doc.data[
        'nats.conf'
      ],
    );
    assert.deepEqual(composeConf, { client: 4222, monitor: 8222 });
    assert.deepEqual(k8sConf, composeConf);
    const svc = docs.find((d) => d.doc.kind === 'Service' && d.doc.metadata.name === 'nats')!.doc;
    assert.deepEqual(
      svc.spec.ports.map((p: Doc) => p.port),
      [k8sConf.client, k8sConf.monitor],
    );
    const sts = docs.find((d) => d.doc.kind === 'StatefulSet' && d.doc.metadata.name === 'nats')!.doc;
    assert.deepEqual(
      sts.spec.template.spec.containers[0].ports.map((p: Doc) => p.containerPort),
      [k8sConf.client, k8sConf.monitor],
    );
    const health = compose().services.nats.healthcheck.test.join(' ');
    assert.match(health, new RegExp(`127\\.0\\.0\\.1:${composeConf.monitor}/healthz`));
  });

  it('the coordinator runs once: a Job that is not retried, a compose service that is not restarted', () => {
    const job = k8sDocs().find((d) => d.doc.metadata.name === 'coordinator')!.doc;
    assert.equal(job.kind, 'Job');
    assert.equal(job.spec.template.spec.restartPolicy, 'Never');
    assert.equal(job.spec.backoffLimit, 0);
    const svc = compose().services.coordinator;
    assert.equal(svc.restart, 'no');
    for (const dep of ['nats', 'world-model', 'learner', 'simulator'])
      assert.ok(svc.depends_on[dep], `depends on ${dep}`);
    for (const name of ['world-model', 'learner', 'simulator'])
      assert.equal(compose().services[name].restart, 'unless-stopped');
  });

  it('simulators scale by their replica count alone', () => {
    const sim = k8sDocs().find(
      (d) => d.doc.kind === 'Deployment' && d.doc.metadata.name === 'simulator',
    )!.doc;
    assert.ok(Number.isInteger(sim.spec.replicas) && sim.spec.replicas >= 1);
    const svc = compose().services.simulator;
    assert.ok(Number.isInteger(svc.deploy.replicas));
    assert.equal(svc.container_name, undefined, 'a fixed container name would prevent scaling');
    assert.equal(svc.ports, undefined, 'published host ports would collide when scaled');
  });

  it('the Dockerfile copies and runs paths that exist, as a non-root user, with the services entry point', () => {
    const text = readFileSync(join(deployDir, 'Dockerfile'), 'utf8');
    for (const m of text.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/))
        if (src !== '.') assert.ok(existsSync(join(repo, src)), `COPY ${src}`);
    }
    for (const script of text.matchAll(/bash (scripts\/\S+)/g))
      assert.ok(existsSync(join(repo, script[1]!)), script[1]);
    assert.match(text, /^USER (?!root|0\b)\S+/m);
    assert.match(text, /^ENTRYPOINT \[.*"node", "--import", "tsx"\]$/m);
    const cmd = /^CMD \["([^"]+)"\]$/m.exec(text);
    assert.ok(cmd, 'CMD names a default service');
    assert.match(cmd[1]!, /^services\/(world-model|learner|coordinator|simulator)\/main\.ts$/);
    assert.ok(
      JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).dependencies.tsx,
      'tsx is a runtime dependency',
    );
    assert.ok(existsSync(join(repo, 'lib', 'nn', 'native', 'binding.gyp')), 'the addon the image builds');
  });
});

/** A compose value with `${VAR:-default}` replaced by its default and `${VAR:?msg}` by a placeholder. */
function composeDefault(value: string): string {
  return value.replace(
    /\$\{[A-Z0-9_]+(?::-([^}]*)|:\?[^}]*)?\}/g,
    (_m, def: string | undefined) => def ?? 'placeholder-secret',
  );
}

function collectorPorts(): number[] {
  const cfg = readYaml(join(deployDir, 'otel-collector.yaml'));
  return Object.values<Doc>(cfg.receivers.otlp.protocols).map((p) => portOf(p.endpoint));
}
