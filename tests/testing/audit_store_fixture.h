#ifndef RECONNECT_TESTS_TESTING_AUDIT_STORE_FIXTURE_H_
#define RECONNECT_TESTS_TESTING_AUDIT_STORE_FIXTURE_H_

// A fresh audit store file per test, with the bundled rule set recorded,
// and the helpers the audit store's tests share.

#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/ruleset/rule_set.h"
#include "gtest/gtest.h"
#include "service/audit/audit_store.h"
#include "service/audit/internal/sqlite_store.h"
#include "tests/testing/bundled_rule_set.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::testing_util {

using service::AuditStore;
using service::DecisionRecord;
using service::VerifyAuditTrail;
using service::audit_internal::SqliteAuditStore;

// The bundled rule set: the store keeps rule sets as every real store does,
// so that verification can rebuild them.
inline const ruleset::CompiledRuleSet& Bundled() {
  return testing_util::BundledRuleSet();
}

// A fresh directory per test, removed afterwards.
class AuditStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/audit_store_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/audit.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The SQLite store itself, whose test hooks and checkpoint counts the
  // tests use, holding the bundled rule set.
  std::unique_ptr<SqliteAuditStore> Open(int64_t max_pages = 0) {
    AuditStore::Options options{path_, max_pages};
    options.pack = pack_;
    return OpenWith(std::move(options));
  }

  // A store that checkpoints in the background every `background` WAL
  // frames, and on the writer past `writer` frames.
  std::unique_ptr<SqliteAuditStore> OpenWithCheckpoints(int background,
                                                        int writer) {
    return OpenWith({.path = path_,
                     .checkpoint_frames = background,
                     .writer_checkpoint_frames = writer});
  }

  static std::unique_ptr<SqliteAuditStore> OpenWith(
      AuditStore::Options options) {
    auto store = SqliteAuditStore::Open(std::move(options));
    EXPECT_THAT(store, IsOk()) << store.status();
    if (!store.ok()) return nullptr;
    EXPECT_THAT((*store)->RecordRuleSet(Bundled().digest(), "reconnect",
                                        "1.0.0", Bundled().canonical_content()),
                IsOk());
    return *std::move(store);
  }

  // The trail in the (closed) store verifies and holds `records` records.
  void ExpectIntact(int64_t records) {
    auto report = VerifyAuditTrail(path_);
    ASSERT_THAT(report, IsOk()) << report.status();
    EXPECT_TRUE(report->ok()) << report->problem;
    EXPECT_EQ(report->records, records);
  }

  static DecisionRecord Record(int i) {
    DecisionRecord r;
    r.decision_id = absl::StrCat("decision-", i);
    r.time_micros = 1'700'000'000'000'000 + i;
    r.calling_system = "ehr-triage";
    r.caller = i % 2 == 0 ? "jwt:ehr-east" : "cert:ehr-west.example";
    r.rule_set_digest = Bundled().digest();
    r.assessment = absl::StrCat("assessment bytes ", i);
    r.recommendation = absl::StrCat("recommendation bytes ", i);
    // Some came through CDS Hooks, and say so.
    if (i % 3 == 0) {
      r.context = absl::StrCat(
          R"({"interface":"cds-hooks","hookInstance":"hook-)", i, R"("})");
    }
    return r;
  }

  // `n` bytes that packing does not shrink: to fill a disk with.
  static std::string Incompressible(size_t n) {
    std::mt19937 random(20261203);
    std::string bytes(n, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    return bytes;
  }

  // Appends and waits for the commit.
  static absl::Status AppendAndWait(AuditStore& store, DecisionRecord r) {
    std::promise<absl::Status> done;
    auto f = done.get_future();
    store.Append(std::move(r),
                 [&done](const absl::Status& s) { done.set_value(s); });
    return f.get();
  }

  // Queues one feedback request and waits for its result.
  static service::FeedbackResult AppendFeedbackAndWait(
      AuditStore& store, std::vector<service::FeedbackRecord> entries) {
    std::promise<service::FeedbackResult> done;
    auto f = done.get_future();
    store.AppendFeedback(
        std::move(entries),
        [&done](const service::FeedbackResult& r) { done.set_value(r); });
    return f.get();
  }

  // The store file's size in pages (to cap it there: a full disk).
  int64_t PageCount() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &st, nullptr);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    const int64_t pages = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return pages;
  }

  // Runs SQL on the file behind the store's back, as a tamperer would.
  void Tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error),
              SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  void FillWith(int n) {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    for (int i = 1; i <= n; ++i) {
      ASSERT_THAT(AppendAndWait(*store, Record(i)), IsOk());
    }
  }

  std::string dir_;
  std::string path_;
  // Off: Open writes rows as stores before packing did (with the packing
  // column dropped, they are such a store's rows).
  bool pack_ = true;
};

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_AUDIT_STORE_FIXTURE_H_
