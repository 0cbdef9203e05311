#ifndef RECONNECT_SERVICE_AUDIT_AUDIT_STORE_H_
#define RECONNECT_SERVICE_AUDIT_AUDIT_STORE_H_

// The audit store's public interface: the records it keeps, the store that
// appends them, the reader that lists them, and verification. The SQLite
// implementation lives in internal/.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/audit/rule_outcomes.h"
#include "service/common/rule_set_signature.h"

namespace reconnect::service {

// A card a decision was answered with (CDS Hooks), indexed so that the
// feedback an EHR sends on it joins its decision. The decision's context
// lists its cards too, so they are under the decision's hash.
struct IssuedCard {
  std::string uuid;
  std::string service;  // the CDS service that issued it
  std::string item;     // which part of the answer: "plan", "alert/CODE", ...
  std::vector<std::string> rule_ids;     // the rules behind it
  std::vector<std::string> suggestions;  // its suggestions' uuids
};

// One decision as the audit trail keeps it. The store assigns `sequence`,
// `prev_hash` and `hash`.
struct DecisionRecord {
  int64_t sequence = 0;
  std::string decision_id;
  int64_t time_micros = 0;  // UTC, microseconds since the Unix epoch
  std::string calling_system;
  std::string caller;  // the authenticated caller; empty without identity
  std::string rule_set_digest;
  std::string assessment;      // reconnect.v1.Assessment as submitted (binary)
  std::string recommendation;  // reconnect.v1.Recommendation returned (binary)
  // How a row holds the two above (internal/packing.h). Readers hand out
  // records as returned (0); only `audit verify` and `audit copy` see the
  // packed bytes of a row.
  int packing = 0;
  // The interface and request the decision came through, as compact JSON
  // (e.g. {"interface":"cds-hooks","hookInstance":...}); empty for gRPC.
  std::string context;
  std::string prev_hash;  // 32 bytes; zeros before the first record
  std::string hash;       // 32 bytes
  // The assessment's patient reference as stored in it ("hmac-sha256:..."),
  // or empty: an index to find a patient's decisions by, not hashed itself
  // (the assessment it is copied from is).
  std::string patient_hmac;
  // Which rules fired and which were held, for the daily counts (not
  // hashed: the recommendation they are read from is).
  RuleOutcomes outcomes;
  // The cards it was answered with, for the card index (not hashed
  // themselves: the context that lists them is).
  std::vector<IssuedCard> cards;
};

// What a clinician did with a card (CDS Hooks feedback), or what an MDT
// decided about one item of a plan (the MDT view), as the trail keeps it:
// in a chain of its own, hashed like decisions (chain.h).
// - On a card: the caller fills in what was sent; the store fills in the
//   rest from the card's decision.
// - On an item of a decision: the caller also sets `decision_id`,
//   `card_item` (the item, e.g. "technique/CODE") and `rule_ids`, and
//   `card_uuid` to the item's own name-based UUID; the store checks that
//   the decision exists and fills in its rule set.
// The store sets `sequence`, `prev_hash` and `hash`.
struct FeedbackRecord {
  int64_t sequence = 0;
  int64_t time_micros = 0;  // when it was received
  std::string caller;
  std::string service;  // the CDS service it was sent to, or "mdt"
  std::string card_uuid;
  // "accepted", "modified" (an MDT's changed version) or "overridden" (a
  // card dismissed, an item declined).
  std::string outcome;
  std::string outcome_time;  // outcomeTimestamp as sent
  std::vector<std::string> accepted_suggestions;
  // {"reason": Coding, "userComment": ..., "modification": ...} as compact
  // JSON; empty when none.
  std::string override_reason;
  // From the card's decision.
  std::string decision_id;
  std::string card_item;
  std::vector<std::string> rule_ids;
  std::string rule_set_digest;
  std::string prev_hash;
  std::string hash;
};

// A rule-set directory a reload refused, with its problems (rule files and
// positions, never patient data).
struct RuleSetRefusal {
  std::string dir;
  std::vector<std::string> problems;
};

// What was done to the served rule-set versions, kept beside the trail
// (schema 7 on) so that governance can say which version was active when,
// who changed it, and which reloads were refused.
struct RuleSetEvent {
  int64_t sequence = 0;
  int64_t time_micros = 0;  // set by the store when 0
  std::string action;       // "reload" or "activate"
  // The person's identity ("jwt:..."), or the cause: "start-up", "SIGHUP",
  // "files changed"; empty for a caller when authorization is off.
  std::string who;
  // Empty when it went through; else why not (nothing loads, no such
  // version). A reload that refused some directories but served others
  // went through: `refusals` says which.
  std::string refused;
  std::string active_digest;  // served as active afterwards; '' none
  std::vector<std::string> loaded_digests;
  std::vector<RuleSetRefusal> refusals;
};

// How one feedback request (one or more entries) went.
struct FeedbackResult {
  // OK; INVALID_ARGUMENT (nothing stored: `entry` and `field` say what was
  // wrong); or UNAVAILABLE (nothing stored).
  absl::Status status;
  int entry = -1;
  std::string field;  // "card", "acceptedSuggestions[1].id", ...
  // Per entry, when OK: false when the same interaction (card, outcome and
  // outcome time) was stored before, so it was not stored again.
  std::vector<bool> stored;
};

// What `audit verify` found.
struct VerifyReport {
  int64_t records = 0;
  int64_t head_sequence = 0;
  std::string head_hash;  // hex
  int64_t feedback_records = 0;
  std::string feedback_head_hash;  // hex
  // Empty when the trail is intact; otherwise the first broken record and
  // why.
  std::optional<int64_t> broken_sequence;
  std::string problem;
  bool ok() const { return problem.empty(); }
};

// One group commit as the store's writer saw it, for operators' metrics:
// sizes, times and outcomes, never record content.
struct CommitReport {
  int decisions = 0;          // decision records in the transaction
  int feedback_requests = 0;  // feedback requests in it
  bool ok = false;            // whether it committed
  absl::Duration took;        // from taking the batch to the commit's end
  // Each feedback entry stored by it.
  struct Feedback {
    std::string service;  // FeedbackRecord::service: a CDS service, or "mdt"
    std::string item;     // "plan", "alert/CODE", "technique/CODE", ...
    std::string outcome;  // FeedbackRecord::outcome
  };
  std::vector<Feedback> feedback;
};

// Whether `target` names a PostgreSQL store (a libpq URI, postgresql://...)
// rather than a SQLite file.
bool IsPostgresUri(const std::string& target);

// How logs and pages name the store at `target`: `target` itself, unless it
// is a PostgreSQL URI that is malformed or holds a password, which is not
// shown (so that no password reaches a log).
std::string StoreNameForLogs(const std::string& target);

// The durable, tamper-evident audit trail that every decision is appended
// to before it is answered. Decisions are chained by hash (chain.h); the
// store assigns each its sequence number and hashes. One writer thread
// commits whatever has queued up in one transaction (group commit), so
// concurrent calls share the cost of a sync and no caller's thread waits on
// the disk (internal/group_commit.h). Two implementations:
// - one SQLite file in WAL mode with synchronous=FULL, the embedded default
//   (internal/sqlite_store.h);
// - a PostgreSQL database that several replicas share, with one chain for
//   all of them (internal/postgres_store.h).
// Thread-safe.
class AuditStore {
 public:
  struct Options {
    // A SQLite file, or a PostgreSQL URI (IsPostgresUri) without a password:
    // libpq reads it from PGPASSWORD or a password file (PGPASSFILE). The
    // SQLite-only options below do nothing for PostgreSQL.
    std::string path;
    // Largest database size in pages (0: unlimited). Reaching it fails
    // writes as a full disk does; tests use it to fill the disk.
    int64_t max_page_count = 0;
    // WAL frames after which the checkpointer thread copies the WAL into the
    // database file (SQLite's own default is 1000), off the writer's path;
    // and after which the writer does so itself, between two commits, should
    // the checkpointer fall behind (which bounds the WAL: 10,000 frames of
    // 4 KiB pages is about 40 MB). Under steady load the WAL starts over only
    // after a checkpoint the writer did not race; a lower bound costs
    // latency (the writer copies more often), a higher one CPU (a longer
    // WAL file is appended rather than overwritten).
    int checkpoint_frames = 1000;
    int writer_checkpoint_frames = 10000;
    // Called on the writer thread after each commit of queued records,
    // whether it went through or not; null: not called. Must be quick.
    std::function<void(const CommitReport&)> on_commit = nullptr;
    // Whether decisions are packed (internal/packing.h). Off only to write
    // rows as stores before packing held them, for the migration tests.
    bool pack = true;
  };

  // Opens (creating or migrating the schema) and starts writing.
  static absl::StatusOr<std::unique_ptr<AuditStore>> Open(Options options);
  // Commits what is queued, then stops.
  virtual ~AuditStore() = default;

  using Done = std::function<void(const absl::Status&)>;
  // Queues `record` (its sequence and hashes are assigned here). `done` runs
  // on the store's completion thread once the record is committed (OK) or
  // could not be (UNAVAILABLE, nothing of it stored). Never blocks on the
  // disk.
  virtual void Append(DecisionRecord record, Done done) = 0;

  using FeedbackDone = std::function<void(const FeedbackResult&)>;
  // Queues the entries of one feedback request, stored together or not at
  // all. Each card must have been issued by the entry's service, and each
  // accepted suggestion must be one of the card's. `done` runs on the
  // store's completion thread. Never blocks on the disk.
  virtual void AppendFeedback(std::vector<FeedbackRecord> entries,
                              FeedbackDone done) = 0;

  // Stores a rule-set version by digest (once; later calls are no-ops).
  // Blocks until written; for start-up and reloads, not request threads.
  virtual absl::Status RecordRuleSet(const std::string& digest,
                                     const std::string& id,
                                     const std::string& version,
                                     const std::string& canonical_content) = 0;

  // Keeps the verified sign-offs of the rule set with `digest` (each once;
  // a signature already kept is a no-op). Blocks until written; for
  // start-up and reloads, not request threads.
  virtual absl::Status RecordRuleSetSignatures(
      const std::string& digest,
      const std::vector<RuleSetSignature>& signatures) = 0;

  // Records a reload or an activation. Blocks until written; for reloads
  // and admin actions, not request threads.
  virtual absl::Status RecordRuleSetEvent(RuleSetEvent event) = 0;

  // Whether the last write succeeded. While it is false, the store probes
  // the disk by itself and flips it back once a write works.
  virtual bool healthy() const = 0;
  // Called on the store's writer thread whenever healthy() changes; null
  // stops the calls.
  virtual void OnHealthChange(std::function<void(bool)> callback) = 0;

  // Transactions committed so far (each holds one group of records).
  virtual int64_t transactions() const = 0;
  // Records and feedback requests queued for the writer, not yet taken
  // into a commit.
  virtual int64_t queued() const = 0;

 protected:
  AuditStore() = default;
  AuditStore(const AuditStore&) = delete;
  AuditStore& operator=(const AuditStore&) = delete;
};

// Which recorded decisions to list.
struct DecisionQuery {
  int64_t start_micros = 0;     // inclusive; 0: open
  int64_t end_micros = 0;       // exclusive; 0: open
  std::string rule_set_digest;  // empty: any
  std::string calling_system;   // empty: any
  std::string caller;           // the authenticated caller; empty: any
  std::string patient_hmac;     // DecisionRecord::patient_hmac; empty: any
  int64_t after_sequence = 0;   // paging: only records after this one
  int64_t before_sequence = 0;  // paging: only records before it; 0: open
  bool newest_first = false;    // in descending sequence order
  int limit = 50;
  bool metadata_only = false;  // leave out assessment and recommendation
};

// Which feedback to list; unset filters match everything.
struct FeedbackQuery {
  std::string decision_id;
  std::string rule_id;           // feedback on cards this rule was behind
  std::string rule_set_version;  // of the decision's rule set
  int64_t start_micros = 0;      // received at or after; 0: open
  int64_t end_micros = 0;        // received before; 0: open
  bool with_comment = false;     // only those with a userComment
  int64_t after_sequence = 0;    // paging
  bool newest_first = false;     // in descending sequence order
  int limit = 50;
};

// A rule-set version as the store recorded it.
struct StoredRuleSet {
  std::string digest;
  std::string id;
  std::string version;
  int64_t first_recorded_micros = 0;
};

// How many decisions a rule set made on one day (UTC), from one calling
// system; and how often a rule fired, or was held by `holder`, that day.
// The store keeps these as it writes (schema 6 on), so that a period's
// figures are read without reading its decisions.
struct DecisionDayCount {
  int64_t day = 0;  // days since 1970-01-01, UTC
  std::string rule_set_digest;
  std::string calling_system;
  int64_t count = 0;
};
struct RuleDayCount {
  int64_t day = 0;
  std::string rule_set_digest;
  std::string rule_id;
  // Empty: the rule fired; "*": it was held back (by any rule); else it was
  // held back by this rule.
  std::string holder;
  int64_t count = 0;
};

// How much feedback on a rule of a rule set was received one day (UTC)
// with one outcome and coded reason (empty: none), once per rule the card or
// item was behind (schema 7 on).
struct FeedbackDayCount {
  int64_t day = 0;
  std::string rule_set_digest;
  std::string rule_id;  // "*": each feedback once, whatever its rules
  std::string outcome;  // FeedbackRecord::outcome
  std::string reason;   // the reason's code
  std::string display;  // the reason's display text, as last sent
  int64_t count = 0;
};

struct RuleSetUsage {
  std::string rule_set_digest;
  int64_t first_day = 0, last_day = 0;
  int64_t decisions = 0;
};

// The UTC day of a time in microseconds since the epoch.
inline int64_t DayOf(int64_t micros) {
  constexpr int64_t kMicrosPerDay = 86'400'000'000;
  return micros >= 0 ? micros / kMicrosPerDay
                     : (micros - kMicrosPerDay + 1) / kMicrosPerDay;
}

// Read access to a store (read-only; safe while servers write it). One
// reader is used by one thread at a time.
class AuditReader {
 public:
  // `path` is a SQLite file or a PostgreSQL URI (a read-only role is
  // enough). NOT_FOUND when the file cannot be opened; UNAVAILABLE when the
  // database cannot be reached; FAILED_PRECONDITION when it is not an audit
  // store of a schema version this binary reads.
  static absl::StatusOr<std::unique_ptr<AuditReader>> Open(
      const std::string& path);
  virtual ~AuditReader() = default;

  // NOT_FOUND when the store holds no such decision.
  virtual absl::StatusOr<DecisionRecord> GetDecision(
      const std::string& decision_id) = 0;
  // The canonical content of the rule set with `digest`; NOT_FOUND when the
  // store holds none.
  virtual absl::StatusOr<std::string> GetRuleSetContent(
      const std::string& digest) = 0;
  // The sign-offs kept with the rule set `digest`, by role and time; none
  // from a store of a schema before them.
  virtual absl::StatusOr<std::vector<RuleSetSignature>> GetRuleSetSignatures(
      const std::string& digest) = 0;
  // Decisions matching `query`, in sequence order (or its reverse).
  virtual absl::StatusOr<std::vector<DecisionRecord>> ListDecisions(
      const DecisionQuery& query) = 0;
  // Feedback matching `query`, in sequence order (none from a store of a
  // schema before feedback).
  virtual absl::StatusOr<std::vector<FeedbackRecord>> ListFeedback(
      const FeedbackQuery& query) = 0;
  // Every rule-set version recorded, by id and version.
  virtual absl::StatusOr<std::vector<StoredRuleSet>> ListRuleSets() = 0;
  // The daily counts of days `first_day` to `last_day` (inclusive).
  // FAILED_PRECONDITION for a store of a schema before them (a server
  // migrates it when it opens it).
  virtual absl::StatusOr<std::vector<DecisionDayCount>> ListDecisionCounts(
      int64_t first_day, int64_t last_day) = 0;
  virtual absl::StatusOr<std::vector<RuleDayCount>> ListRuleCounts(
      int64_t first_day, int64_t last_day) = 0;
  virtual absl::StatusOr<std::vector<FeedbackDayCount>> ListFeedbackCounts(
      int64_t first_day, int64_t last_day) = 0;
  // Reloads and activations, newest first, at most `limit` (none from a
  // store of a schema before them).
  virtual absl::StatusOr<std::vector<RuleSetEvent>> ListRuleSetEvents(
      int limit) = 0;
  // Per rule set: the first and last day it made a decision, and how many
  // it made (from the daily counts: FAILED_PRECONDITION before schema 6).
  virtual absl::StatusOr<std::vector<RuleSetUsage>> ListRuleSetUsage() = 0;
  // (sequence, decision id) in sequence order, after sequence `after`, at
  // most `limit`.
  virtual absl::StatusOr<std::vector<std::pair<int64_t, std::string>>>
  ListDecisionIds(int64_t after, int limit) = 0;

 protected:
  AuditReader() = default;
  AuditReader(const AuditReader&) = delete;
  AuditReader& operator=(const AuditReader&) = delete;
};

// Checks the trail in the store at `path` (a SQLite file or a PostgreSQL
// URI), read-only and as of one snapshot: every sequence
// number present from 1 on, each record's hash, each link to the previous
// record, and the head recorded with the last commit.
// `progress`, when set, is called as the check goes (every few thousand
// decision records, and once at the end of them) with the records checked
// and the count the trail's head gives; when it returns false the check
// stops with CANCELLED.
using VerifyProgress = std::function<bool(int64_t checked, int64_t total)>;
absl::StatusOr<VerifyReport> VerifyAuditTrail(
    const std::string& path, const VerifyProgress& progress = nullptr);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_AUDIT_AUDIT_STORE_H_
