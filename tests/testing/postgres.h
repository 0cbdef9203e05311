#ifndef RECONNECT_TESTS_TESTING_POSTGRES_H_
#define RECONNECT_TESTS_TESTING_POSTGRES_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace reconnect::testing_util {

// A real PostgreSQL 15 server for a test: `initdb` into a fresh directory
// of the build tree, `pg_ctl` on a free loopback port, stopped and removed
// when destroyed. Its superuser is `reconnect`. Connections over TCP need a
// password (SCRAM), which the test process and its children find in a
// password file (PGPASSFILE, set by Start), as a deployment would. Run as
// root, the server runs as the `postgres` user (PostgreSQL refuses root).
// The binaries are Debian's postgresql-15 (RECONNECT_PG_BINDIR overrides
// their directory).
class TestPostgres {
 public:
  static absl::StatusOr<std::unique_ptr<TestPostgres>> Start(
      const std::string& name);
  ~TestPostgres();

  int port() const { return port_; }
  // postgresql://USER@127.0.0.1:PORT/DATABASE
  std::string Uri(const std::string& database,
                  const std::string& user = "reconnect") const;
  absl::Status CreateDatabase(const std::string& name);
  // Creates a login role with `password`; with `in_password_file`, adds it
  // to the password file too.
  absl::Status AddLogin(const std::string& role, const std::string& password,
                        bool in_password_file = true);
  // Runs `sql` in `database` as the superuser (tampering, roles, and
  // pg_terminate_backend).
  absl::Status Sql(const std::string& database, const std::string& sql);
  // The first value of the first row `sql` returns, as text.
  absl::StatusOr<std::string> Value(const std::string& database,
                                    const std::string& sql);
  // Stops the server (a fast shutdown), and starts it again on its port.
  absl::Status Stop();
  absl::Status Restart();

 private:
  TestPostgres() = default;
  // Runs a PostgreSQL binary (as `postgres` when root); its output goes to
  // the server's log file.
  absl::Status Run(const std::string& binary, const std::string& args) const;

  std::string bindir_;
  std::string dir_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_POSTGRES_H_
