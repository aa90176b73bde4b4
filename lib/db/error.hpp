#pragma once
// Database errors and the one place that maps SQLSTATE to what a caller should do about them.
#include <stdexcept>
#include <string>

namespace bbmd::db {

enum class ErrorKind {
  connection_lost,    // socket gone / 08xxx / admin shutdown: the connection must be discarded
  query_canceled,     // 57014: statement_timeout or our own cancel; transaction is aborted
  lock_timeout,       // 55P03
  retryable_conflict, // 40001 serialization failure, 40P01 deadlock
  undefined_object,   // 42P01 table, 42703 column, 42883 function, 3F000 schema
  insufficient_privilege, // 42501
  data_error,         // 22xxx, 23xxx: bad data for this batch
  timeout,            // client-side deadline passed (connect or query)
  // A named prepared statement was missing inside a transaction an earlier round trip opened:
  // the server session changed under the connection (a transaction pooler), which has rolled
  // nothing forward and now runs unnamed statements. Roll back and redo the work; it is not the
  // work's failure (no attempt counts). Only db::Connection raises it (26000 alone is `other`).
  prepared_statement_missing,
  other,
};

[[nodiscard]] const char* to_string(ErrorKind kind) noexcept;
[[nodiscard]] ErrorKind classify_sqlstate(const std::string& sqlstate) noexcept;

// What a SQLSTATE says about the server itself rather than the statement (out of disk space,
// crashed, shutting down, recovering), in words an operator acts on; empty for any other code.
// The server's own text ("could not write to file ...") does not say which of these it is.
[[nodiscard]] std::string server_condition(const std::string& sqlstate);

// "<condition> (SQLSTATE <code>): <message>" when the code names a server condition, else the
// message as it is: the text every db::Error carries from a server's error.
[[nodiscard]] std::string describe_server_error(const std::string& sqlstate, const std::string& message);

// libpq's connection message as libpq formats it with PQERRORS_VERBOSE ("FATAL:  57P01: ..." and
// a LOCATION line): the first SQLSTATE in it (empty when only libpq spoke) and the text as the
// default verbosity shows it. libpq drops the fields of an error that arrives with the socket's
// close (a PANIC, a FATAL), so this text is all that is left of its SQLSTATE.
struct LibpqMessage {
  std::string sqlstate;
  std::string text;
};
[[nodiscard]] LibpqMessage parse_verbose_message(const std::string& message);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string sqlstate, const std::string& message)
      : std::runtime_error(message), kind_(kind), sqlstate_(std::move(sqlstate)) {}
  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }
  [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }
  // True when the connection cannot be used again and must be closed.
  [[nodiscard]] bool breaks_connection() const noexcept {
    return kind_ == ErrorKind::connection_lost || kind_ == ErrorKind::timeout;
  }

 private:
  ErrorKind kind_;
  std::string sqlstate_;
};

}  // namespace bbmd::db
