// SQLSTATE classification and error kind names.
#include <catch2/catch.hpp>

#include "db/error.hpp"

using bbmd::db::classify_sqlstate;
using bbmd::db::ErrorKind;

TEST_CASE("classify_sqlstate maps SQLSTATEs to what the caller should do", "[db][error]") {
  struct Case {
    const char* sqlstate;
    ErrorKind kind;
  };
  const Case cases[] = {
      {"08000", ErrorKind::connection_lost},  {"08006", ErrorKind::connection_lost},
      {"08P01", ErrorKind::connection_lost},  {"57P01", ErrorKind::connection_lost},
      {"57P02", ErrorKind::connection_lost},  {"57P03", ErrorKind::connection_lost},
      {"57014", ErrorKind::query_canceled},   {"55P03", ErrorKind::lock_timeout},
      {"40001", ErrorKind::retryable_conflict}, {"40P01", ErrorKind::retryable_conflict},
      {"42P01", ErrorKind::undefined_object}, {"42703", ErrorKind::undefined_object},
      {"42883", ErrorKind::undefined_object}, {"3F000", ErrorKind::undefined_object},
      {"42501", ErrorKind::insufficient_privilege}, {"22003", ErrorKind::data_error},
      {"22P02", ErrorKind::data_error},       {"23505", ErrorKind::data_error},
      {"23503", ErrorKind::data_error},       {"42601", ErrorKind::other},
      {"57000", ErrorKind::other},            {"55000", ErrorKind::other},
      {"40000", ErrorKind::other},            {"", ErrorKind::other},
      {"08", ErrorKind::other},               {"XX000", ErrorKind::other},
      // A missing prepared statement is only db::Connection's to judge (its own names or not).
      {"26000", ErrorKind::other},
  };
  for (const auto& c : cases) {
    INFO("sqlstate " << c.sqlstate);
    CHECK(classify_sqlstate(c.sqlstate) == c.kind);
  }
}

TEST_CASE("every error kind has a distinct name", "[db][error]") {
  CHECK(std::string(to_string(ErrorKind::connection_lost)) == "connection_lost");
  CHECK(std::string(to_string(ErrorKind::query_canceled)) == "query_canceled");
  CHECK(std::string(to_string(ErrorKind::lock_timeout)) == "lock_timeout");
  CHECK(std::string(to_string(ErrorKind::retryable_conflict)) == "retryable_conflict");
  CHECK(std::string(to_string(ErrorKind::undefined_object)) == "undefined_object");
  CHECK(std::string(to_string(ErrorKind::insufficient_privilege)) == "insufficient_privilege");
  CHECK(std::string(to_string(ErrorKind::data_error)) == "data_error");
  CHECK(std::string(to_string(ErrorKind::timeout)) == "timeout");
  CHECK(std::string(to_string(ErrorKind::prepared_statement_missing)) == "prepared_statement_missing");
  CHECK(std::string(to_string(ErrorKind::other)) == "other");
}

TEST_CASE("only lost connections and client timeouts break the connection", "[db][error]") {
  using bbmd::db::Error;
  CHECK(Error(ErrorKind::connection_lost, "57P01", "x").breaks_connection());
  CHECK(Error(ErrorKind::timeout, "", "x").breaks_connection());
  CHECK_FALSE(Error(ErrorKind::query_canceled, "57014", "x").breaks_connection());
  CHECK_FALSE(Error(ErrorKind::data_error, "23505", "x").breaks_connection());
  CHECK_FALSE(Error(ErrorKind::prepared_statement_missing, "26000", "x").breaks_connection());
}

TEST_CASE("a SQLSTATE about the server itself is named in words, any other leaves the message as it is",
          "[db][error]") {
  using bbmd::db::describe_server_error;
  using bbmd::db::server_condition;
  CHECK(server_condition("53100") == "the database server is out of disk space");
  CHECK(server_condition("53200") == "the database server is out of memory");
  CHECK(server_condition("53300") == "the database server has too many connections");
  CHECK(server_condition("53400") == "the database server lacks the resources for this");
  CHECK(server_condition("57P01") == "the database server is shutting down or ended this session");
  CHECK(server_condition("57P02") ==
        "the database server crashed (another server process exited abnormally; the server's log says why)");
  CHECK(server_condition("57P03") == "the database server is starting up or recovering");
  CHECK(server_condition("57014").empty());
  CHECK(server_condition("22012").empty());
  CHECK(server_condition("").empty());
  const std::string panic = "PANIC:  could not write to file \"pg_wal/xlogtemp.97\": No space left on device";
  CHECK(describe_server_error("53100", panic) ==
        "the database server is out of disk space (SQLSTATE 53100): PANIC:  could not write to file "
        "\"pg_wal/xlogtemp.97\": No space left on device");
  CHECK(describe_server_error("22012", "ERROR:  division by zero") == "ERROR:  division by zero");
}

TEST_CASE("libpq's verbose message gives up its SQLSTATE and reads as the default one", "[db][error]") {
  using bbmd::db::parse_verbose_message;
  const auto panic = parse_verbose_message(
      "PANIC:  53100: could not write to file \"pg_wal/xlogtemp.97\": No space left on device\n"
      "LOCATION:  XLogFileInitInternal, xlog.c:3041\n"
      "server closed the connection unexpectedly\n"
      "\tThis probably means the server terminated abnormally\n");
  CHECK(panic.sqlstate == "53100");
  CHECK(panic.text ==
        "PANIC:  could not write to file \"pg_wal/xlogtemp.97\": No space left on device\n"
        "server closed the connection unexpectedly\n"
        "\tThis probably means the server terminated abnormally\n");
  const auto detail = parse_verbose_message("ERROR:  23505: duplicate key\nDETAIL:  Key (id)=(1) already exists.");
  CHECK(detail.sqlstate == "23505");
  CHECK(detail.text == "ERROR:  duplicate key\nDETAIL:  Key (id)=(1) already exists.");
  const auto libpq_only = parse_verbose_message("could not connect to server: Connection refused");
  CHECK(libpq_only.sqlstate.empty());
  CHECK(libpq_only.text == "could not connect to server: Connection refused");
  // A message that merely has a colon and five capitals is not a code.
  const auto lookalike = parse_verbose_message("note:  ABCDE is not: a code");
  CHECK(lookalike.sqlstate.empty());
  CHECK(lookalike.text == "note:  ABCDE is not: a code");
}
