// The Kubernetes base in deploy/kubernetes: every manifest is valid against
// the Kubernetes API schemas (kubernetes-models), the kustomization lists
// them all, and what they name is what the gateway reads and serves: the
// container's environment is a configuration loadConfig accepts, made only
// of variables the gateway documents; its ports are the ones it listens on;
// and a gateway started from that environment, on the ConfigMap and Secret
// mounted as kubelet mounts them, answers SERVING to every probe.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Model } from "@kubernetes-models/base";
import { ConfigMap, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import type { IContainer, IEnvVar, IProbe, IVolume } from "kubernetes-models/v1";
import { parseAllDocuments } from "yaml";
import { HealthCheckResponse_ServingStatus as Status, Health } from "../../gen/health/v1/health_pb.js";
import { helpText, loadConfig, type Config } from "../../src/config.js";
import type { Gateway } from "../../src/gateway.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { repoRoot } from "../process/gateway-process.js";
import { createKubeletVolume } from "./kubelet-volume.js";

const base = join(repoRoot, "deploy/kubernetes");

type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } };

// Each kind the base ships, by apiVersion/kind, with its schema model.
const models: Readonly<Record<string, new (data: never) => Model<unknown>>> = {
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
};

// Read by node itself, not by the gateway: the only variables outside --help.
const nodeVariables = new Set(["NODE_OPTIONS"]);

async function readYaml(file: string): Promise<unknown[]> {
  const documents = parseAllDocuments(await readFile(join(base, file), "utf8"));
  return documents.map((document) => {
    assert.deepEqual(document.errors, [], `${file}: YAML errors`);
    return document.toJS() as unknown;
  });
}

const kustomization = (await readYaml("kustomization.yaml"))[0] as { resources: string[] };
const manifests: Manifest[] = [];
for (const file of kustomization.resources) manifests.push(...((await readYaml(file)) as Manifest[]));

function only<T>(kind: string): T {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0] as T;
}

const deployment = only<Deployment>("Deployment");
const podSpec = deployment.spec?.template.spec;
assert.ok(podSpec !== undefined);
const container = podSpec.containers[0] as IContainer;
const secret = only<Secret>("Secret");
const configMap = only<ConfigMap>("ConfigMap");

/** A secretKeyRef resolved from the base's own Secret; a ConfigMap ref from its ConfigMap. */
function valueOf(variable: IEnvVar): string {
  if (variable.value !== undefined) return variable.value;
  const ref = variable.valueFrom?.secretKeyRef;
  assert.ok(ref !== undefined, `${variable.name}: a value or a secretKeyRef`);
  assert.equal(ref.name, secret.metadata?.name, `${variable.name}: the base's Secret`);
  const value = secret.stringData?.[ref.key];
  assert.ok(value !== undefined, `${variable.name}: the Secret has ${ref.key}`);
  return value;
}

const containerEnv: Record<string, string> = Object.fromEntries(
  (container.env ?? []).map((variable) => [variable.name, valueOf(variable)]),
);
const gatewayEnv = Object.fromEntries(Object.entries(containerEnv).filter(([name]) => !nodeVariables.has(name)));

function containerPort(name: string): number {
  const port = container.ports?.find((p) => p.name === name)?.containerPort;
  assert.ok(port !== undefined, `the container declares port ${name}`);
  return port;
}

function probes(): [string, IProbe][] {
  return (["startupProbe", "livenessProbe", "readinessProbe"] as const).map((kind) => {
    const probe = container[kind];
    assert.ok(probe !== undefined, kind);
    return [kind, probe];
  });
}

function mebibytes(quantity: string | number | undefined): number {
  const match = /^(\d+)Mi$/.exec(String(quantity));
  assert.ok(match !== null, `memory given in Mi: ${String(quantity)}`);
  return Number(match[1]);
}

describe("the Kubernetes base (deploy/kubernetes)", () => {
  test("kustomization.yaml lists every manifest of the directory, and each exists", async () => {
    const files = (await readdir(base)).filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml");
    assert.deepEqual([...kustomization.resources].sort(), files.sort());
  });

  test("every manifest is valid against the Kubernetes API schema of its kind", () => {
    for (const manifest of manifests) {
      const kind = `${manifest.apiVersion}/${manifest.kind}`;
      const model = models[kind];
      assert.ok(model !== undefined, `${manifest.metadata.name}: ${kind} is a kind this base is checked for`);
      assert.doesNotThrow(() => new model(manifest as never).validate(), `${kind} ${manifest.metadata.name}`);
    }
    assert.deepEqual(
      [...new Set(manifests.map((manifest) => `${manifest.apiVersion}/${manifest.kind}`))].sort(),
      Object.keys(models).sort(),
      "one of each",
    );
  });

  test("a broken manifest is caught: the schema check is not a formality", () => {
    const broken = structuredClone(deployment) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = "three";
    assert.throws(() => new Deployment(broken as never).validate(), /replicas/);
  });

  test("the container's variables are ones the gateway documents, and make a configuration it accepts", () => {
    const help = helpText();
    for (const name of Object.keys(gatewayEnv))
      assert.match(help, new RegExp(`\\b${name}\\b`), `${name} is a setting of the gateway (--help)`);
    assert.doesNotThrow(() => loadConfig(gatewayEnv));
  });

  test("ports and probes: the ones the gateway listens on, native gRPC health, the port's own protocol", () => {
    const config: Config = loadConfig(gatewayEnv);
    assert.equal(containerPort("grpc"), config.port);
    assert.equal(containerPort("metrics"), config.observability.metricsPort);
    for (const [kind, probe] of probes()) {
      assert.equal(probe.grpc?.port, config.port, `${kind}: gRPC health on the API port`);
      assert.equal(probe.httpGet ?? probe.tcpSocket ?? probe.exec, undefined, `${kind}: only the gRPC probe`);
    }
    assert.equal(container.livenessProbe?.grpc?.service, "liveness", "liveness does not depend on Redis or AWS");
    const service = only<Service>("Service");
    const api = service.spec?.ports?.find((port) => port.targetPort === "grpc");
    assert.equal(api?.appProtocol, "kubernetes.io/h2c");
    assert.equal(api?.port, config.port);
  });

  test("3 replicas, on a budget and an autoscaler that keep 3, all selecting the pods", () => {
    assert.equal(deployment.spec?.replicas, 3);
    const labels = deployment.spec?.template.metadata?.labels ?? {};
    const selects = (selector: Record<string, string> | undefined): boolean =>
      selector !== undefined &&
      Object.keys(selector).length > 0 &&
      Object.entries(selector).every(([key, value]) => labels[key] === value);
    assert.ok(selects(deployment.spec?.selector.matchLabels), "Deployment");
    assert.ok(selects(only<Service>("Service").spec?.selector), "Service");
    assert.ok(selects(only<PodDisruptionBudget>("PodDisruptionBudget").spec?.selector?.matchLabels), "PDB");
    assert.ok(selects(only<NetworkPolicy>("NetworkPolicy").spec?.podSelector?.matchLabels), "NetworkPolicy");
    const hpa = only<HorizontalPodAutoscaler>("HorizontalPodAutoscaler");
    assert.equal(hpa.spec?.scaleTargetRef.name, deployment.metadata?.name);
    assert.equal(hpa.spec?.minReplicas, 3);
    const ingressPorts = (only<NetworkPolicy>("NetworkPolicy").spec?.ingress ?? []).flatMap((rule) =>
      (rule.ports ?? []).map((port) => port.port),
    );
    assert.deepEqual(ingressPorts.sort(), [containerPort("grpc"), containerPort("metrics")].sort());
  });

  test("terminationGracePeriodSeconds covers preStop and SHUTDOWN_GRACE_MS; the heap bound fits the memory limit", () => {
    const config = loadConfig(gatewayEnv);
    const preStopMs = (container.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
    const graceMs = (podSpec.terminationGracePeriodSeconds ?? 30) * 1000;
    assert.ok(
      graceMs >= preStopMs + config.shutdownGraceMs + 5000,
      `${graceMs} ms for ${preStopMs} + ${config.shutdownGraceMs} ms`,
    );
    const heapMatch = /--max-old-space-size=(\d+)/.exec(containerEnv["NODE_OPTIONS"] ?? "");
    assert.ok(heapMatch !== null, "NODE_OPTIONS bounds the heap");
    const heap = Number(heapMatch[1]);
    const limit = mebibytes(container.resources?.limits?.["memory"]);
    const request = mebibytes(container.resources?.requests?.["memory"]);
    assert.ok(heap <= limit * 0.8, `old space ${heap} MiB leaves room under the ${limit} MiB limit`);
    assert.ok(heap >= limit * 0.5, `old space ${heap} MiB uses the ${limit} MiB limit`);
    assert.ok(request <= limit);
  });

  test("runs as the image's non-root user on a read-only root, without capabilities, /tmp its only writable path", async () => {
    const dockerfile = await readFile(join(repoRoot, "Dockerfile"), "utf8");
    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile);
    assert.equal(podSpec.securityContext?.runAsUser, Number(user?.[1]));
    assert.equal(podSpec.securityContext?.runAsNonRoot, true);
    assert.equal(podSpec.securityContext?.seccompProfile?.type, "RuntimeDefault");
    const context = container.securityContext;
    assert.equal(context?.runAsNonRoot, true);
    assert.equal(context?.readOnlyRootFilesystem, true);
    assert.equal(context?.allowPrivilegeEscalation, false);
    assert.deepEqual(context?.capabilities?.drop, ["ALL"]);
    assert.equal(context?.seccompProfile?.type, "RuntimeDefault");
    const volumes = new Map((podSpec.volumes ?? []).map((volume) => [volume.name, volume]));
    const writable = (container.volumeMounts ?? []).filter((mount) => mount.readOnly !== true);
    assert.deepEqual(
      writable.map((mount) => [mount.mountPath, volumes.get(mount.name)?.emptyDir !== undefined]),
      [["/tmp", true]],
    );
  });

  test("the ServiceAccount carries the EKS role annotation, and the pods use it", () => {
    const account = only<ServiceAccount>("ServiceAccount");
    assert.match(account.metadata?.annotations?.["eks.amazonaws.com/role-arn"] ?? "", /^arn:aws:iam::\d{12}:role\/.+/);
    assert.equal(podSpec.serviceAccountName, account.metadata?.name);
  });

  describe("a gateway started from the Deployment's environment, on its ConfigMap and Secret", () => {
    let dir = "";
    let gateway: Gateway;
    /** The mounted file or directory a path of the environment names, created as kubelet would. */
    const mount = async (volume: IVolume, mountPath: string): Promise<string> => {
      const local = join(dir, mountPath);
      if (volume.configMap !== undefined) {
        assert.equal(volume.configMap.name, configMap.metadata?.name);
        await createKubeletVolume(local, configMap.data ?? {});
      } else {
        assert.equal(volume.secret?.secretName, secret.metadata?.name);
        const items = volume.secret?.items ?? [];
        const data = Object.fromEntries(items.map((item) => [item.path, secret.stringData?.[item.key] ?? ""]));
        await createKubeletVolume(local, data);
      }
      return local;
    };

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "pg-kubernetes-"));
      const env = { ...gatewayEnv };
      const volumes = new Map((podSpec.volumes ?? []).map((volume) => [volume.name, volume]));
      for (const { name, mountPath, subPath } of container.volumeMounts ?? []) {
        assert.equal(subPath, undefined, `${name}: a subPath mount is never updated by kubelet`);
        const volume = volumes.get(name);
        assert.ok(volume !== undefined, name);
        if (volume.emptyDir !== undefined) continue;
        const local = await mount(volume, mountPath);
        for (const [variable, value] of Object.entries(env))
          if (value === mountPath || value.startsWith(`${mountPath}/`))
            env[variable] = local + value.slice(mountPath.length);
      }
      // Here, not in the cluster: loopback on a free port, the fake AWS and the memory store (no Redis).
      gateway = await startConfiguredGateway({
        ...env,
        HOST: "127.0.0.1",
        PORT: "0",
        METRICS_PORT: "", // /metrics back on the API port: a fixed port could be taken here
        BACKEND: "fake",
        IDEMPOTENCY_STORE: "memory",
        AWS_REGION: "",
        REDIS_SENTINELS: "",
        REDIS_SENTINEL_NAME: "",
        REDIS_PASSWORD: "",
      });
    });
    after(async () => {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    });

    test("every probe's service is served, SERVING, over h2c as the kubelet asks", async () => {
      const health = createClient(Health, createGrpcTransport({ baseUrl: gateway.url }));
      await gateway.health.refresh();
      for (const [kind, probe] of probes()) {
        const answer = await health.check({ service: probe.grpc?.service ?? "" });
        assert.equal(answer.status, Status.SERVING, `${kind}: ${probe.grpc?.service ?? ""}`);
      }
    });
  });
});
