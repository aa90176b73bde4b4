// The process entry: runs the verb table's dispatcher and maps what escapes it to exit codes.
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/verbs.hpp"
#include "config/loader.hpp"
#include "db/error.hpp"

namespace bbmd::cli {

int main(int argc, char** argv) {
  try {
    return dispatch(groups(), verbs(), argc, argv, config::process_env());
  } catch (const config::ConfigError& e) {
    std::cerr << "bbmd: " << e.what() << "\n";
    return kExitUsage;
  } catch (const db::Error& e) {
    std::cerr << "bbmd: database error: " << e.what() << "\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "bbmd: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace bbmd::cli
