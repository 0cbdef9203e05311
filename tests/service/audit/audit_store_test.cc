#include "service/audit/audit_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/ruleset/rule_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconnect/v1/assessment.pb.h"
#include "service/audit/chain.h"
#include "service/audit/internal/sqlite_store.h"
#include "tests/testing/audit_store_fixture.h"
#include "tests/testing/bundled_rule_set.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;
using ::testing::Not;

using audit_internal::SqliteAuditStore;
using ::testing::HasSubstr;
using testing_util::AuditStoreTest;
using testing_util::Bundled;

TEST_F(AuditStoreTest, ConcurrentAppendsFormOneChain) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8, kEach = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (AppendAndWait(*store, Record(t * kEach + i)).ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  // Concurrent calls share transactions.
  EXPECT_LE(store->transactions(), kThreads * kEach);
  store.reset();
  auto report = VerifyAuditTrail(path_);
  ASSERT_THAT(report, IsOk()) << report.status();
  EXPECT_TRUE(report->ok()) << report->problem;
  EXPECT_EQ(report->records, kThreads * kEach);
  EXPECT_EQ(report->head_sequence, kThreads * kEach);
  EXPECT_EQ(report->head_hash.size(), 64u);
}

// Records of the service's size: several WAL frames each.
DecisionRecord BigRecord(int i) {
  DecisionRecord r;
  r.decision_id = absl::StrCat("big-", i);
  r.time_micros = 1'700'000'000'000'000 + i;
  r.calling_system = "ehr-triage";
  r.rule_set_digest = Bundled().digest();
  r.assessment = std::string(300, 'a');
  r.recommendation = absl::StrCat(std::string(6500, 'r'), i);
  return r;
}

TEST_F(AuditStoreTest, CheckpointsRunOnTheirOwnThread) {
  auto store = OpenWithCheckpoints(20, 1 << 30);
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= 100; ++i) {
    ASSERT_THAT(AppendAndWait(*store, BigRecord(i)), IsOk());
  }
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->background_checkpoints() == 0 &&
         std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(store->background_checkpoints(), 0);
  EXPECT_EQ(store->writer_checkpoints(), 0);
  store.reset();
  ExpectIntact(100);
}

TEST_F(AuditStoreTest, TheWriterBoundsTheWalWhenTheCheckpointerFallsBehind) {
  constexpr int kBound = 200;  // frames
  auto store = OpenWithCheckpoints(20, kBound);
  ASSERT_NE(store, nullptr);
  store->PauseCheckpointerForTest(true);
  // Recording the rule set on open may have set one off before the pause.
  const int64_t before = store->background_checkpoints();
  // About 3,000 frames in all: fifteen times the bound.
  for (int i = 1; i <= 400; ++i) {
    ASSERT_THAT(AppendAndWait(*store, BigRecord(i)), IsOk());
  }
  EXPECT_EQ(store->background_checkpoints(), before);
  EXPECT_GT(store->writer_checkpoints(), 0);
  // A WAL frame is a 4 KiB page and a 24-byte header; the WAL starts over
  // after each of the writer's checkpoints, so it never holds much more
  // than the bound (plus the transaction that crossed it).
  const auto wal_bytes = std::filesystem::file_size(path_ + "-wal");
  EXPECT_LE(wal_bytes, (kBound + 20) * (4096 + 24) + 32);
  store->PauseCheckpointerForTest(false);
  store.reset();
  ExpectIntact(400);
}

TEST_F(AuditStoreTest, ReopenContinuesTheChain) {
  FillWith(3);
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(AppendAndWait(*store, Record(4)), IsOk());
  }
  auto report = VerifyAuditTrail(path_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->problem;
  EXPECT_EQ(report->records, 4);
}

// A check of a large trail says how far it has got, and can be stopped.
TEST_F(AuditStoreTest, VerificationReportsItsProgressAndCanBeStopped) {
  constexpr int kRecords = 9000;
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    // Queued without waiting, so that they share transactions.
    std::atomic<int> left{kRecords};
    std::promise<void> all;
    for (int i = 1; i <= kRecords; ++i) {
      store->Append(Record(i), [&](const absl::Status& s) {
        EXPECT_THAT(s, IsOk());
        if (--left == 0) all.set_value();
      });
    }
    all.get_future().wait();
  }
  std::vector<std::pair<int64_t, int64_t>> seen;
  auto report = VerifyAuditTrail(path_, [&](int64_t checked, int64_t total) {
    seen.emplace_back(checked, total);
    return true;
  });
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->problem;
  EXPECT_EQ(seen, (std::vector<std::pair<int64_t, int64_t>>{
                      {4096, kRecords}, {8192, kRecords}, {9000, kRecords}}));
  auto stopped = VerifyAuditTrail(
      path_, [](int64_t checked, int64_t) { return checked < 8192; });
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(std::string(stopped.status().message()),
              testing::HasSubstr("stopped after 8192 records"));
}

TEST_F(AuditStoreTest, ChainHashCoversEveryField) {
  DecisionRecord base = Record(1);
  base.sequence = 1;
  base.prev_hash = std::string(32, '\0');
  const std::string h = ChainHash(base);
  EXPECT_EQ(h.size(), 32u);
  auto differs = [&](auto change) {
    DecisionRecord r = base;
    change(r);
    return ChainHash(r) != h;
  };
  EXPECT_TRUE(differs([](DecisionRecord& r) { r.sequence = 2; }));
  EXPECT_TRUE(differs([](DecisionRecord& r) { r.decision_id += "x"; }));
  EXPECT_TRUE(differs([](DecisionRecord& r) { r.time_micros += 1; }));
  EXPECT_TRUE(differs([](DecisionRecord& r) { r.calling_system = "x"; }));
  EXPECT_TRUE(differs([](DecisionRecord& r) { r.caller = "x"; }));
  EXPECT_TRUE(differs([](DecisionRecord& r) { r.rule_set_digest = "x"; }));
  EXPECT_TRUE(differs([](DecisionRecord& r) { r.assessment += "x"; }));
  EXPECT_TRUE(differs([](DecisionRecord& r) { r.recommendation += "x"; }));
  EXPECT_TRUE(differs([](DecisionRecord& r) { r.prev_hash[0] = 1; }));
  // Length prefixes keep field boundaries: moving a byte across them counts.
  EXPECT_TRUE(differs([](DecisionRecord& r) {
    r.calling_system = "ehr-triag";
    r.caller = "e";
  }));
}

struct TamperCase {
  std::string name;
  std::string sql;
  int64_t broken_at;
  std::string problem;
};

class AuditTamperTest : public AuditStoreTest,
                        public ::testing::WithParamInterface<TamperCase> {};

TEST_P(AuditTamperTest, IsDetected) {
  FillWith(6);
  auto clean = VerifyAuditTrail(path_);
  ASSERT_THAT(clean, IsOk());
  ASSERT_TRUE(clean->ok()) << clean->problem;
  Tamper(GetParam().sql);
  auto report = VerifyAuditTrail(path_);
  ASSERT_THAT(report, IsOk()) << report.status();
  EXPECT_FALSE(report->ok());
  EXPECT_EQ(report->broken_sequence, GetParam().broken_at);
  EXPECT_THAT(report->problem, HasSubstr(GetParam().problem));
  // The service refuses to extend a trail whose end was cut.
  if (GetParam().name == "DeleteLast") {
    auto store = AuditStore::Open({path_, 0});
    ASSERT_THAT(store, Not(IsOk()));
    EXPECT_THAT(store.status().message(), HasSubstr("the trail was altered"));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Edits, AuditTamperTest,
    ::testing::Values(
        TamperCase{"EditField",
                   "UPDATE decisions SET calling_system = 'other' "
                   "WHERE sequence = 3",
                   3, "record 3 was altered"},
        TamperCase{"EditPayload",
                   "UPDATE decisions SET recommendation = x'00' "
                   "WHERE sequence = 5",
                   5, "record 5 was altered"},
        TamperCase{"EditAndRehash",
                   // Another record's hash, copied in, does not fit.
                   "UPDATE decisions SET hash = (SELECT hash FROM decisions "
                   "WHERE sequence = 1) WHERE sequence = 2",
                   2, "record 2 was altered"},
        TamperCase{"EditStoredRuleSet",
                   // One value of the rule set that decided every record.
                   "UPDATE rule_sets SET content = "
                   "replace(content, '\"value\":30', '\"value\":31')",
                   1, "record 1 was decided by the stored rule set reconnect"},
        TamperCase{"ZeroHead", "UPDATE head SET hash = zeroblob(32)", 6,
                   "the recorded chain head was altered"},
        TamperCase{"DeleteMiddle", "DELETE FROM decisions WHERE sequence = 4",
                   4, "record 4 is missing"},
        TamperCase{"DeleteFirst", "DELETE FROM decisions WHERE sequence = 1", 1,
                   "record 1 is missing"},
        TamperCase{"DeleteLast", "DELETE FROM decisions WHERE sequence = 6", 6,
                   "records were removed"},
        TamperCase{"EditContext",
                   "UPDATE decisions SET context = "
                   "replace(context, 'hook-3', 'hook-9') WHERE sequence = 3",
                   3, "altered"},
        TamperCase{"DropContext",
                   "UPDATE decisions SET context = '' WHERE sequence = 6", 6,
                   "altered"},
        TamperCase{"Reorder",
                   // Swap the contents of records 2 and 3, keeping their
                   // sequence numbers.
                   "CREATE TEMP TABLE t AS SELECT * FROM decisions "
                   "WHERE sequence IN (2, 3);"
                   "DELETE FROM decisions WHERE sequence IN (2, 3);"
                   "INSERT INTO decisions SELECT 5 - sequence, decision_id,"
                   " time_micros, calling_system, caller, rule_set_digest,"
                   " assessment, recommendation, prev_hash, hash, context,"
                   " patient_hmac, packing FROM t;",
                   2, "record 2"},
        TamperCase{"Renumber",
                   "UPDATE decisions SET sequence = 10 WHERE sequence = 6", 6,
                   "record 6 is missing"},
        TamperCase{"DropRuleSet", "DELETE FROM rule_sets", 1,
                   "which the store does not hold"},
        TamperCase{"CutPackedPayload",
                   "UPDATE decisions SET assessment = substr(assessment, 1,"
                   " length(assessment) - 1) WHERE sequence = 4",
                   4,
                   "record 4 was altered: the stored assessment of decision "
                   "decision-4 does not unpack"},
        TamperCase{"UnknownPacking",
                   "UPDATE decisions SET packing = 7 WHERE sequence = 2", 2,
                   "has packing 7"},
        TamperCase{"Unpacked",
                   // Held as is, the bytes of the row no longer hash the same.
                   "UPDATE decisions SET packing = 0 WHERE sequence = 2", 2,
                   "record 2 was altered"}),
    [](const ::testing::TestParamInfo<TamperCase>& info) {
      return info.param.name;
    });

// Rows hold each record packed with its rule set as dictionary; the
// readers hand back the bytes as they were returned.
TEST_F(AuditStoreTest, RowsArePackedAndReadAsReturned) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    DecisionRecord big = Record(1);
    // What a recommendation repeats is in its rule set: a run of it.
    big.recommendation = Bundled().canonical_content().substr(0, 4000);
    ASSERT_THAT(AppendAndWait(*store, big), IsOk());
    DecisionRecord other = Record(2);
    other.rule_set_digest = "sha256:not-recorded";
    ASSERT_THAT(AppendAndWait(*store, other), IsOk());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT packing, length(recommendation) FROM"
                               " decisions ORDER BY sequence",
                               -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);  // with its rule set
  EXPECT_LT(sqlite3_column_int(st, 1), 100);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 2);  // alone: not recorded
  sqlite3_finalize(st);
  sqlite3_close(db);

  auto reader = AuditReader::Open(path_);
  ASSERT_THAT(reader, IsOk());
  auto first = (*reader)->GetDecision("decision-1");
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->recommendation,
            Bundled().canonical_content().substr(0, 4000));
  EXPECT_EQ(first->assessment, Record(1).assessment);
  EXPECT_EQ(first->packing, 0);
  auto listed = (*reader)->ListDecisions({});
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].recommendation, Record(2).recommendation);
  DecisionQuery metadata;
  metadata.metadata_only = true;
  listed = (*reader)->ListDecisions(metadata);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].recommendation, "");
  EXPECT_EQ((*listed)[0].decision_id, "decision-1");
}

// A reader meets an altered row as an error that names it, not as other
// bytes.
TEST_F(AuditStoreTest, AnAlteredPackedRowIsAnErrorForReaders) {
  FillWith(3);
  Tamper(
      "UPDATE decisions SET recommendation = substr(recommendation, 1,"
      " length(recommendation) - 1) WHERE sequence = 2");
  auto reader = AuditReader::Open(path_);
  ASSERT_THAT(reader, IsOk());
  EXPECT_THAT((*reader)->GetDecision("decision-1"), IsOk());
  auto second = (*reader)->GetDecision("decision-2");
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(second.status().message(),
              HasSubstr("record 2 was altered: the stored recommendation of "
                        "decision decision-2 does not unpack"));
  EXPECT_THAT((*reader)->ListDecisions({}),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(AuditStoreTest, FullDiskFailsAppendsThenRecovers) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::atomic<int> changes{0};
  store->OnHealthChange([&](bool) { ++changes; });
  ASSERT_THAT(AppendAndWait(*store, Record(1)), IsOk());
  // Cap the file at its current size: the next write finds the disk full.
  store->SetMaxPageCount(PageCount());
  DecisionRecord big = Record(2);
  big.assessment = Incompressible(256 * 1024);
  const absl::Status failed = AppendAndWait(*store, big);
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kUnavailable)) << failed;
  EXPECT_THAT(failed.message(), HasSubstr("full"));
  EXPECT_FALSE(store->healthy());
  // Room again: the store notices by itself, without a new append.
  store->SetMaxPageCount(0);
  for (int i = 0; i < 100 && !store->healthy(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(store->healthy());
  EXPECT_EQ(changes.load(), 2);
  ASSERT_THAT(AppendAndWait(*store, Record(3)), IsOk());
  store.reset();
  auto report = VerifyAuditTrail(path_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->problem;
  EXPECT_EQ(report->records, 2);  // the failed record left nothing behind
}

TEST_F(AuditStoreTest, ReaderListsByFilter) {
  FillWith(6);  // times 1'700'000'000'000'001 .. 006
  auto reader = AuditReader::Open(path_);
  ASSERT_THAT(reader, IsOk()) << reader.status();
  auto list = [&](DecisionQuery q) {
    std::vector<int64_t> seqs;
    auto r = (*reader)->ListDecisions(q);
    EXPECT_THAT(r, IsOk()) << r.status();
    if (r.ok()) {
      for (const auto& d : *r) seqs.push_back(d.sequence);
    }
    return seqs;
  };
  DecisionQuery q;
  EXPECT_THAT(list(q), ::testing::ElementsAre(1, 2, 3, 4, 5, 6));
  q.start_micros = 1'700'000'000'000'003;
  q.end_micros = 1'700'000'000'000'005;
  EXPECT_THAT(list(q), ::testing::ElementsAre(3, 4));
  q = {};
  q.start_micros = 1'800'000'000'000'000;
  EXPECT_THAT(list(q), ::testing::IsEmpty());
  q = {};
  q.after_sequence = 4;
  q.limit = 1;
  EXPECT_THAT(list(q), ::testing::ElementsAre(5));
  q = {};
  q.calling_system = "other";
  EXPECT_THAT(list(q), ::testing::IsEmpty());
  q = {};
  q.caller = "jwt:ehr-east";
  EXPECT_THAT(list(q), ::testing::ElementsAre(2, 4, 6));
  q.metadata_only = true;
  q.start_micros = 1'700'000'000'000'003;
  EXPECT_THAT(list(q), ::testing::ElementsAre(4, 6));
  auto stored = (*reader)->ListRuleSets();
  ASSERT_THAT(stored, IsOk());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].version, "1.0.0");
}

// A store of schema version 4 (before the patient column) gets the column,
// filled from the assessments it holds, so that a patient's earlier
// decisions are found by their HMAC too.
TEST_F(AuditStoreTest, MigratesAVersion4StoreFillingThePatientColumn) {
  {
    AuditStore::Options options{path_, 0};
    options.pack = false;  // as version 4 held them
    auto store = AuditStore::Open(std::move(options));
    ASSERT_THAT(store, IsOk()) << store.status();
    ASSERT_THAT((*store)->RecordRuleSet(Bundled().digest(), "reconnect", "test",
                                        Bundled().canonical_content()),
                IsOk());
    for (int i = 1; i <= 3; ++i) {
      DecisionRecord r = Record(i);
      v1::Assessment a;
      if (i != 2) a.set_patient_ref(absl::StrCat("hmac-sha256:p", i % 2));
      r.assessment = a.SerializeAsString();
      ASSERT_THAT(AppendAndWait(**store, r), IsOk());
    }
  }
  Tamper(
      "DROP INDEX decisions_by_patient;"
      "ALTER TABLE decisions DROP COLUMN patient_hmac;"
      "DROP TABLE decision_daily; DROP TABLE rule_daily;"
      "DROP TABLE feedback_daily; DROP INDEX feedback_by_time;"
      "DROP TABLE rule_set_events; DROP TABLE rule_set_signatures;"
      "ALTER TABLE decisions DROP COLUMN packing;"
      "PRAGMA user_version = 4;");
  { ASSERT_THAT(AuditStore::Open({path_, 0}), IsOk()); }
  auto reader = AuditReader::Open(path_);
  ASSERT_THAT(reader, IsOk());
  DecisionQuery q;
  q.patient_hmac = "hmac-sha256:p1";
  q.newest_first = true;
  auto listed = (*reader)->ListDecisions(q);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].decision_id, "decision-3");
  EXPECT_EQ((*listed)[1].decision_id, "decision-1");
  EXPECT_EQ((*listed)[0].patient_hmac, "hmac-sha256:p1");
  q.before_sequence = 3;
  listed = (*reader)->ListDecisions(q);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].decision_id, "decision-1");
  auto report = VerifyAuditTrail(path_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->problem;
}

// A store of schema version 1 (before the caller index and the context) is
// migrated when a server opens it, and read as it is by the readers until
// then.
TEST_F(AuditStoreTest, MigratesAVersion1Store) {
  pack_ = false;
  FillWith(2);  // records without a context, as version 1 held them
  Tamper(
      "DROP INDEX decisions_by_caller; DROP INDEX decisions_by_patient;"
      "ALTER TABLE decisions DROP COLUMN context;"
      "ALTER TABLE decisions DROP COLUMN patient_hmac;"
      "DROP TABLE cards; DROP TABLE feedback; DROP TABLE feedback_head;"
      "DROP TABLE decision_daily; DROP TABLE rule_daily;"
      "DROP TABLE feedback_daily; DROP TABLE rule_set_events;"
      "DROP TABLE rule_set_signatures;"
      "ALTER TABLE decisions DROP COLUMN packing;"
      "PRAGMA user_version = 1;");
  auto index_exists = [&] {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db,
                       "SELECT count(*) FROM sqlite_master WHERE type = "
                       "'index' AND name = 'decisions_by_caller'",
                       -1, &st, nullptr);
    sqlite3_step(st);
    const bool exists = sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return exists;
  };
  ASSERT_FALSE(index_exists());
  {
    auto reader = AuditReader::Open(path_);
    ASSERT_THAT(reader, IsOk()) << reader.status();
    DecisionQuery q;
    q.caller = "jwt:ehr-east";
    auto listed = (*reader)->ListDecisions(q);
    ASSERT_THAT(listed, IsOk());
    EXPECT_EQ(listed->size(), 1u);
    auto report = VerifyAuditTrail(path_);
    ASSERT_THAT(report, IsOk()) << report.status();
    EXPECT_TRUE(report->ok()) << report->problem;
  }
  {
    auto store = AuditStore::Open({path_, 0});
    ASSERT_THAT(store, IsOk()) << store.status();
    // After the migration, records carry their context.
    EXPECT_THAT(AppendAndWait(**store, Record(3)), IsOk());
  }
  EXPECT_TRUE(index_exists());
  auto report = VerifyAuditTrail(path_);
  ASSERT_THAT(report, IsOk()) << report.status();
  EXPECT_TRUE(report->ok()) << report->problem;
  EXPECT_EQ(report->records, 3);
  auto reader = AuditReader::Open(path_);
  ASSERT_THAT(reader, IsOk());
  auto third = (*reader)->GetDecision("decision-3");
  ASSERT_THAT(third, IsOk());
  EXPECT_EQ(third->context,
            R"({"interface":"cds-hooks","hookInstance":"hook-3"})");
}

TEST_F(AuditStoreTest, RefusesNewerSchemaAndNonStores) {
  Tamper("PRAGMA user_version = 99");
  auto store = AuditStore::Open({path_, 0});
  ASSERT_THAT(store, Not(IsOk()));
  EXPECT_THAT(store.status().message(), HasSubstr("schema version 99"));
  auto report = VerifyAuditTrail(path_);
  EXPECT_THAT(report, Not(IsOk()));
  EXPECT_THAT(VerifyAuditTrail(dir_ + "/absent.db"), Not(IsOk()));
}

TEST_F(AuditStoreTest, UnwritablePathIsAClearError) {
  auto store = AuditStore::Open({dir_ + "/no/such/dir/audit.db", 0});
  ASSERT_THAT(store, Not(IsOk()));
  EXPECT_THAT(store.status().message(), HasSubstr("no/such/dir/audit.db"));
}

}  // namespace
}  // namespace reconnect::service
