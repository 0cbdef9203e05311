// Privacy over a real process: assessments full of canary strings, valid
// and invalid, go through every path that logs; no log line may hold any
// of them, and the audit store holds the patient reference only as its
// keyed HMAC.

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "reconnect/v1/governance.grpc.pb.h"
#include "service/api/decision_support_service.h"
#include "service/audit/audit_store.h"
#include "service/decision/stored_record.h"
#include "tests/testing/cli.h"
#include "tests/testing/examples.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace reconnect {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;
using ::testing::Not;

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using testing_util::ServerProcess;
namespace fs = std::filesystem;

constexpr char kCanary[] = "CANARY7f3a";

// Sets every string field in `m` (and in the messages it holds) to a canary
// naming the field, `length` characters long at least; with `keep_codes`,
// the care team's discipline codes (checked against the catalog) stay.
void FillStrings(Message& m, size_t length, int& count,
                 bool keep_codes = false) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (keep_codes && f->name() == "disciplines") continue;
    std::string value =
        std::string(kCanary) + "-" + f->name() + "-" + std::to_string(++count);
    if (value.size() < length) value.append(length - value.size(), 'x');
    if (f->is_map()) {
      // extensions: a string Value under a canary key.
      Message* entry = r->AddMessage(&m, f);
      const auto* ed = entry->GetDescriptor();
      entry->GetReflection()->SetString(entry, ed->FindFieldByName("key"),
                                        value);
      auto* v = static_cast<google::protobuf::Value*>(
          entry->GetReflection()->MutableMessage(entry,
                                                 ed->FindFieldByName("value")));
      v->set_string_value(value);
      continue;
    }
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      if (f->is_repeated()) {
        r->AddString(&m, f, value);
      } else {
        r->SetString(&m, f, value);
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               f->message_type()->file()->package() != "google.protobuf") {
      if (f->is_repeated()) {
        if (r->FieldSize(m, f) == 0) r->AddMessage(&m, f);
        for (int j = 0; j < r->FieldSize(m, f); ++j) {
          FillStrings(*r->MutableRepeatedMessage(&m, f, j), length, count,
                      keep_codes);
        }
      } else {
        FillStrings(*r->MutableMessage(&m, f), length, count, keep_codes);
      }
    }
  }
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(PrivacyE2ETest, NoLogLineHoldsAssessmentContent) {
  char tmpl[] = "/tmp/privacy_e2e_test.XXXXXX";
  const fs::path dir = mkdtemp(tmpl);
  const std::string key(32, 'k');
  std::ofstream(dir / "patient-ref.key") << key;
  ServerProcess server(testing_util::ServeBundled(
      {"--audit", (dir / "audit.db").string(), "--patient_ref_key",
       (dir / "patient-ref.key").string()}));
  auto serving = server.WaitForEvent("serving", std::chrono::seconds(30));
  ASSERT_TRUE(serving.has_value());
  auto channel = grpc::CreateChannel((*serving)["address"].get<std::string>(),
                                     grpc::InsecureChannelCredentials());
  auto decisions = v1::DecisionSupport::NewStub(channel);
  auto governance = v1::Governance::NewStub(channel);
  auto call = [&](const v1::EvaluateRequest& request,
                  v1::EvaluateResponse* response) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    return decisions->Evaluate(&ctx, request, response);
  };

  // A valid assessment whose every string is a canary.
  v1::EvaluateRequest request = testing_util::ExampleRequest(
      "catastrophising-performance-beliefs.json", "privacy-e2e");
  int count = 0;
  FillStrings(*request.mutable_assessment(), 0, count, /*keep_codes=*/true);
  ASSERT_GT(count, 5);
  v1::EvaluateResponse answer;
  grpc::Status s = call(request, &answer);
  ASSERT_THAT(s, IsOk()) << s.error_message();
  // Invalid ones: canaries too long for their fields, and a score out of
  // range; the error names fields, never values.
  v1::EvaluateRequest invalid = request;
  invalid.mutable_assessment()->clear_beliefs();
  FillStrings(*invalid.mutable_assessment(), 1500, count);
  invalid.mutable_assessment()->mutable_scores()->set_pcs_total(999);
  v1::EvaluateResponse ignored;
  s = call(invalid, &ignored);
  EXPECT_THAT(s, StatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(s.error_message(), testing::Not(testing::HasSubstr(kCanary)));
  // Pinned to a version that does not exist.
  v1::EvaluateRequest unknown = request;
  unknown.set_rule_set_id(std::string(kCanary) + "-rule-set");
  unknown.set_rule_set_version("9.9.9");
  EXPECT_THAT(call(unknown, &ignored), Not(IsOk()));

  // Governance paths that read the record back.
  {
    grpc::ClientContext ctx;
    v1::ReplayDecisionRequest replay;
    replay.set_decision_id(answer.decision_id());
    v1::ReplayDecisionResponse replayed;
    grpc::Status r = governance->ReplayDecision(&ctx, replay, &replayed);
    ASSERT_THAT(r, IsOk()) << r.error_message();
    EXPECT_TRUE(replayed.identical()) << replayed.differences();
  }
  {
    grpc::ClientContext ctx;
    v1::GetDecisionRequest get;
    get.set_decision_id(answer.decision_id());
    v1::Decision decision;
    ASSERT_THAT(governance->GetDecision(&ctx, get, &decision), IsOk());
    // Stored as submitted, but for the patient reference: its HMAC.
    EXPECT_EQ(decision.assessment().assessment_ref(),
              request.assessment().assessment_ref());
    EXPECT_EQ(decision.assessment().patient_ref(),
              service::PatientRefHmac(key, request.assessment().patient_ref()));
  }
  kill(server.pid(), SIGHUP);
  ASSERT_TRUE(
      server.WaitForEvent("rule_sets_reloaded", std::chrono::seconds(30)));
  channel.reset();
  decisions.reset();
  governance.reset();
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(15)), 0);

  // Every line is a JSON object, and none holds a canary.
  ASSERT_GT(server.lines().size(), 5u);
  for (const auto& line : server.lines()) {
    EXPECT_TRUE(nlohmann::json::parse(line, nullptr, false).is_object())
        << line;
    EXPECT_EQ(line.find(kCanary), std::string::npos) << line;
  }
  // The store holds the assessment, but the patient reference only as its
  // HMAC: in the records as read (unpacked), and in the files' bytes.
  auto reader = service::AuditReader::Open((dir / "audit.db").string());
  ASSERT_THAT(reader, IsOk()) << reader.status();
  auto records = (*reader)->ListDecisions({});
  ASSERT_THAT(records, IsOk()) << records.status();
  ASSERT_FALSE(records->empty());
  std::string stored;
  for (const service::DecisionRecord& r : *records) {
    stored += r.assessment;
    stored += r.patient_hmac;
  }
  EXPECT_NE(stored.find(request.assessment().assessment_ref()),
            std::string::npos);
  EXPECT_EQ(stored.find(request.assessment().patient_ref()), std::string::npos);
  reader->reset();
  std::string files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("audit.db", 0) == 0) {
      files += ReadAll(entry.path());
    }
  }
  EXPECT_EQ(files.find(request.assessment().patient_ref()), std::string::npos);
  fs::remove_all(dir);
}

TEST(PrivacyE2ETest, AShortPatientRefKeyIsRefused) {
  char tmpl[] = "/tmp/privacy_e2e_test.XXXXXX";
  const fs::path dir = mkdtemp(tmpl);
  std::ofstream(dir / "short.key") << "too-short";
  ServerProcess server(testing_util::ServeBundled(
      {"--audit", (dir / "audit.db").string(), "--patient_ref_key",
       (dir / "short.key").string()}));
  auto refused =
      server.WaitForEvent("patient_ref_key_refused", std::chrono::seconds(30));
  ASSERT_TRUE(refused.has_value());
  EXPECT_THAT((*refused)["reason"].get<std::string>(),
              testing::HasSubstr("at least 32"));
  EXPECT_EQ(server.Stop(0, std::chrono::seconds(10)), 2);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace reconnect
