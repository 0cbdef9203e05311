#include "service/audit/internal/postgres.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "service/audit/audit_store.h"

namespace reconnect::service {

bool IsPostgresUri(const std::string& target) {
  return absl::StartsWith(target, "postgresql://") ||
         absl::StartsWith(target, "postgres://");
}

std::string StoreNameForLogs(const std::string& target) {
  if (!IsPostgresUri(target) || audit_internal::CheckPostgresUri(target).ok()) {
    return target;
  }
  return "(a PostgreSQL URI, not shown: it is malformed or holds a password)";
}

namespace audit_internal {

namespace {

constexpr Oid kInt8Oid = 20;
constexpr Oid kByteaOid = 17;

}  // namespace

absl::Status CheckPostgresUri(const std::string& uri) {
  if (!IsPostgresUri(uri)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", uri, "' is not a PostgreSQL URI (postgresql://...)"));
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), &error);
  if (options == nullptr) {
    // libpq's message names the part it could not read; it is not the
    // password (a URI that holds one is refused below once it parses).
    std::string why = error ? std::string(absl::StripTrailingAsciiWhitespace(
                                  std::string(error)))
                            : "out of memory";
    PQfreemem(error);
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid PostgreSQL URI: ", why));
  }
  bool has_password = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string(o->keyword) == "password" && o->val != nullptr &&
        o->val[0] != '\0') {
      has_password = true;
    }
  }
  PQconninfoFree(options);
  if (has_password) {
    return absl::InvalidArgumentError(
        "the PostgreSQL URI holds a password: leave it out, and give it in "
        "the environment (PGPASSWORD) or a password file (PGPASSFILE), so "
        "that it is in no command line and no log");
  }
  return absl::OkStatus();
}

std::string MultiRowInsert(const std::string& head, int per_row, size_t rows,
                           const std::string& tail) {
  std::string sql = head + " VALUES ";
  int n = 0;
  for (size_t r = 0; r < rows; ++r) {
    absl::StrAppend(&sql, r == 0 ? "(" : ", (");
    for (int c = 0; c < per_row; ++c) {
      absl::StrAppend(&sql, c == 0 ? "$" : ", $", ++n);
    }
    absl::StrAppend(&sql, ")");
  }
  return sql + tail;
}

int64_t PgResult::Int(int row, int col) const {
  const char* p = PQgetvalue(result_.get(), row, col);
  const int n = PQgetlength(result_.get(), row, col);
  uint64_t v = 0;
  for (int i = 0; i < n && i < 8; ++i) {
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  }
  // Sign-extend a 2- or 4-byte integer.
  if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  if (n == 2) return static_cast<int16_t>(static_cast<uint16_t>(v));
  return static_cast<int64_t>(v);
}

std::string PgResult::Bytes(int row, int col) const {
  return std::string(PQgetvalue(result_.get(), row, col),
                     static_cast<size_t>(PQgetlength(result_.get(), row, col)));
}

PgParams& PgParams::Int(int64_t v) {
  values_.push_back(absl::StrCat(v));
  types_.push_back(kInt8Oid);
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::Text(std::string v) {
  values_.push_back(std::move(v));
  types_.push_back(0);  // as the statement needs it
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::Bytes(std::string v) {
  values_.push_back(std::move(v));
  types_.push_back(kByteaOid);
  formats_.push_back(1);
  return *this;
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Open(
    const std::string& uri) {
  if (absl::Status s = CheckPostgresUri(uri); !s.ok()) return s;
  // Defaults first: what the URI says wins (libpq takes the last value).
  // A server that stops answering without closing the connection (a
  // partition, a frozen host) is given up on after about 10 s, rather than
  // holding the writer, and its callers, indefinitely.
  const char* keywords[] = {
      "connect_timeout",     "keepalives",       "keepalives_idle",
      "keepalives_interval", "keepalives_count", "tcp_user_timeout",
      "application_name",    "dbname",           nullptr};
  const char* values[] = {"5",     "1",         "5",         "2",    "3",
                          "10000", "reconnect", uri.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    const std::string why =
        conn ? std::string(absl::StripTrailingAsciiWhitespace(
                   std::string(PQerrorMessage(conn))))
             : "out of memory";
    PQfinish(conn);
    return absl::UnavailableError(
        absl::StrCat("cannot connect to the PostgreSQL audit store: ", why));
  }
  // The server's notices ("relation ... already exists, skipping") are
  // not for operators: libpq would print them to stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

absl::Status PgConnection::Failed(PGresult* result) {
  const char* state =
      result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : "";
  if (absl::StartsWith(last_sqlstate_, "57P") ||
      absl::StartsWith(last_sqlstate_, "08")) {
    ending_ = true;
  }
  std::string why(absl::StripTrailingAsciiWhitespace(
      std::string(result && PQresultErrorMessage(result)[0] != '\0'
                      ? PQresultErrorMessage(result)
                      : PQerrorMessage(conn_))));
  PQclear(result);
  return absl::UnavailableError(absl::StrCat("PostgreSQL audit store: ", why));
}

absl::StatusOr<PgResult> PgConnection::Query(const std::string& sql,
                                             const PgParams& params) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  values.reserve(params.values_.size());
  for (const std::string& v : params.values_) {
    values.push_back(v.data());
    lengths.push_back(static_cast<int>(v.size()));
  }
  PGresult* result = PQexecParams(
      conn_, sql.c_str(), params.size(), params.types_.data(), values.data(),
      lengths.data(), params.formats_.data(), /*resultFormat=*/1);
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return Failed(result);
  }
  last_sqlstate_.clear();
  return PgResult(result);
}

PgConnection::PipelineResult PgConnection::Pipeline(
    const std::vector<Statement>& statements) {
  PipelineResult out;
  if (PQenterPipelineMode(conn_) != 1) {
    out.status = Failed(nullptr);
    out.failed = 0;
    return out;
  }
  bool sent = true;
  for (const Statement& st : statements) {
    std::vector<const char*> values;
    std::vector<int> lengths;
    for (const std::string& v : st.params.values_) {
      values.push_back(v.data());
      lengths.push_back(static_cast<int>(v.size()));
    }
    if (PQsendQueryParams(conn_, st.sql.c_str(), st.params.size(),
                          st.params.types_.data(), values.data(),
                          lengths.data(), st.params.formats_.data(),
                          /*resultFormat=*/1) != 1) {
      sent = false;
      break;
    }
  }
  if (!sent || PQpipelineSync(conn_) != 1) {
    out.status = Failed(nullptr);
    out.failed = 0;
    LeavePipeline();
    return out;
  }
  // Each statement's result, then the NULL that ends it; then the sync.
  for (size_t i = 0; i < statements.size(); ++i) {
    PGresult* result = PQgetResult(conn_);
    if (result == nullptr) {  // the connection went away
      if (out.status.ok()) {
        out.status = Failed(nullptr);
        out.failed = static_cast<int>(i);
      }
      LeavePipeline();
      return out;
    }
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      out.results.emplace_back(result);
    } else if (status == PGRES_PIPELINE_ABORTED) {
      PQclear(result);
    } else if (out.status.ok()) {
      out.status = Failed(result);
      out.failed = static_cast<int>(i);
    } else {
      PQclear(result);
    }
    PQclear(PQgetResult(conn_));  // NULL: the end of this statement's
  }
  PGresult* sync = PQgetResult(conn_);
  const bool synced =
      sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  PQclear(sync);
  if (!synced && out.status.ok()) {
    out.status = Failed(nullptr);
    out.failed = static_cast<int>(statements.size()) - 1;
  }
  LeavePipeline();
  if (out.status.ok()) last_sqlstate_.clear();
  return out;
}

void PgConnection::LeavePipeline() {
  // A connection left in pipeline mode (results still pending after a
  // failure) can run nothing else: it is replaced.
  if (PQexitPipelineMode(conn_) != 1 ||
      PQpipelineStatus(conn_) != PQ_PIPELINE_OFF) {
    ending_ = true;
  }
}

absl::Status PgConnection::Exec(const std::string& sql) {
  PGresult* result = PQexec(conn_, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return Failed(result);
  }
  PQclear(result);
  last_sqlstate_.clear();
  return absl::OkStatus();
}

}  // namespace audit_internal
}  // namespace reconnect::service
