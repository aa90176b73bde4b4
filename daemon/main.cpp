// bbmd entry point: everything lives in the library so tests can drive it.
#include "cli/commands.hpp"

int main(int argc, char** argv) { return bbmd::cli::main(argc, argv); }
