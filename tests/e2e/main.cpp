// Catch2 entry point of the end-to-end tests (the real bbmd binary against a real PostgreSQL).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
