#include "tests/testing/postgres.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"

namespace reconnect::testing_util {

namespace {

// A loopback port nothing listens on now.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// 32 random hex digits.
std::string RandomSecret() {
  std::ifstream random("/dev/urandom", std::ios::binary);
  unsigned char bytes[16] = {};
  random.read(reinterpret_cast<char*>(bytes), sizeof(bytes));
  std::string out;
  for (unsigned char b : bytes)
    absl::StrAppend(&out, absl::Hex(b, absl::kZeroPad2));
  return out;
}

// Appends a line for `role` to the password file `path` (kept 0600, as
// libpq requires).
void AddToPasswordFile(const std::string& path, const std::string& role,
                       const std::string& password) {
  std::ofstream(path, std::ios::app)
      << "127.0.0.1:*:*:" << role << ":" << password << "\n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                         std::filesystem::perms::owner_write);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestPostgres>> TestPostgres::Start(
    const std::string& name) {
  std::unique_ptr<TestPostgres> pg(new TestPostgres());
  const char* bindir = std::getenv("RECONNECT_PG_BINDIR");
  pg->bindir_ = bindir ? bindir : "/usr/lib/postgresql/15/bin";
  if (!std::filesystem::exists(pg->bindir_ + "/initdb")) {
    return absl::FailedPreconditionError(
        absl::StrCat("no PostgreSQL in ", pg->bindir_,
                     ": install postgresql-15 (scripts/setup does)"));
  }
  pg->dir_ =
      absl::StrCat(RECONNECT_BUILD_DIR, "/pg-tests/", name, "-", getpid());
  std::error_code ignored;
  std::filesystem::remove_all(pg->dir_, ignored);
  std::filesystem::create_directories(pg->dir_ + "/data");
  if (geteuid() == 0 &&
      std::system(
          absl::StrCat("chown -R postgres ", Quote(pg->dir_)).c_str()) != 0) {
    return absl::InternalError("cannot hand the data directory to postgres");
  }
  // The superuser's password: for initdb in a file of the server's, and
  // for clients in the password file.
  const std::string password = RandomSecret();
  const std::string pwfile = pg->dir_ + "/superuser-password";
  std::ofstream(pwfile) << password << "\n";
  if (geteuid() == 0 &&
      std::system(absl::StrCat("chown postgres ", Quote(pwfile)).c_str()) !=
          0) {
    return absl::InternalError("cannot hand the password file to postgres");
  }
  if (absl::Status s =
          pg->Run("initdb", absl::StrCat("-D ", Quote(pg->dir_ + "/data"),
                                         " -U reconnect --auth-local=trust"
                                         " --auth-host=scram-sha-256 --pwfile=",
                                         Quote(pwfile),
                                         " --no-sync -E UTF8 --no-locale"));
      !s.ok()) {
    return s;
  }
  std::filesystem::remove(pwfile);
  const std::string passfile = pg->dir_ + "/pgpass";
  AddToPasswordFile(passfile, "reconnect", password);
  setenv("PGPASSFILE", passfile.c_str(), 1);
  pg->port_ = FreePort();
  if (absl::Status s = pg->Restart(); !s.ok()) return s;
  return pg;
}

TestPostgres::~TestPostgres() {
  if (running_) Stop().IgnoreError();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string TestPostgres::Uri(const std::string& database,
                              const std::string& user) const {
  return absl::StrCat("postgresql://", user, "@127.0.0.1:", port_, "/",
                      database);
}

absl::Status TestPostgres::Run(const std::string& binary,
                               const std::string& args) const {
  const std::string command = absl::StrCat(
      geteuid() == 0 ? "runuser -u postgres -- " : "", bindir_, "/", binary,
      " ", args, " >> ", Quote(dir_ + "/commands.log"), " 2>&1");
  if (std::system(command.c_str()) != 0) {
    return absl::InternalError(absl::StrCat(binary, " failed; see ", dir_,
                                            "/commands.log and ", dir_,
                                            "/server.log"));
  }
  return absl::OkStatus();
}

absl::Status TestPostgres::Stop() {
  running_ = false;
  return Run("pg_ctl",
             absl::StrCat("stop -w -m fast -D ", Quote(dir_ + "/data")));
}

absl::Status TestPostgres::Restart() {
  // Loopback only; the socket directory is the test's own; fsync off, as
  // the tests need no durability across a machine's crash.
  if (absl::Status s =
          Run("pg_ctl",
              absl::StrCat(
                  "start -w -t 60 -D ", Quote(dir_ + "/data"), " -l ",
                  Quote(dir_ + "/server.log"), " -o ",
                  Quote(absl::StrCat(
                      "-p ", port_, " -c listen_addresses=127.0.0.1", " -k ",
                      dir_, " -c fsync=off", " -c max_connections=100"))));
      !s.ok()) {
    return s;
  }
  running_ = true;
  return absl::OkStatus();
}

namespace {

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Runs `sql` on a connection of its own to `uri`: its last result, or why
// it failed.
absl::StatusOr<Result> RunSql(const std::string& uri, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(uri.c_str()),
                                                    &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(PQerrorMessage(conn.get()));
  }
  Result result(PQexec(conn.get(), sql.c_str()), &PQclear);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return absl::InternalError(
        absl::StrCat(sql, ": ", PQresultErrorMessage(result.get())));
  }
  return result;
}

}  // namespace

absl::StatusOr<std::string> TestPostgres::Value(const std::string& database,
                                                const std::string& sql) {
  absl::StatusOr<Result> result = RunSql(Uri(database), sql);
  if (!result.ok()) return result.status();
  if (PQntuples(result->get()) < 1) {
    return absl::NotFoundError(absl::StrCat(sql, ": no rows"));
  }
  return std::string(PQgetvalue(result->get(), 0, 0));
}

absl::Status TestPostgres::Sql(const std::string& database,
                               const std::string& sql) {
  return RunSql(Uri(database), sql).status();
}

absl::Status TestPostgres::AddLogin(const std::string& role,
                                    const std::string& password,
                                    bool in_password_file) {
  if (absl::Status s =
          Sql("postgres", absl::StrCat("CREATE ROLE \"", role,
                                       "\" LOGIN PASSWORD '", password, "'"));
      !s.ok()) {
    return s;
  }
  if (in_password_file) AddToPasswordFile(dir_ + "/pgpass", role, password);
  return absl::OkStatus();
}

absl::Status TestPostgres::CreateDatabase(const std::string& name) {
  return Sql("postgres", absl::StrCat("CREATE DATABASE \"", name, "\""));
}

}  // namespace reconnect::testing_util
