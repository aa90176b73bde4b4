// File-only checks of the operations artefacts with the tools their users run: the deploy YAML
// lints, the systemd unit verifies, the alert rules pass promtool, and the container image
// installs what the binary links against (Kubernetes: ops_kubernetes_test.cpp).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <set>
#include <sstream>

#include "e2e/ops_helpers.hpp"
#include "support/process.hpp"

using bbmd::ops::quote;
using bbmd::ops::require_tool;
using bbmd::ops::run_tool;
using bbmd::ops::source;

TEST_CASE("deploy YAML sources pass yamllint", "[ops]") {
  require_tool("yamllint", "yamllint");
  const auto r = run_tool("yamllint -s -c " + quote(source("deploy/.yamllint.yaml").string()) + " " +
                          quote(source("deploy/kubernetes").string()) + " " + quote(source("deploy/prometheus").string()));
  INFO(r.output);
  CHECK(r.exit_code == 0);
}

TEST_CASE("systemd unit verifies and is hardened", "[ops][systemd]") {
  require_tool("systemd-analyze", "systemd");
  // verify checks that ExecStart exists, so the copy points it at the binary this build made.
  bbmd::test::TempDir dir;
  auto unit = bbmd::test::read_text(source("systemd/bbmd.service"));
  const std::string installed = "/usr/bin/bbmd";
  REQUIRE(unit.find("Type=notify") != std::string::npos);
  REQUIRE(unit.find("Restart=on-failure") != std::string::npos);
  REQUIRE(unit.find("ExecStart=" + installed + " serve ") != std::string::npos);
  unit.replace(unit.find(installed), installed.size(), BBMD_BINARY);
  const auto copy = dir.write("bbmd.service", unit);
  const auto verify = run_tool("systemd-analyze verify " + quote(copy.string()));
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
  CHECK(verify.output.empty());  // no warnings either

  const auto security = run_tool("systemd-analyze security --offline=true --threshold=20 " + quote(copy.string()));
  INFO(security.output);
  CHECK(security.exit_code == 0);
  const auto at = security.output.find("Overall exposure level");
  REQUIRE(at != std::string::npos);
  std::istringstream tail(security.output.substr(security.output.find(':', at) + 1));
  double exposure = 10;
  tail >> exposure;
  CHECK(exposure <= 2.0);  // systemd rates <= 2 as "OK", the best band

  const auto sysusers = bbmd::test::read_text(source("systemd/bbmd.sysusers.conf"));
  CHECK(sysusers.find("u bbmd ") != std::string::npos);
}

TEST_CASE("alert rules pass promtool check and their unit tests", "[ops][prometheus]") {
  require_tool("promtool", "prometheus");
  const auto check = run_tool("promtool check rules " + quote(source("deploy/prometheus/bbmd-alerts.yml").string()));
  INFO(check.output);
  CHECK(check.exit_code == 0);
  const auto test = run_tool("cd " + quote(source("deploy/prometheus").string()) +
                             " && promtool test rules bbmd-alerts.test.yml");
  INFO(test.output);
  CHECK(test.exit_code == 0);
  // Each alert has a test that fires it and one that keeps it silent.
  const auto tests = bbmd::test::read_text(source("deploy/prometheus/bbmd-alerts.test.yml"));
  for (const auto* alert : {"BBMMigrationFailed", "BBMNoProgress", "BBMMigrationHeld", "BBMThrottledTooLong",
                            "BBMWorkerAbsent", "BBMDatabaseErrorsRising"}) {
    INFO(alert);
    const std::string name = std::string("alertname: ") + alert + "\n";
    std::size_t silent = 0, firing = 0;
    for (auto p = tests.find(name); p != std::string::npos; p = tests.find(name, p + 1)) {
      const auto next = tests.find("exp_alerts:", p);
      (tests.compare(next, 14, "exp_alerts: []") == 0 ? silent : firing)++;
    }
    CHECK(silent >= 1);
    CHECK(firing >= 1);
  }
}

TEST_CASE("every alert links its runbook: a section of README.md, one base URL for all", "[ops][prometheus]") {
  const auto rules = YAML::LoadFile(source("deploy/prometheus/bbmd-alerts.yml").string());
  const auto readme = bbmd::test::read_text(source("README.md"));
  std::set<std::string> bases;
  std::size_t alerts = 0;
  for (const auto& group : rules["groups"]) {
    for (const auto& rule : group["rules"]) {
      const auto alert = rule["alert"].as<std::string>();
      INFO(alert);
      ++alerts;
      REQUIRE(rule["annotations"]["runbook_url"]);
      const auto url = rule["annotations"]["runbook_url"].as<std::string>();
      const auto hash = url.find('#');
      REQUIRE(hash != std::string::npos);
      bases.insert(url.substr(0, hash));
      std::string anchor = alert;
      std::transform(anchor.begin(), anchor.end(), anchor.begin(), [](unsigned char c) { return std::tolower(c); });
      CHECK(url.substr(hash + 1) == anchor);  // the anchor GitHub and GitLab give "### <alert>"
      CHECK(readme.find("\n### " + alert + "\n") != std::string::npos);
    }
  }
  CHECK(alerts == 6);
  REQUIRE(bases.size() == 1);
  CHECK(bases.begin()->ends_with("/README.md"));
}

TEST_CASE("container image: non-root, bbmd entrypoint, runtime packages cover the binary's libraries",
          "[ops][docker]") {
  const auto dockerfile = bbmd::test::read_text(source("deploy/docker/Dockerfile"));
  CHECK(dockerfile.find("FROM debian:12") != std::string::npos);
  CHECK(dockerfile.find("deploy/install-deps.sh") != std::string::npos);
  CHECK(dockerfile.find("ENTRYPOINT [\"/usr/bin/bbmd\"]") != std::string::npos);
  const auto user = dockerfile.rfind("\nUSER ");
  REQUIRE(user != std::string::npos);
  CHECK(dockerfile.compare(user, 10, "\nUSER root") != 0);
  CHECK(dockerfile.compare(user, 7, "\nUSER 0") != 0);

  // Every shared library bbmd links against comes from a package the runtime stage installs.
  const auto listed = run_tool(quote(source("deploy/install-deps.sh").string()) + " --list-runtime");
  REQUIRE(listed.exit_code == 0);
  std::set<std::string> runtime;
  std::istringstream words(listed.output);
  for (std::string w; words >> w;) runtime.insert(w);
  // The libraries bbmd names itself (DT_NEEDED), resolved to files the way the loader finds them;
  // their own dependencies come with their packages.
  const auto libs = run_tool("bin=" + quote(BBMD_BINARY) + "; for n in $(readelf -d \"$bin\" | sed -n "
                             "'s/.*Shared library: \\[\\(.*\\)\\]/\\1/p'); do ldd \"$bin\" | "
                             "awk -v n=\"$n\" '$1 == n {print $3}'; done");
  REQUIRE(libs.exit_code == 0);
  REQUIRE(!libs.output.empty());
  std::istringstream in(libs.output);
  // libc6 and libgcc/libstdc++ come with debian:12-slim itself.
  const std::set<std::string> base{"libc6", "libgcc-s1", "libstdc++6"};
  // The CI build is sanitized (BBMD_SANITIZE); the image is built without, so these never ship.
  const std::set<std::string> sanitizer_runtimes{"libasan.so.8", "libubsan.so.1"};
  for (std::string lib; std::getline(in, lib);) {
    if (lib.empty() || sanitizer_runtimes.contains(std::filesystem::path(lib).filename().string())) continue;
    auto owner = run_tool("dpkg -S " + quote(lib) + " 2>/dev/null || dpkg -S " +
                          quote(std::filesystem::canonical(lib).string()));
    const auto pkg = owner.output.substr(0, owner.output.find_first_of(":"));
    INFO(lib << " belongs to " << pkg);
    CHECK((base.contains(pkg) || runtime.contains(pkg)));
  }
}
