#pragma once
// The table of bbmd's verbs: each verb's words, positionals, flags, help, example and handler.
// The command line is built from the table and dispatched by it (dispatch.cpp), so a verb is
// reachable exactly when it is in the table, and a parsed verb always reaches its own handler.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "config/loader.hpp"

namespace CLI {
class App;
}

namespace bbmd::cli {

// Every flag any verb declares; a verb's handler reads only the ones it declares.
struct Flags {
  bool json = false;                 // background-migrate status --json
  std::optional<int> max_job_retry;  // background-migrate run -r/--max-job-retry
  MigrateArgs migrate;               // database migrate ...
};

// What a verb takes before its flags; the config file always comes last.
enum class Positionals {
  none,             // version
  config,           // <config>
  name_config,      // [name] <config>: one argument is the config, two are a name and the config
  word_config,      // <word> <config>: a version or a name, always given; one argument is the word
                    // when REGISTRY_CONFIGURATION_PATH names the config
  paths_or_config,  // <dir>... | <config>
};

// One parsed command line, as a handler sees it.
struct Invocation {
  std::string config;               // the last argument, else REGISTRY_CONFIGURATION_PATH
  std::string word;                 // the [name] or <word> before the config; empty when not given
  std::vector<std::string> paths;   // paths_or_config: the arguments (the config when none)
  Flags flags;
};

struct Verb {
  std::vector<std::string> words;  // {"database", "migrate", "up"}
  std::string help;
  Positionals positionals = Positionals::config;
  std::string word_name;  // how help and errors call the word of name_config / word_config
  std::string example;    // a full command line, shown under --help
  std::function<void(CLI::App&, Flags&)> declare_flags;  // empty: no flags of its own
  std::function<int(const Invocation&)> run;
};

// The variable the registry's commands read the config path from when no argument names it.
inline constexpr const char* kConfigPathVariable = "REGISTRY_CONFIGURATION_PATH";

// A word that only groups verbs ("background-migrate", "database migrate").
struct Group {
  std::vector<std::string> words;
  std::string help;
};

[[nodiscard]] const std::vector<Group>& groups();
[[nodiscard]] const std::vector<Verb>& verbs();

// "<config>", "[name] <config>", "<version> <config>", "<dir>... | <config>" or "".
[[nodiscard]] std::string positionals_usage(const Verb& verb);

// Parses argv against the table, resolves the positionals (REGISTRY_CONFIGURATION_PATH through
// `env`) and runs the one verb named; usage errors exit 2. Handler exceptions propagate.
int dispatch(const std::vector<Group>& groups, const std::vector<Verb>& verbs, int argc, const char* const* argv,
             const config::EnvLookup& env);

}  // namespace bbmd::cli
