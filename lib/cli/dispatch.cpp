// The command line built from the verb table (verbs.hpp): parsing, the positionals each verb
// takes, help that names them, and running the one verb parsed.
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <stdexcept>

#include "cli/exit_codes.hpp"
#include "cli/verbs.hpp"
#include "version.hpp"

namespace bbmd::cli {

namespace {

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// Usage lines that show a verb's real positionals ("[name] <config>"), which CLI11 cannot spell.
class Help final : public CLI::Formatter {
 public:
  void add(const CLI::App* app, std::string positionals) { positionals_[app] = std::move(positionals); }

  std::string make_usage(const CLI::App* app, std::string name) const override {
    const auto it = positionals_.find(app);
    if (it == positionals_.end()) return CLI::Formatter::make_usage(app, std::move(name));
    return get_label("Usage") + ": " + name + " [OPTIONS]" + (it->second.empty() ? "" : " " + it->second) + "\n";
  }

 private:
  std::map<const CLI::App*, std::string> positionals_;
};

// A command line the table's shapes do not accept; exit 2 with the verb's usage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A built verb: its subcommand and positional slots, in command-line order.
struct Built {
  const Verb* verb = nullptr;
  std::vector<CLI::Option*> slots;
};

CLI::Option* slot(CLI::App& cmd, const std::string& name, const std::string& help) {
  return cmd.add_option(name, CLI::callback_t{}, help);
}

std::vector<CLI::Option*> declare_positionals(CLI::App& cmd, const Verb& verb) {
  const std::string config_help = "the config file";
  switch (verb.positionals) {
    case Positionals::none: return {};
    case Positionals::config: return {slot(cmd, "config", config_help)};
    case Positionals::name_config:
      return {slot(cmd, verb.word_name, "only this migration (default: every one)"), slot(cmd, "config", config_help)};
    case Positionals::word_config:
      return {slot(cmd, verb.word_name, "the " + verb.word_name), slot(cmd, "config", config_help)};
    case Positionals::paths_or_config:
      return {slot(cmd, "paths", "migration folders, or one config file naming them")
                  ->expected(1, CLI::detail::expected_max_vector_size)
                  ->allow_extra_args()};
  }
  return {};
}

CLI::App& child(CLI::App& parent, const std::string& word, const std::vector<std::string>& words) {
  for (auto* sub : parent.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == word) return *sub;
  }
  throw std::logic_error("verb table: '" + joined(words) + "' lies under no group");
}

// The parent every word but the last names.
CLI::App& parent_of(CLI::App& root, const std::vector<std::string>& words) {
  CLI::App* at = &root;
  for (std::size_t i = 0; i + 1 < words.size(); ++i) at = &child(*at, words[i], words);
  return *at;
}

// The positionals given, in order: CLI11 fills the slots left to right.
std::vector<std::string> given(const Built& built) {
  std::vector<std::string> out;
  for (const auto* opt : built.slots) {
    for (const auto& r : opt->results()) out.push_back(r);
  }
  return out;
}

// Arguments first; the config from REGISTRY_CONFIGURATION_PATH when no argument is left for it.
Invocation resolve(const Built& built, const config::EnvLookup& env) {
  const Verb& verb = *built.verb;
  const auto args = given(built);
  const auto from_env = env(kConfigPathVariable);
  const bool env_config = from_env && !from_env->empty();
  Invocation in;
  const auto missing = [&] {
    return UsageError("expected " + positionals_usage(verb) + " (or the config file in " + kConfigPathVariable +
                      ")");
  };
  switch (verb.positionals) {
    case Positionals::none: return in;
    case Positionals::config:
    case Positionals::name_config:
      if (args.size() == 2) in.word = args[0];
      if (!args.empty()) in.config = args.back();
      break;
    case Positionals::word_config:
      if (args.empty()) throw missing();
      in.word = args[0];
      if (args.size() == 2) in.config = args[1];
      break;
    case Positionals::paths_or_config:
      in.paths = args;
      if (in.paths.empty() && env_config) in.paths = {*from_env};
      if (in.paths.empty()) throw missing();
      return in;
  }
  if (in.config.empty() && env_config) in.config = *from_env;
  if (in.config.empty()) throw missing();
  return in;
}

// The deepest subcommand parsed: the verb, or a group that named none (CLI11 reports those).
const CLI::App* leaf(const CLI::App& root) {
  const CLI::App* at = &root;
  while (!at->get_subcommands().empty()) at = at->get_subcommands().front();
  return at;
}

}  // namespace

std::string positionals_usage(const Verb& verb) {
  switch (verb.positionals) {
    case Positionals::none: return "";
    case Positionals::config: return "<config>";
    case Positionals::name_config: return "[" + verb.word_name + "] <config>";
    case Positionals::word_config: return "<" + verb.word_name + "> <config>";
    case Positionals::paths_or_config: return "<dir>... | <config>";
  }
  return "";
}

int dispatch(const std::vector<Group>& groups, const std::vector<Verb>& verbs, int argc, const char* const* argv,
             const config::EnvLookup& env) {
  CLI::App app{"bbmd: batched background migrations for PostgreSQL", "bbmd"};
  auto help = std::make_shared<Help>();
  app.formatter(help);
  app.require_subcommand(1);
  app.set_version_flag("-v,--version", std::string("bbmd ") + kVersion, "print the version and exit");
  for (const auto& group : groups) {
    parent_of(app, group.words).add_subcommand(group.words.back(), group.help)->require_subcommand(1);
  }
  Flags flags;
  std::map<const CLI::App*, Built> built;
  for (const auto& verb : verbs) {
    if (!verb.run) throw std::logic_error("verb table: '" + joined(verb.words) + "' has no handler");
    auto* cmd = parent_of(app, verb.words).add_subcommand(verb.words.back(), verb.help);
    const auto slots = declare_positionals(*cmd, verb);
    if (verb.declare_flags) verb.declare_flags(*cmd, flags);
    cmd->footer("Example:\n  " + verb.example);
    help->add(cmd, positionals_usage(verb));
    built[cmd] = Built{&verb, slots};
  }

  const auto usage = [&](const CLI::App* cmd) {
    return help->make_usage(cmd, "bbmd " + joined(built.at(cmd).verb->words));
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports a mistyped command word only as a missing subcommand: name the word too.
    const auto unparsed = app.remaining(true);
    if (dynamic_cast<const CLI::RequiredError*>(&e) && !unparsed.empty()) {
      std::cerr << "bbmd: unknown command or argument '" << unparsed.front() << "'\n";
    }
    if (app.exit(e) == 0) return kExitOk;  // --help, --version
    if (built.contains(leaf(app))) std::cerr << usage(leaf(app));
    return kExitUsage;
  }
  // Groups require a subcommand, so the deepest one parsed is a verb of the table.
  const auto& verb = built.at(leaf(app));
  Invocation in;
  try {
    in = resolve(verb, env);
  } catch (const UsageError& e) {
    std::cerr << "bbmd: " << joined(verb.verb->words) << ": " << e.what() << "\n" << usage(leaf(app));
    return kExitUsage;
  }
  in.flags = flags;
  return verb.verb->run(in);
}

}  // namespace bbmd::cli
