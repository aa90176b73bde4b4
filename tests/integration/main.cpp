// Catch2 entry point for the integration test binary (run under pg_virtualenv).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
