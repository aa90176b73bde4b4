// The Kubernetes manifests as kustomize renders them: every overlay renders and lints; the sidecar
// overlay adds bbmd as a native sidecar and changes nothing else in the registry's pod (one
// readiness probe, the registry's; no shared port; no pod-level field); the migration Jobs carry
// the release in their names; every bbmd image is pinned to one tag.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "e2e/ops_helpers.hpp"
#include "version.hpp"

using bbmd::ops::quote;
using bbmd::ops::require_tool;
using bbmd::ops::run_tool;
using bbmd::ops::source;

namespace {

const std::filesystem::path kKubernetes = "deploy/kubernetes";

std::string kustomize(const std::string& overlay) {
  return "kubectl kustomize " + quote(source((kKubernetes / overlay).string()).string()) + " 2>/dev/null";
}

std::vector<YAML::Node> render(const std::string& overlay) {
  require_tool("kubectl", "kubernetes-client");
  const auto r = run_tool(kustomize(overlay));
  INFO(overlay << ": " << r.output);
  REQUIRE(r.exit_code == 0);
  return YAML::LoadAll(r.output);
}

// Every folder with a kustomization.yaml: the overlays and the bases they build on.
std::vector<std::string> overlays() {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(source(kKubernetes.string()))) {
    if (std::filesystem::exists(entry.path() / "kustomization.yaml")) out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

YAML::Node find(const std::vector<YAML::Node>& docs, const std::string& kind, const std::string& name) {
  for (const auto& d : docs) {
    if (d["kind"].as<std::string>() == kind && d["metadata"]["name"].as<std::string>() == name) return d;
  }
  FAIL("no " + kind + " " + name + " in the rendered output");
  return {};
}

YAML::Node named(const YAML::Node& list, const std::string& name) {
  for (const auto& item : list) {
    if (item["name"].as<std::string>() == name) return item;
  }
  FAIL("nothing named " + name);
  return {};
}

std::string env_value(const YAML::Node& container, const std::string& name) {
  for (const auto& e : container["env"]) {
    if (e["name"].as<std::string>() == name) return e["value"] ? e["value"].as<std::string>() : "<from>";
  }
  return "";
}

std::set<int> port_numbers(const YAML::Node& container) {
  std::set<int> out;
  for (const auto& p : container["ports"]) out.insert(p["containerPort"].as<int>());
  return out;
}

// Every container of a pod, init containers included.
std::vector<YAML::Node> all_containers(const YAML::Node& pod) {
  std::vector<YAML::Node> out;
  for (const auto* key : {"initContainers", "containers"}) {
    for (const auto& c : pod[key]) out.push_back(c);
  }
  return out;
}

// The bbmd images of every rendered document ("bbmd:<tag>" once pinned).
std::set<std::string> bbmd_images(const std::vector<YAML::Node>& docs) {
  std::set<std::string> out;
  for (const auto& d : docs) {
    const auto pod = d["spec"] && d["spec"]["template"] ? d["spec"]["template"]["spec"] : YAML::Node();
    if (!pod) continue;
    for (const auto& c : all_containers(pod)) {
      const auto image = c["image"].as<std::string>();
      if (image.starts_with("bbmd")) out.insert(image);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("every kubernetes overlay renders and its output passes yamllint", "[ops][kubernetes]") {
  require_tool("yamllint", "yamllint");
  const auto all = overlays();
  CHECK(all == std::vector<std::string>{"migrate-job", "post-deployment", "pre-deployment", "registry", "sidecar"});
  for (const auto& overlay : all) {
    INFO(overlay);
    CHECK(!render(overlay).empty());
    const auto lint = run_tool(kustomize(overlay) + " | yamllint -s -c " +
                               quote(source("deploy/.yamllint.yaml").string()) + " -");
    INFO(lint.output);
    CHECK(lint.exit_code == 0);
  }
}

TEST_CASE("the sidecar overlay adds bbmd as a native sidecar and leaves the registry's pod as it was",
          "[ops][kubernetes]") {
  const auto base_docs = render("registry");
  const auto docs = render("sidecar");
  auto deployment = find(docs, "Deployment", "registry");
  const auto pod = deployment["spec"]["template"]["spec"];
  REQUIRE(pod["initContainers"].size() == 1);
  const auto bbmd = YAML::Clone(named(pod["initContainers"], "bbmd"));
  const auto registry = named(pod["containers"], "registry");

  // A native sidecar: restarted on its own, probed for liveness and start-up, never for readiness.
  CHECK(bbmd["restartPolicy"].as<std::string>() == "Always");
  CHECK(bbmd["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/healthz");
  CHECK(bbmd["startupProbe"]["httpGet"]["path"].as<std::string>() == "/healthz");
  std::vector<std::string> readiness;
  for (const auto& c : all_containers(pod)) {
    if (c["readinessProbe"]) readiness.push_back(c["name"].as<std::string>());
  }
  CHECK(readiness == std::vector<std::string>{"registry"});

  // A port of its own, which bbmd really listens on (the registry's config says :5001).
  REQUIRE(bbmd["ports"].size() == 1);
  const auto port = bbmd["ports"][0];
  for (const int p : port_numbers(bbmd)) CHECK(!port_numbers(registry).contains(p));
  CHECK(env_value(bbmd, "REGISTRY_HTTP_DEBUG_ADDR") == ":" + port["containerPort"].as<std::string>());
  CHECK(bbmd["livenessProbe"]["httpGet"]["port"].as<std::string>() == port["name"].as<std::string>());
  CHECK(bbmd["startupProbe"]["httpGet"]["port"].as<std::string>() == port["name"].as<std::string>());

  // Container-level security settings only.
  CHECK(bbmd["securityContext"]["runAsNonRoot"].as<bool>());
  CHECK(bbmd["securityContext"]["readOnlyRootFilesystem"].as<bool>());
  CHECK(!bbmd["securityContext"]["allowPrivilegeEscalation"].as<bool>());
  CHECK(bbmd["securityContext"]["capabilities"]["drop"][0].as<std::string>() == "ALL");
  CHECK(bbmd["resources"]["requests"]["cpu"]);
  CHECK(bbmd["resources"]["requests"]["memory"]);
  CHECK(named(bbmd["env"], "REGISTRY_DATABASE_PASSWORD")["valueFrom"]["secretKeyRef"]["name"].as<std::string>() ==
        "registry-database");

  // Its config file sits in a volume the registry's pod already mounts, from the registry's ConfigMap.
  const auto mount = bbmd["volumeMounts"][0];
  const auto volume = named(pod["volumes"], mount["name"].as<std::string>());
  const auto config_arg = bbmd["args"][bbmd["args"].size() - 1].as<std::string>();
  REQUIRE(config_arg.starts_with(mount["mountPath"].as<std::string>() + "/"));
  const auto configmap = find(docs, "ConfigMap", volume["configMap"]["name"].as<std::string>());
  CHECK(configmap["data"][std::filesystem::path(config_arg).filename().string()]);

  // Without bbmd the Deployment is exactly the registry's own: pod-level fields, annotations,
  // the registry container.
  deployment["spec"]["template"]["spec"].remove("initContainers");
  CHECK(YAML::Dump(deployment) == YAML::Dump(find(base_docs, "Deployment", "registry")));

  // Metrics through a PodMonitor on bbmd's port; the prometheus.io annotations stay the registry's.
  const auto monitor = find(docs, "PodMonitor", "bbmd");
  for (const auto& label : monitor["spec"]["selector"]["matchLabels"]) {
    CHECK(deployment["spec"]["template"]["metadata"]["labels"][label.first.as<std::string>()].as<std::string>() ==
          label.second.as<std::string>());
  }
  CHECK(monitor["spec"]["podMetricsEndpoints"][0]["port"].as<std::string>() == port["name"].as<std::string>());
  CHECK(deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"].as<std::string>() !=
        port["containerPort"].as<std::string>());
}

TEST_CASE("migration Jobs apply alone, under names that carry the release", "[ops][kubernetes]") {
  const auto tag = std::string(bbmd::kVersion);
  std::string release = tag;
  std::replace(release.begin(), release.end(), '.', '-');
  for (const auto& [kind, skip_post] : {std::pair{"pre-deployment", "true"}, std::pair{"post-deployment", "false"}}) {
    INFO(kind);
    const auto docs = render(kind);
    REQUIRE(docs.size() == 1);  // never the Deployment or Service
    const auto job = find(docs, "Job", std::string("bbmd-migrate-") + kind + "-" + release);
    const auto migrate = named(job["spec"]["template"]["spec"]["containers"], "bbmd-migrate");
    CHECK(env_value(migrate, "SKIP_POST_DEPLOYMENT_MIGRATIONS") == skip_post);
    CHECK(migrate["args"][0].as<std::string>() == "database");
    CHECK(migrate["securityContext"]["runAsNonRoot"].as<bool>());
  }
}

TEST_CASE("every bbmd image is pinned to this release's tag", "[ops][kubernetes]") {
  for (const auto* overlay : {"sidecar", "pre-deployment", "post-deployment"}) {
    INFO(overlay);
    CHECK(bbmd_images(render(overlay)) == std::set<std::string>{std::string("bbmd:") + bbmd::kVersion});
  }
}
