// POST /fhir/PlanDefinition/{id}/$apply on the real process: a FHIR
// Parameters in, the plan Bundle out, the decision in the audit trail, and
// every refusal an OperationOutcome with its status.

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "service/audit/audit_store.h"
#include "tests/testing/cli.h"
#include "tests/testing/http_client.h"
#include "tests/testing/server_process.h"

namespace reconnect {
namespace {

using nlohmann::json;
using testing::HasSubstr;
using testing_util::HttpCall;
using testing_util::ServerProcess;

constexpr char kApply[] = "/fhir/PlanDefinition/reconnect/$apply";

json ApplyExample() {
  std::ifstream in(std::string(RECONNECT_SOURCE_DIR) +
                   "/examples/fhir/apply-catastrophising.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

class FhirApplyTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fhir_apply_e2e.XXXXXX";
    dir_ = mkdtemp(tmpl);
    server_ = std::make_unique<ServerProcess>(testing_util::ServeBundled(
        {"--audit=" + dir_ + "/audit.db", "--http_listen=127.0.0.1:0"}));
    auto http = server_->WaitForEvent("http_serving", std::chrono::seconds(30));
    ASSERT_TRUE(http.has_value());
    port_ = (*http)["port"].get<int>();
  }
  void TearDown() override {
    EXPECT_EQ(server_->Stop(SIGTERM, std::chrono::seconds(20)), 0);
    std::filesystem::remove_all(dir_);
  }

  std::optional<testing_util::HttpReply> Apply(
      const std::string& body, const std::string& path = kApply) {
    return HttpCall(port_, "POST", path, body,
                    "Content-Type: application/fhir+json\r\n");
  }

  // The first issue of an OperationOutcome: "expression: diagnostics".
  static std::string Issue(const testing_util::HttpReply& reply) {
    json body = json::parse(reply.body, nullptr, false);
    if (!body.is_object() ||
        body.value("resourceType", "") != "OperationOutcome") {
      return "(not an OperationOutcome) " + reply.body;
    }
    const json& issue = body["issue"][0];
    return (issue.contains("expression")
                ? issue["expression"][0].get<std::string>()
                : std::string()) +
           ": " + issue.value("diagnostics", "");
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  int port_ = 0;
};

TEST_F(FhirApplyTest, AnswersThePlanBundleAndRecordsTheDecision) {
  auto reply = Apply(ApplyExample().dump());
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->status, 200) << reply->body;
  EXPECT_EQ(reply->headers["content-type"], "application/fhir+json");
  const json bundle = json::parse(reply->body);
  EXPECT_EQ(bundle["resourceType"], "Bundle");
  std::string decision_id;
  for (const json& entry : bundle["entry"]) {
    const json& resource = entry["resource"];
    if (resource["resourceType"] == "GuidanceResponse") {
      decision_id = resource["requestIdentifier"]["value"];
      // The example sends no IIEF-5: the plan asks for it.
      EXPECT_EQ(resource["status"], "data-requested");
      EXPECT_THAT(resource["dataRequirement"].dump(), HasSubstr("IIEF-5"));
    }
    if (resource["resourceType"] == "CarePlan") {
      EXPECT_EQ(resource["subject"]["reference"], "Patient/example-001");
    }
  }
  ASSERT_FALSE(decision_id.empty());
  auto reader = service::AuditReader::Open(dir_ + "/audit.db");
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto record = (*reader)->GetDecision(decision_id);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->calling_system, "fhir:PlanDefinition/$apply");
  const json context = json::parse(record->context);
  EXPECT_EQ(context["interface"], "fhir");
  EXPECT_EQ(context["operation"], "PlanDefinition/$apply");
}

TEST_F(FhirApplyTest, RefusalsSayWhatAndWhere) {
  json bad_value = ApplyExample();
  bad_value["parameter"][1]["resource"]["entry"][1]["resource"]["valueQuantity"]
           ["value"] = "high";
  json bad_subject = ApplyExample();
  bad_subject["parameter"][0]["valueString"] = "Practitioner/7";
  json no_subject = ApplyExample();
  no_subject["parameter"].erase(0);
  json no_data = ApplyExample();
  no_data["parameter"].erase(1);
  json empty_bundle = ApplyExample();
  empty_bundle["parameter"][1]["resource"]["entry"] = json::array();
  struct Case {
    std::string body;
    std::string path;
    int status;
    std::string issue;
  };
  for (const Case& c : std::vector<Case>{
           {"{", kApply, 400, "not JSON"},
           {R"({"resourceType":"Bundle"})", kApply, 400,
            "Parameters: the request must be a FHIR Parameters"},
           {bad_value.dump(), kApply, 400,
            "Parameters.parameter[1].resource.entry[1].resource.valueQuantity"
            ".value: must be a number"},
           {bad_subject.dump(), kApply, 400,
            "Parameters.parameter[0]: the subject must be a Patient"},
           {no_subject.dump(), kApply, 400, "subject parameter"},
           {no_data.dump(), kApply, 412, "none of the facts"},
           {empty_bundle.dump(), kApply, 412,
            "Parameters.parameter[1].resource: none of the facts"},
           {ApplyExample().dump(), "/fhir/PlanDefinition/other/$apply", 404,
            "there is no PlanDefinition 'other'"},
           {"{}", "/fhir/Patient/1", 404, "nothing is served at"}}) {
    SCOPED_TRACE(c.path + " " + c.body.substr(0, 60));
    auto reply = Apply(c.body, c.path);
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, c.status) << reply->body;
    EXPECT_THAT(Issue(*reply), HasSubstr(c.issue));
  }
  auto get = HttpCall(port_, "GET", kApply);
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->headers["allow"], "POST");
  // None of it was decided.
  auto reader = service::AuditReader::Open(dir_ + "/audit.db");
  ASSERT_TRUE(reader.ok());
  auto listed = (*reader)->ListDecisions({});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST(FhirPlanCommandTest, PrintsTheBundleOrTheMarkdownPlan) {
  const std::string base = std::string("plan --rules ") + RECONNECT_SOURCE_DIR +
                           "/rules/reconnect/1.0.5 ";
  const std::string example =
      std::string(RECONNECT_SOURCE_DIR) + "/examples/red-flag-bleeding.json";
  auto [code, out] = testing_util::RunReconnect(base + "--fhir " + example);
  ASSERT_EQ(code, 0) << out;
  const json bundle = json::parse(out, nullptr, false);
  ASSERT_TRUE(bundle.is_object()) << out;
  EXPECT_EQ(bundle["resourceType"], "Bundle");
  auto [md_code, md] = testing_util::RunReconnect(base + example);
  ASSERT_EQ(md_code, 0) << md;
  EXPECT_THAT(md, HasSubstr("**Critical"));
  EXPECT_THAT(md, HasSubstr("### Held back"));
  auto [bad_code, bad] =
      testing_util::RunReconnect(base + "--fhir /nonexistent.json");
  EXPECT_EQ(bad_code, 1);
  EXPECT_THAT(bad, HasSubstr("/nonexistent.json"));
  auto [usage_code, usage] = testing_util::RunReconnect("plan " + example);
  EXPECT_EQ(usage_code, 2);
  EXPECT_THAT(usage, HasSubstr("plan needs --rules DIR"));
}

}  // namespace
}  // namespace reconnect
