// The Debian package: CPack builds it from this build tree; unpacked into an empty root it holds
// the binary (which runs), a unit systemd-analyze verifies there, the sysusers file, example
// config, a man page and a bash completion that completes verbs and flags; its Depends come from
// dpkg-shlibdeps. And the container build context leaves build trees and .git out.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fnmatch.h>
#include <sstream>

#include "config/loader.hpp"
#include "e2e/ops_helpers.hpp"
#include "support/process.hpp"
#include "version.hpp"

using bbmd::ops::quote;
using bbmd::ops::require_tool;
using bbmd::ops::run_tool;
using bbmd::ops::source;

namespace {

// The build tree the tests run from (bbmd sits at its top).
std::filesystem::path build_dir() { return std::filesystem::path(BBMD_BINARY).parent_path(); }

// Builds the package into `out`; returns the .deb's path.
std::filesystem::path build_package(const std::filesystem::path& out) {
  require_tool("cpack", "cmake");
  require_tool("dpkg-shlibdeps", "dpkg-dev");
  const auto r = run_tool("cpack --config " + quote((build_dir() / "CPackConfig.cmake").string()) + " -B " +
                          quote(out.string()));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    if (entry.path().extension() == ".deb") return entry.path();
  }
  FAIL("cpack wrote no .deb");
  return {};
}

// `complete` for the words typed so far (the last one being completed), with the completion
// script sourced from `root` and the command run from `root` too.
std::vector<std::string> complete(const std::filesystem::path& root, std::vector<std::string> words) {
  words.insert(words.begin(), (root / "usr/bin/bbmd").string());
  std::string array;
  for (const auto& w : words) array += quote(w) + " ";
  const auto script = "source " + quote((root / "usr/share/bash-completion/completions/bbmd").string()) +
                      "; COMP_WORDS=(" + array + "); COMP_CWORD=" + std::to_string(words.size() - 1) +
                      "; _bbmd; printf '%s\\n' \"${COMPREPLY[@]}\"";
  const auto r = run_tool("bash -c " + quote(script));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> out;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

TEST_CASE("the Debian package installs a working bbmd, its unit, sysusers file, man page and completion",
          "[ops][package]") {
  require_tool("dpkg-deb", "dpkg");
  bbmd::test::TempDir out;
  const auto deb = build_package(out.path());
  CHECK(deb.filename().string() == std::string("bbmd_") + bbmd::kVersion + "_amd64.deb");

  // Depends computed by dpkg-shlibdeps from what the binary links.
  const auto depends = run_tool("dpkg-deb -f " + quote(deb.string()) + " Depends");
  INFO(depends.output);
  REQUIRE(depends.exit_code == 0);
  for (const auto* lib : {"libc6 (>=", "libpq5 (>=", "libspdlog1.10", "libyaml-cpp0.7", "libsystemd0", "libpg-query1504.0"}) {
    CHECK(depends.output.find(lib) != std::string::npos);
  }

  bbmd::test::TempDir root;  // a clean root: nothing but the package
  REQUIRE(run_tool("dpkg-deb -x " + quote(deb.string()) + " " + quote(root.path().string())).exit_code == 0);
  for (const auto* file : {"usr/bin/bbmd", "usr/lib/systemd/system/bbmd.service", "usr/lib/sysusers.d/bbmd.conf",
                           "usr/share/doc/bbmd/examples/config.example.yml",
                           "usr/share/doc/bbmd/examples/bbmd.env.example", "usr/share/man/man1/bbmd.1.gz",
                           "usr/share/bash-completion/completions/bbmd"}) {
    INFO(file);
    CHECK(std::filesystem::is_regular_file(root.path() / file));
  }

  const auto version = run_tool(quote((root.path() / "usr/bin/bbmd").string()) + " version");
  INFO(version.output);
  CHECK(version.exit_code == 0);
  CHECK(version.output.find(bbmd::kVersion) != std::string::npos);

  // The unit as installed, verified with the installed binary as its ExecStart (verify checks
  // that it exists; the rest of systemd comes from this machine, not the bare root).
  require_tool("systemd-analyze", "systemd");
  auto unit = bbmd::test::read_text(root.path() / "usr/lib/systemd/system/bbmd.service");
  const std::string exec = "ExecStart=/usr/bin/bbmd ";
  REQUIRE(unit.find(exec) != std::string::npos);
  unit.replace(unit.find(exec), exec.size(), "ExecStart=" + (root.path() / "usr/bin/bbmd").string() + " ");
  const auto verify = run_tool("systemd-analyze verify " + quote(out.write("bbmd.service", unit).string()));
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
  CHECK(verify.output.empty());

  const auto man = run_tool("zcat " + quote((root.path() / "usr/share/man/man1/bbmd.1.gz").string()));
  REQUIRE(man.exit_code == 0);
  CHECK(man.output.find(".TH BBMD \"1\"") != std::string::npos);
  CHECK(man.output.find("background\\-migrate") != std::string::npos);  // the verbs, from --help

  // The example config is one bbmd accepts.
  CHECK_NOTHROW(bbmd::config::load_file((root.path() / "usr/share/doc/bbmd/examples/config.example.yml").string()));

  // Completion of verbs at each level, of flags, and of file names for the config.
  const auto top = complete(root.path(), {""});
  CHECK(has(top, "serve"));
  CHECK(has(top, "background-migrate"));
  CHECK(has(top, "database"));
  CHECK(complete(root.path(), {"database", "migrate", "u"}) == std::vector<std::string>{"up"});
  CHECK(has(complete(root.path(), {"database", "migrate", "up", "--s"}), "--skip-post-deployment"));
  CHECK(complete(root.path(), {"serve", (root.path() / "usr/share/doc/bbmd/examples/config.e").string()}) ==
        std::vector<std::string>{(root.path() / "usr/share/doc/bbmd/examples/config.example.yml").string()});
}

TEST_CASE(".dockerignore keeps build trees and .git out of the image's build context, and the sources in",
          "[ops][docker]") {
  std::vector<std::string> patterns;
  std::istringstream in(bbmd::test::read_text(source(".dockerignore")));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') patterns.push_back(line);
  }
  REQUIRE(!patterns.empty());
  // Docker matches each pattern (Go's filepath.Match) against a path and every parent folder of it.
  const auto ignored = [&](const std::string& path) {
    for (auto p = std::filesystem::path(path); !p.empty(); p = p.parent_path()) {
      for (const auto& pattern : patterns) {
        if (::fnmatch(pattern.c_str(), p.c_str(), FNM_PATHNAME) == 0) return true;
      }
    }
    return false;
  };
  for (const auto* path : {".git/HEAD", "build/bbmd", "build-asan/CMakeCache.txt", "build-fuzz/fuzz_config",
                           "build-bench/bbmd", ".cache/clangd/index"}) {
    INFO(path);
    CHECK(ignored(path));
  }
  // Everything git tracks, which the image build may read, stays in.
  const auto tracked = run_tool("git -C " + quote(source("").string()) + " ls-files");
  REQUIRE(tracked.exit_code == 0);
  std::istringstream files(tracked.output);
  std::size_t count = 0;
  for (std::string file; std::getline(files, file); ++count) {
    INFO(file);
    CHECK_FALSE(ignored(file));
  }
  CHECK(count > 100);
}
