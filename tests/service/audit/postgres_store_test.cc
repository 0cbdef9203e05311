// The PostgreSQL audit store, against a real PostgreSQL 15 started by the
// test: the same records and hashes as a SQLite store, one chain for every
// replica, tampering of every kind found by `audit verify`, outages ridden
// out, and governance on a read-only role.

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/audit/audit_store.h"
#include "service/audit/copy.h"
#include "service/audit/rule_outcomes.h"
#include "tests/testing/audit_store_fixture.h"
#include "tests/testing/postgres.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_util::AuditStoreTest;
using testing_util::Bundled;
using testing_util::TestPostgres;

// A query with some fields set.
template <typename T, typename Set>
T With(Set set) {
  T t;
  set(t);
  return t;
}

constexpr char kService[] = "reconnect-patient-view";

class PostgresStoreTest : public AuditStoreTest {
 protected:
  static void SetUpTestSuite() {
    auto pg = TestPostgres::Start("postgres_store_test");
    ASSERT_THAT(pg, IsOk()) << pg.status();
    server_ = pg->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // A fresh database per test.
  void SetUp() override {
    AuditStoreTest::SetUp();
    ASSERT_NE(server_, nullptr);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    database_ = absl::StrCat("t", ++databases_, "_", info->name());
    for (char& c : database_) c = static_cast<char>(std::tolower(c));
    ASSERT_THAT(server_->CreateDatabase(database_), IsOk());
    uri_ = server_->Uri(database_);
  }

  std::unique_ptr<AuditStore> OpenPg() {
    auto store = AuditStore::Open({.path = uri_});
    EXPECT_THAT(store, IsOk()) << store.status();
    if (!store.ok()) return nullptr;
    EXPECT_THAT((*store)->RecordRuleSet(Bundled().digest(), "reconnect",
                                        "1.0.0", Bundled().canonical_content()),
                IsOk());
    return *std::move(store);
  }

  // Decision `i` as replica `replica` made it, with a card and outcomes.
  static DecisionRecord Decision(int i, const std::string& replica = "a") {
    DecisionRecord r = Record(i);
    r.decision_id = absl::StrCat("decision-", replica, "-", i);
    r.calling_system = absl::StrCat("ehr-", replica);
    r.patient_hmac = i % 4 == 0 ? "hmac-sha256:patient-1" : "";
    r.outcomes.fired = {"rule-a", "rule-b"};
    r.outcomes.held = {{"rule-c", "rule-a"}};
    r.cards = {{absl::StrCat("card-", replica, "-", i),
                kService,
                "plan",
                {"rule-a", "rule-b"},
                {absl::StrCat("suggestion-", replica, "-", i)}}};
    return r;
  }

  // Feedback from an EHR on card `card`.
  static FeedbackRecord OnCard(const std::string& card,
                               const std::string& outcome) {
    FeedbackRecord f;
    f.time_micros = 1'800'000'000'000'000;
    f.caller = "cds:https://ehr.example.org";
    f.service = kService;
    f.card_uuid = card;
    f.outcome = outcome;
    f.outcome_time = "2026-12-01T10:00:00Z";
    return f;
  }

  void Fill(AuditStore& store, int n, const std::string& replica = "a") {
    for (int i = 1; i <= n; ++i) {
      ASSERT_THAT(AppendAndWait(store, Decision(i, replica)), IsOk());
    }
  }

  // What `audit verify` says of the database.
  std::string Problem() {
    auto report = VerifyAuditTrail(uri_);
    EXPECT_THAT(report, IsOk()) << report.status();
    return report.ok() ? report->problem : report.status().ToString();
  }

  absl::Status Tamper(const std::string& sql) {
    return server_->Sql(database_, sql);
  }

  static TestPostgres* server_;
  static int databases_;
  std::string database_;
  std::string uri_;
};

TestPostgres* PostgresStoreTest::server_ = nullptr;
int PostgresStoreTest::databases_ = 0;

TEST_F(PostgresStoreTest, HoldsTheSameRecordsAndHashesAsASqliteStore) {
  auto pg = OpenPg();
  auto sqlite = Open();
  ASSERT_NE(pg, nullptr);
  ASSERT_NE(sqlite, nullptr);
  for (int i = 1; i <= 12; ++i) {
    ASSERT_THAT(AppendAndWait(*pg, Decision(i)), IsOk());
    ASSERT_THAT(AppendAndWait(*sqlite, Decision(i)), IsOk());
  }
  FeedbackRecord f = OnCard("card-a-3", "overridden");
  f.override_reason =
      R"({"reason":{"code":"not-now","display":"Not now"},"userComment":"x"})";
  FeedbackRecord accepted = f;
  accepted.card_uuid = "card-a-4";
  accepted.outcome = "accepted";
  accepted.override_reason = "";
  accepted.accepted_suggestions = {"suggestion-a-4"};
  // The same reason again, later in the request, displayed otherwise: the
  // daily counts keep the display sent last.
  FeedbackRecord again_later = OnCard("card-a-5", "overridden");
  again_later.override_reason =
      R"({"reason":{"code":"not-now","display":"Later"}})";
  for (AuditStore* store : {pg.get(), static_cast<AuditStore*>(sqlite.get())}) {
    FeedbackResult stored =
        AppendFeedbackAndWait(*store, {f, accepted, again_later});
    ASSERT_THAT(stored.status, IsOk());
    // The same interaction again is not stored again.
    FeedbackResult again = AppendFeedbackAndWait(*store, {f});
    ASSERT_THAT(again.status, IsOk());
    EXPECT_THAT(again.stored, ::testing::ElementsAre(false));
    // A suggestion of another card refuses the request, naming it.
    FeedbackRecord wrong = accepted;
    wrong.outcome_time = "2026-12-01T11:00:00Z";
    wrong.accepted_suggestions = {"suggestion-a-5"};
    FeedbackResult refused = AppendFeedbackAndWait(*store, {wrong});
    EXPECT_THAT(refused.status, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(refused.field, "acceptedSuggestions[0].id");
    RuleSetEvent event;
    event.action = "reload";
    event.who = "start-up";
    event.active_digest = Bundled().digest();
    event.loaded_digests = {Bundled().digest()};
    event.refusals = {{"rules/bad", {"rules.json: not JSON"}}};
    ASSERT_THAT(store->RecordRuleSetEvent(event), IsOk());
    ASSERT_THAT(store->RecordRuleSetSignatures(
                    Bundled().digest(),
                    {{Bundled().digest(), "clinical_lead", "Dr A",
                      "2026-11-01T00:00:00Z", "kid-1", "EdDSA", "a.b.c"}}),
                IsOk());
  }
  pg.reset();
  sqlite.reset();

  auto pg_report = VerifyAuditTrail(uri_);
  auto sqlite_report = VerifyAuditTrail(path_);
  ASSERT_THAT(pg_report, IsOk()) << pg_report.status();
  ASSERT_THAT(sqlite_report, IsOk());
  EXPECT_TRUE(pg_report->ok()) << pg_report->problem;
  EXPECT_EQ(pg_report->records, 12);
  EXPECT_EQ(pg_report->feedback_records, 3);
  // Byte for byte the same chain: the same heads.
  EXPECT_EQ(pg_report->head_hash, sqlite_report->head_hash);
  EXPECT_EQ(pg_report->feedback_head_hash, sqlite_report->feedback_head_hash);
  // Each row packed with the rule set recorded (packing.h), and read back as
  // it was appended.
  EXPECT_EQ(*server_->Value(database_,
                            "SELECT count(*) FROM decisions WHERE packing = 1"),
            "12");

  auto pg_reader = AuditReader::Open(uri_);
  auto sqlite_reader = AuditReader::Open(path_);
  ASSERT_THAT(pg_reader, IsOk()) << pg_reader.status();
  ASSERT_THAT(sqlite_reader, IsOk());
  AuditReader& a = **pg_reader;
  AuditReader& b = **sqlite_reader;
  auto same_decisions = [&](const DecisionQuery& q) {
    auto x = a.ListDecisions(q);
    auto y = b.ListDecisions(q);
    ASSERT_THAT(x, IsOk()) << x.status();
    ASSERT_THAT(y, IsOk());
    ASSERT_EQ(x->size(), y->size());
    for (size_t i = 0; i < x->size(); ++i) {
      EXPECT_EQ((*x)[i].sequence, (*y)[i].sequence);
      EXPECT_EQ((*x)[i].decision_id, (*y)[i].decision_id);
      EXPECT_EQ((*x)[i].assessment, (*y)[i].assessment);
      EXPECT_EQ((*x)[i].recommendation, (*y)[i].recommendation);
      EXPECT_EQ((*x)[i].context, (*y)[i].context);
      EXPECT_EQ((*x)[i].patient_hmac, (*y)[i].patient_hmac);
      EXPECT_EQ((*x)[i].hash, (*y)[i].hash);
    }
  };
  const auto patient = With<DecisionQuery>(
      [](DecisionQuery& q) { q.patient_hmac = "hmac-sha256:patient-1"; });
  same_decisions({});
  auto first = a.GetDecision(Decision(1).decision_id);
  ASSERT_THAT(first, IsOk()) << first.status();
  EXPECT_EQ(first->recommendation, Decision(1).recommendation);
  EXPECT_EQ(first->assessment, Decision(1).assessment);
  same_decisions(With<DecisionQuery>([](DecisionQuery& q) {
    q.after_sequence = 3;
    q.before_sequence = 9;
    q.newest_first = true;
    q.limit = 4;
  }));
  same_decisions(
      With<DecisionQuery>([](DecisionQuery& q) { q.caller = "jwt:ehr-east"; }));
  same_decisions(patient);
  same_decisions(With<DecisionQuery>([](DecisionQuery& q) {
    q.start_micros = Record(5).time_micros;
    q.end_micros = Record(9).time_micros;
    q.metadata_only = true;
  }));
  {
    auto x = a.ListDecisions(patient);
    ASSERT_THAT(x, IsOk());
    EXPECT_EQ(x->size(), 3u);
  }

  auto x = a.GetDecision("decision-a-7");
  ASSERT_THAT(x, IsOk());
  EXPECT_EQ(x->hash, b.GetDecision("decision-a-7")->hash);
  EXPECT_THAT(a.GetDecision("no-such"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(*a.GetRuleSetContent(Bundled().digest()),
            Bundled().canonical_content());
  EXPECT_THAT(a.GetRuleSetContent("nope"),
              StatusIs(absl::StatusCode::kNotFound));

  const auto with_comment =
      With<FeedbackQuery>([](FeedbackQuery& q) { q.with_comment = true; });
  for (const FeedbackQuery& q :
       {FeedbackQuery{},
        With<FeedbackQuery>([](FeedbackQuery& q) { q.rule_id = "rule-b"; }),
        with_comment, With<FeedbackQuery>([](FeedbackQuery& q) {
          q.decision_id = "decision-a-4";
        }),
        With<FeedbackQuery>([](FeedbackQuery& q) {
          q.rule_set_version = "1.0.0";
          q.newest_first = true;
        })}) {
    auto fx = a.ListFeedback(q);
    auto fy = b.ListFeedback(q);
    ASSERT_THAT(fx, IsOk()) << fx.status();
    ASSERT_EQ(fx->size(), fy->size());
    for (size_t i = 0; i < fx->size(); ++i) {
      EXPECT_EQ((*fx)[i].hash, (*fy)[i].hash);
      EXPECT_EQ((*fx)[i].rule_ids, (*fy)[i].rule_ids);
      EXPECT_EQ((*fx)[i].accepted_suggestions, (*fy)[i].accepted_suggestions);
    }
  }
  EXPECT_EQ(a.ListFeedback(with_comment)->size(), 1u);

  const int64_t day = DayOf(Record(1).time_micros);
  auto dc = a.ListDecisionCounts(day - 1, day + 1);
  ASSERT_THAT(dc, IsOk()) << dc.status();
  ASSERT_EQ(dc->size(), b.ListDecisionCounts(day - 1, day + 1)->size());
  ASSERT_EQ(dc->size(), 1u);
  EXPECT_EQ((*dc)[0].count, 12);
  auto rc = a.ListRuleCounts(day - 1, day + 1);
  auto rc_sqlite = b.ListRuleCounts(day - 1, day + 1);
  ASSERT_THAT(rc, IsOk());
  ASSERT_EQ(rc->size(), rc_sqlite->size());
  for (size_t i = 0; i < rc->size(); ++i) {
    EXPECT_EQ((*rc)[i].rule_id, (*rc_sqlite)[i].rule_id);
    EXPECT_EQ((*rc)[i].holder, (*rc_sqlite)[i].holder);
    EXPECT_EQ((*rc)[i].count, (*rc_sqlite)[i].count);
  }
  const int64_t feedback_day = DayOf(f.time_micros);
  auto fc = a.ListFeedbackCounts(feedback_day, feedback_day);
  auto fc_sqlite = b.ListFeedbackCounts(feedback_day, feedback_day);
  ASSERT_THAT(fc, IsOk()) << fc.status();
  ASSERT_EQ(fc->size(), fc_sqlite->size());
  for (size_t i = 0; i < fc->size(); ++i) {
    EXPECT_EQ((*fc)[i].rule_id, (*fc_sqlite)[i].rule_id);
    EXPECT_EQ((*fc)[i].outcome, (*fc_sqlite)[i].outcome);
    EXPECT_EQ((*fc)[i].reason, (*fc_sqlite)[i].reason);
    EXPECT_EQ((*fc)[i].display, (*fc_sqlite)[i].display);
    EXPECT_EQ((*fc)[i].count, (*fc_sqlite)[i].count);
  }
  for (const FeedbackDayCount& c : *fc) {
    if (c.reason == "not-now" && c.rule_id == "*") {
      EXPECT_EQ(c.display, "Later");
      EXPECT_EQ(c.count, 2);
    }
  }
  auto usage = a.ListRuleSetUsage();
  ASSERT_THAT(usage, IsOk());
  ASSERT_EQ(usage->size(), 1u);
  EXPECT_EQ((*usage)[0].decisions, 12);
  auto events = a.ListRuleSetEvents(10);
  ASSERT_THAT(events, IsOk());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].refusals.size(), 1u);
  EXPECT_EQ((*events)[0].refusals[0].problems,
            std::vector<std::string>{"rules.json: not JSON"});
  auto signatures = a.GetRuleSetSignatures(Bundled().digest());
  ASSERT_THAT(signatures, IsOk());
  ASSERT_EQ(signatures->size(), 1u);
  EXPECT_EQ((*signatures)[0].signer, "Dr A");
  auto ids = a.ListDecisionIds(10, 5);
  ASSERT_THAT(ids, IsOk());
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ((*ids)[0],
            std::make_pair(int64_t{11}, std::string("decision-a-11")));
  auto sets = a.ListRuleSets();
  ASSERT_THAT(sets, IsOk());
  ASSERT_EQ(sets->size(), 1u);
  EXPECT_EQ((*sets)[0].digest, Bundled().digest());
}

TEST_F(PostgresStoreTest, ReplicasWritingTogetherFormOneChain) {
  auto a = OpenPg();
  auto b = OpenPg();
  auto c = OpenPg();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(c, nullptr);
  constexpr int kThreadsPerReplica = 4, kEach = 40;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  const std::vector<std::pair<std::string, AuditStore*>> replicas = {
      {"a", a.get()}, {"b", b.get()}, {"c", c.get()}};
  for (const auto& [name, store] : replicas) {
    for (int t = 0; t < kThreadsPerReplica; ++t) {
      threads.emplace_back([&, name = name, store = store, t] {
        for (int i = 0; i < kEach; ++i) {
          if (AppendAndWait(*store, Decision(t * kEach + i + 1, name)).ok()) {
            ++ok;
          }
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  constexpr int kTotal = 3 * kThreadsPerReplica * kEach;
  EXPECT_EQ(ok.load(), kTotal);
  // Group commits: fewer transactions than records, across the replicas.
  EXPECT_LT(a->transactions() + b->transactions() + c->transactions(), kTotal);
  auto report = VerifyAuditTrail(uri_);
  ASSERT_THAT(report, IsOk()) << report.status();
  EXPECT_TRUE(report->ok()) << report->problem;
  EXPECT_EQ(report->records, kTotal);
}

TEST_F(PostgresStoreTest, VerifyFindsEveryKindOfTampering) {
  {
    auto a = OpenPg();
    auto b = OpenPg();
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    for (int i = 1; i <= 6; ++i) {
      ASSERT_THAT(AppendAndWait(*a, Decision(i, "a")), IsOk());
      ASSERT_THAT(AppendAndWait(*b, Decision(i, "b")), IsOk());
    }
  }
  ASSERT_EQ(Problem(), "");
  // A copy of the intact trail, to start each case from.
  ASSERT_THAT(Tamper("CREATE TABLE intact AS SELECT * FROM decisions;"
                     "CREATE TABLE intact_head AS SELECT * FROM head"),
              IsOk());
  struct Case {
    std::string sql;
    std::string problem;
    bool end_moved;  // the trail no longer ends at its recorded head
  };
  const std::vector<Case> cases = {
      {"UPDATE decisions SET assessment = 'x' WHERE sequence = 5",
       "record 5 was altered", false},
      {"DELETE FROM decisions WHERE sequence = 7",
       "record 7 is missing (the next one present is 8)", false},
      {"UPDATE decisions SET sequence = -sequence WHERE sequence IN (3, 4);"
       "UPDATE decisions SET sequence = 4 WHERE sequence = -3;"
       "UPDATE decisions SET sequence = 3 WHERE sequence = -4",
       "record 3 does not link to the record before it", false},
      {"DELETE FROM decisions WHERE sequence > 10",
       "the trail ends at record 10 but its last commit recorded record 12",
       true},
      // A replica's records going missing: every one of b's (the replicas
      // took turns, so b's are 2, 4, ...).
      {"DELETE FROM decisions WHERE calling_system = 'ehr-b'",
       "record 2 is missing (the next one present is 3)", true},
      // Truncated, head and all, back to a record of its past.
      {"DELETE FROM decisions WHERE sequence > 8;"
       "UPDATE head SET sequence = 7",
       "records 8 on were added outside the service", true},
      {"UPDATE head SET hash = decode(repeat('11', 32), 'hex')",
       "the recorded chain head was altered", true},
  };
  for (const Case& c : cases) {
    const std::string& sql = c.sql;
    ASSERT_THAT(Tamper(sql), IsOk());
    EXPECT_THAT(Problem(), HasSubstr(c.problem)) << sql;
    // Nor does a replica write onto a trail whose end is not its head.
    if (c.end_moved) {
      EXPECT_THAT(AuditStore::Open({.path = uri_}),
                  StatusIs(absl::StatusCode::kDataLoss))
          << sql;
    }
    ASSERT_THAT(Tamper("DELETE FROM decisions;"
                       "INSERT INTO decisions SELECT * FROM intact;"
                       "DELETE FROM head;"
                       "INSERT INTO head SELECT * FROM intact_head"),
                IsOk());
    ASSERT_EQ(Problem(), "") << "after " << sql;
  }
}

TEST_F(PostgresStoreTest, RidesOutARestartAndTerminatedConnections) {
  auto store = OpenPg();
  ASSERT_NE(store, nullptr);
  Fill(*store, 3);
  // The writers' backends terminated: the next commit runs again on a new
  // connection, and nobody hears of it.
  ASSERT_THAT(server_->Sql("postgres",
                           absl::StrCat("SELECT pg_terminate_backend(pid) FROM"
                                        " pg_stat_activity WHERE datname = '",
                                        database_, "'")),
              IsOk());
  ASSERT_THAT(AppendAndWait(*store, Decision(4)), IsOk());
  EXPECT_TRUE(store->healthy());

  std::atomic<int> changes{0};
  store->OnHealthChange([&](bool) { ++changes; });
  ASSERT_THAT(server_->Stop(), IsOk());
  EXPECT_THAT(AppendAndWait(*store, Decision(5)),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_FALSE(store->healthy());
  ASSERT_THAT(server_->Restart(), IsOk());
  // Back by itself: the writer probes while unhealthy.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!store->healthy() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(store->healthy());
  EXPECT_EQ(changes.load(), 2);
  ASSERT_THAT(AppendAndWait(*store, Decision(6)), IsOk());
  store.reset();
  auto report = VerifyAuditTrail(uri_);
  ASSERT_THAT(report, IsOk()) << report.status();
  EXPECT_TRUE(report->ok()) << report->problem;
  // Decision 5 was refused and is not in the trail.
  EXPECT_EQ(report->records, 5);
}

// A replica frozen while it holds the chain head holds the others up for
// 10 s at most: their commits fail (UNAVAILABLE, the store unhealthy) rather
// than hang, and go through once the head is free.
TEST_F(PostgresStoreTest, AHeldChainHeadHoldsUpCommitsOnlySoLong) {
  auto store = OpenPg();
  ASSERT_NE(store, nullptr);
  Fill(*store, 1);
  std::unique_ptr<PGconn, decltype(&PQfinish)> frozen(PQconnectdb(uri_.c_str()),
                                                      &PQfinish);
  ASSERT_EQ(PQstatus(frozen.get()), CONNECTION_OK);
  PQclear(PQexec(frozen.get(),
                 "BEGIN; SELECT * FROM head WHERE id = 1 FOR UPDATE"));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_THAT(AppendAndWait(*store, Decision(2)),
              StatusIs(absl::StatusCode::kUnavailable));
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, std::chrono::seconds(9));
  EXPECT_LT(waited, std::chrono::seconds(30));
  EXPECT_FALSE(store->healthy());
  PQclear(PQexec(frozen.get(), "ROLLBACK"));
  ASSERT_THAT(AppendAndWait(*store, Decision(3)), IsOk());
  EXPECT_TRUE(store->healthy());
  store.reset();
  auto report = VerifyAuditTrail(uri_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->problem;
  EXPECT_EQ(report->records, 2);
}

TEST_F(PostgresStoreTest, GovernanceNeedsOnlyAReadOnlyRole) {
  {
    auto store = OpenPg();
    ASSERT_NE(store, nullptr);
    Fill(*store, 4);
  }
  const std::string role = absl::StrCat("reader_", database_);
  ASSERT_THAT(server_->AddLogin(role, "reader-secret"), IsOk());
  ASSERT_THAT(Tamper(absl::StrCat(
                  "GRANT SELECT ON ALL TABLES IN SCHEMA public TO ", role)),
              IsOk());
  const std::string read_only = server_->Uri(database_, role);
  auto report = VerifyAuditTrail(read_only);
  ASSERT_THAT(report, IsOk()) << report.status();
  EXPECT_TRUE(report->ok()) << report->problem;
  EXPECT_EQ(report->records, 4);
  auto reader = AuditReader::Open(read_only);
  ASSERT_THAT(reader, IsOk()) << reader.status();
  EXPECT_THAT((*reader)->GetDecision("decision-a-2"), IsOk());
  // Writing needs more, and says so.
  auto store = AuditStore::Open({.path = read_only});
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store.status().message(), HasSubstr("permission denied"));
}

TEST_F(PostgresStoreTest, ThePasswordComesFromTheEnvironmentOrAFile) {
  {
    auto store = OpenPg();  // as the superuser, from the password file
    ASSERT_NE(store, nullptr);
    Fill(*store, 2);
  }
  const std::string role = absl::StrCat("env_", database_);
  ASSERT_THAT(server_->AddLogin(role, "env-secret-1", false), IsOk());
  ASSERT_THAT(Tamper(absl::StrCat(
                  "GRANT SELECT ON ALL TABLES IN SCHEMA public TO ", role)),
              IsOk());
  const std::string uri = server_->Uri(database_, role);
  // Neither in the file nor in the environment: refused, saying why.
  auto none = AuditReader::Open(uri);
  EXPECT_THAT(none, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(none.status().message(), HasSubstr("password"));
  // A wrong one: refused, and not repeated back.
  setenv("PGPASSWORD", "wrong-secret-2", 1);
  auto wrong = VerifyAuditTrail(uri);
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(wrong.status().message(),
              HasSubstr("password authentication failed"));
  EXPECT_THAT(wrong.status().message(), Not(HasSubstr("wrong-secret-2")));
  // The right one, from the environment.
  setenv("PGPASSWORD", "env-secret-1", 1);
  auto report = VerifyAuditTrail(uri);
  unsetenv("PGPASSWORD");
  ASSERT_THAT(report, IsOk()) << report.status();
  EXPECT_TRUE(report->ok()) << report->problem;
  EXPECT_EQ(report->records, 2);
}

TEST_F(PostgresStoreTest, ReplicasStartingTogetherMigrateOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      if (AuditStore::Open({.path = uri_}).ok()) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), 6);
  EXPECT_EQ(Problem(), "");
  // At the latest version, whose stored protobufs are packed by the
  // service, and were compressed with lz4 before (Debian's PostgreSQL has
  // it).
  auto version = server_->Value(
      database_, "SELECT version FROM audit_schema WHERE id = 1");
  ASSERT_THAT(version, IsOk());
  EXPECT_EQ(*version, "3");
  auto compression =
      server_->Value(database_,
                     "SELECT attcompression FROM pg_attribute WHERE attrelid ="
                     " 'decisions'::regclass AND attname = 'recommendation'");
  ASSERT_THAT(compression, IsOk());
  EXPECT_EQ(*compression, "l");

  // A store of version 1 is migrated when a replica opens it.
  ASSERT_THAT(Tamper("ALTER TABLE decisions ALTER COLUMN recommendation SET"
                     " COMPRESSION pglz, DROP COLUMN packing;"
                     " UPDATE audit_schema SET version = 1"),
              IsOk());
  ASSERT_THAT(AuditStore::Open({.path = uri_}), IsOk());
  EXPECT_EQ(*server_->Value(database_, "SELECT version FROM audit_schema"),
            "3");
  // One newer than this binary is refused, by writers and readers alike.
  ASSERT_THAT(Tamper("UPDATE audit_schema SET version = 99"), IsOk());
  auto newer = AuditStore::Open({.path = uri_});
  EXPECT_THAT(newer, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(newer.status().message(), HasSubstr("schema version 99"));
  EXPECT_THAT(AuditReader::Open(uri_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(PostgresStoreTest, RefusesAPasswordInTheUriAndNamesBadOnes) {
  const std::string with_password =
      absl::StrCat("postgresql://reconnect:secret@127.0.0.1:", server_->port(),
                   "/", database_);
  auto store = AuditStore::Open({.path = with_password});
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store.status().message(), HasSubstr("PGPASSWORD"));
  EXPECT_THAT(store.status().message(), Not(HasSubstr("secret")));
  EXPECT_THAT(AuditReader::Open(with_password),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyAuditTrail(with_password),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto bad = AuditStore::Open({.path = "postgresql://127.0.0.1:notaport/x"});
  EXPECT_THAT(bad, Not(IsOk()));
  // Nothing listens there.
  auto absent =
      AuditStore::Open({.path = "postgresql://reconnect@127.0.0.1:1/x"});
  EXPECT_THAT(absent, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(absent.status().message(), HasSubstr("cannot connect"));
  // A database that is not an audit store, to a reader.
  EXPECT_THAT(AuditReader::Open(uri_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(PostgresStoreTest, CopiesASqliteTrailAndVerifiesItOnArrival) {
  {
    auto sqlite = Open();
    ASSERT_NE(sqlite, nullptr);
    for (int i = 1; i <= 450; ++i) {
      ASSERT_THAT(AppendAndWait(*sqlite, Decision(i)), IsOk());
    }
    ASSERT_THAT(
        AppendFeedbackAndWait(*sqlite, {OnCard("card-a-3", "accepted")}).status,
        IsOk());
    RuleSetEvent event;
    event.action = "reload";
    event.who = "start-up";
    ASSERT_THAT(sqlite->RecordRuleSetEvent(event), IsOk());
  }
  auto copied = CopyTrail(path_, uri_);
  ASSERT_THAT(copied, IsOk()) << copied.status();
  EXPECT_EQ(copied->decisions, 450);
  EXPECT_EQ(copied->feedback, 1);
  EXPECT_EQ(copied->rule_sets, 1);
  EXPECT_TRUE(copied->arrived.ok());
  auto source = VerifyAuditTrail(path_);
  ASSERT_THAT(source, IsOk());
  EXPECT_EQ(copied->arrived.head_hash, source->head_hash);

  // Once there, it is not copied again: two trails make no one chain.
  EXPECT_THAT(CopyTrail(path_, uri_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // Replicas go on from where it ended, and the counts came along.
  {
    auto store = OpenPg();
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(AppendAndWait(*store, Decision(451)), IsOk());
    RuleSetEvent event;
    event.action = "activate";
    ASSERT_THAT(store->RecordRuleSetEvent(event), IsOk());
  }
  auto report = VerifyAuditTrail(uri_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->problem;
  EXPECT_EQ(report->records, 451);
  auto reader = AuditReader::Open(uri_);
  ASSERT_THAT(reader, IsOk());
  const int64_t day = DayOf(Record(1).time_micros);
  auto counts = (*reader)->ListDecisionCounts(day, day);
  ASSERT_THAT(counts, IsOk());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].count, 451);
  EXPECT_EQ((*reader)->ListRuleSetEvents(10)->size(), 2u);

  // A broken source is refused, and nothing is copied.
  AuditStoreTest::Tamper(
      "UPDATE decisions SET caller = 'x' WHERE sequence = 9");
  ASSERT_THAT(server_->CreateDatabase(database_ + "_2"), IsOk());
  auto broken = CopyTrail(path_, server_->Uri(database_ + "_2"));
  EXPECT_THAT(broken, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(broken.status().message(), HasSubstr("record 9 was altered"));
  EXPECT_THAT(CopyTrail(dir_ + "/absent.db", uri_), Not(IsOk()));
}

}  // namespace
}  // namespace reconnect::service
