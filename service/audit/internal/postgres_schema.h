#ifndef RECONNECT_SERVICE_AUDIT_INTERNAL_POSTGRES_SCHEMA_H_
#define RECONNECT_SERVICE_AUDIT_INTERNAL_POSTGRES_SCHEMA_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/audit/internal/postgres.h"

namespace reconnect::service::audit_internal {

// The PostgreSQL schema this binary writes, counted on its own (the tables
// hold what SQLite's schema of the same time does). 1: the first. 2: the stored
// assessments and recommendations compressed with lz4 where the server has
// it (about 10% less of its CPU per record than pglz, the same size). 3:
// packed by the service instead (packing.h), as SQLite's schema 9 does.
inline constexpr int kPostgresSchemaVersion = 3;

// Brings the database to kPostgresSchemaVersion, each step in a
// transaction under an advisory lock, so that replicas starting together
// migrate it once. FAILED_PRECONDITION for a newer schema.
absl::Status MigratePostgres(PgConnection& db);

// The schema version of the audit store the database holds, when this
// binary reads it; needs no more than a read-only role.
absl::StatusOr<int> CheckPostgresReadable(PgConnection& db);

// The columns of a decisions row, as ReadDecision reads them, in a store of
// schema `version` (before 3, every row is held as is).
std::string PostgresDecisionColumns(int version);

}  // namespace reconnect::service::audit_internal

#endif  // RECONNECT_SERVICE_AUDIT_INTERNAL_POSTGRES_SCHEMA_H_
