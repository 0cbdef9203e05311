#ifndef RECONNECT_SERVICE_AUDIT_INTERNAL_POSTGRES_SCHEMA_H_
#define RECONNECT_SERVICE_AUDIT_INTERNAL_POSTGRES_SCHEMA_H_

#include "absl/status/status.h"
#include "service/audit/internal/postgres.h"

namespace reconnect::service::audit_internal {

// The PostgreSQL schema this binary writes, counted on its own (the tables
// hold what SQLite's schema 8 does). 1: the first. 2: the stored
// assessments and recommendations compressed with lz4 where the server has
// it (about 10% less of its CPU per record than pglz, the same size).
inline constexpr int kPostgresSchemaVersion = 2;

// Brings the database to kPostgresSchemaVersion, each step in a
// transaction under an advisory lock, so that replicas starting together
// migrate it once. FAILED_PRECONDITION for a newer schema.
absl::Status MigratePostgres(PgConnection& db);

// OK when the database holds an audit store this binary reads; needs no
// more than a read-only role.
absl::Status CheckPostgresReadable(PgConnection& db);

}  // namespace reconnect::service::audit_internal

#endif  // RECONNECT_SERVICE_AUDIT_INTERNAL_POSTGRES_SCHEMA_H_
