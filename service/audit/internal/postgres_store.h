#ifndef RECONNECT_SERVICE_AUDIT_INTERNAL_POSTGRES_STORE_H_
#define RECONNECT_SERVICE_AUDIT_INTERNAL_POSTGRES_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/audit/audit_store.h"
#include "service/audit/internal/group_commit.h"
#include "service/audit/internal/postgres.h"

namespace reconnect::service::audit_internal {

// The audit store in a PostgreSQL database that several replicas share.
//
// One trail for all of them: the replicas' records form one hash chain (and
// their feedback one more), exactly as in a SQLite store, so that `audit
// verify`, replay and governance read either store alike. Each group
// commit takes the chain's head row FOR UPDATE, chains its batch onto it,
// inserts, moves the head and commits: the replicas' commits serialise on
// that one row lock, once per group commit and never per record, and the
// cards and daily counts are written before it is taken so that it is held
// only for the decisions, the head and the commit. Any snapshot a reader
// takes sees a prefix of the chain that ends at the head it holds.
//
// Why one chain rather than a chain per replica bound together later: an
// edit, deletion, reordering or truncation of any replica's records breaks
// the one chain at the first record it touched, and a replica's records
// going missing leaves a gap in the sequence, with nothing more to check
// and nothing to reconcile when replicas come and go (an autoscaler's
// replicas have no stable identity to give a chain of their own).
//
// When the database goes away the writer's commit fails (UNAVAILABLE to
// every caller in the batch, nothing stored), the store turns unhealthy,
// and the writer reconnects by itself: while unhealthy and idle it probes
// every half second, and a commit finding the connection down opens a new
// one first.
class PostgresAuditStore final : public GroupCommitStore {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresAuditStore>> Open(
      Options options);
  ~PostgresAuditStore() override;

  absl::Status RecordRuleSet(const std::string& digest, const std::string& id,
                             const std::string& version,
                             const std::string& canonical_content) override
      ABSL_LOCKS_EXCLUDED(admin_mu_);
  absl::Status RecordRuleSetSignatures(
      const std::string& digest,
      const std::vector<RuleSetSignature>& signatures) override
      ABSL_LOCKS_EXCLUDED(admin_mu_);
  absl::Status RecordRuleSetEvent(RuleSetEvent event) override
      ABSL_LOCKS_EXCLUDED(admin_mu_);

 private:
  explicit PostgresAuditStore(Options options)
      : GroupCommitStore(std::move(options)) {}
  absl::Status Commit(std::vector<Pending>& batch) override;
  absl::Status Probe() override;
  // The writer's connection, opened again when it went down.
  absl::StatusOr<PgConnection*> Writer();
  // Writes and commits `batch`; `commit_sent` says whether COMMIT was sent
  // (when it fails after that, whether it took is unknown).
  absl::Status WriteBatch(PgConnection& db, std::vector<Pending>& batch,
                          bool& commit_sent);
  // Runs `statements` in one round trip; `commits` when the last is COMMIT.
  static absl::Status RunPipeline(
      PgConnection& db, const std::vector<PgConnection::Statement>& statements,
      bool commits, bool& commit_sent, std::vector<PgResult>* results);
  // The statements for the cards of the batch's decisions and its daily
  // counts, which need no chain head.
  static void AddCardsAndCounts(const std::vector<Pending>& batch,
                                std::vector<PgConnection::Statement>& out);
  // Chains the batch's decisions onto the head (`sequence`, `hash`), and
  // the statements that insert them and move the head.
  static void AddDecisions(int64_t sequence, std::string hash,
                           std::vector<Pending>& batch,
                           std::vector<PgConnection::Statement>& out);
  // The batch's feedback requests, their daily counts and the feedback
  // head, inside the transaction.
  absl::Status WriteAllFeedback(PgConnection& db, std::vector<Pending>& batch);
  // Checks and chains one feedback request's entries, all or none (a
  // savepoint), setting `p.result`; an error only when the database fails.
  absl::Status WriteFeedback(PgConnection& db, Pending& p,
                             bool& feedback_locked);
  // Runs `write` on the connection for admin writes (start-up, reloads),
  // opening it again when it went down.
  absl::Status AdminWrite(const std::string& what, const std::string& sql,
                          const PgParams& params)
      ABSL_LOCKS_EXCLUDED(admin_mu_);

  // Used on the writer thread only.
  std::unique_ptr<PgConnection> writer_db_;
  int64_t feedback_sequence_ = 0;
  std::string feedback_hash_;

  absl::Mutex admin_mu_;
  std::unique_ptr<PgConnection> admin_db_ ABSL_GUARDED_BY(admin_mu_);
};

}  // namespace reconnect::service::audit_internal

#endif  // RECONNECT_SERVICE_AUDIT_INTERNAL_POSTGRES_STORE_H_
