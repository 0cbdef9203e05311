// The governance commands against a running server, through its Governance
// service: the same questions and the same output as against a store file.

#include "service/cli/remote_commands.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "re2/re2.h"
#include "reconnect/v1/governance.grpc.pb.h"
#include "service/cli/command_output.h"
#include "service/common/files.h"
#include "service/common/status_macros.h"
#include "service/security/tls.h"

namespace reconnect::service {

namespace {

// A connection to a running server with the caller's credentials: TLS (and
// a client certificate) when configured, and a bearer token when given.
class Remote {
 public:
  static absl::StatusOr<Remote> Open(const RemoteOptions& options) {
    ASSIGN_OR_RETURN(auto credentials, MakeChannelCredentials(options.tls));
    Remote remote;
    if (!options.token_file.empty()) {
      ASSIGN_OR_RETURN(auto token,
                       ReadWholeFile(options.token_file, "--token_file"));
      remote.token_ = std::string(absl::StripAsciiWhitespace(token));
    }
    remote.stub_ = v1::Governance::NewStub(
        grpc::CreateChannel(options.address, credentials));
    return remote;
  }

  v1::Governance::Stub& governance() { return *stub_; }

  std::unique_ptr<grpc::ClientContext> Context() const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::minutes(10));
    if (!token_.empty()) {
      ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    }
    return ctx;
  }

 private:
  std::unique_ptr<v1::Governance::Stub> stub_;
  std::string token_;
};

int CannotConnect(const absl::Status& s) {
  std::cerr << "reconnect: " << s.message() << "\n";
  return 2;
}

int Failed(const grpc::Status& s) {
  std::cerr << "reconnect: " << s.error_message() << " ("
            << absl::StatusCodeToString(
                   static_cast<absl::StatusCode>(s.error_code()))
            << ")\n";
  return 2;
}

// "ID@VERSION", or a digest.
v1::GetRuleSetRequest Selector(const std::string& text) {
  v1::GetRuleSetRequest out;
  std::string id, version;
  if (RE2::FullMatch(text, "([^@]+)@(.+)", &id, &version)) {
    out.set_id(id);
    out.set_version(version);
  } else {
    out.set_digest(text);
  }
  return out;
}

ReplayResult FromProto(const v1::ReplayDecisionResponse& r) {
  ReplayResult out;
  out.decision_id = r.decision_id();
  out.rule_set_digest = r.rule_set_digest();
  out.identical = r.identical();
  out.differences = r.differences();
  return out;
}

ruleset::FieldChange FromProto(const v1::FieldChange& c) {
  return {c.path(), c.before(), c.after()};
}

}  // namespace

int RunAuditVerifyRemote(const RemoteOptions& server) {
  absl::StatusOr<Remote> remote = Remote::Open(server);
  if (!remote.ok()) return CannotConnect(remote.status());
  v1::VerifyAuditTrailResponse response;
  auto ctx = remote->Context();
  grpc::Status s = remote->governance().VerifyAuditTrail(
      ctx.get(), v1::VerifyAuditTrailRequest(), &response);
  if (!s.ok()) return Failed(s);
  VerifyReport report;
  report.records = response.records();
  report.head_sequence = response.head_sequence();
  report.head_hash = response.head_hash();
  report.feedback_records = response.feedback_records();
  report.feedback_head_hash = response.feedback_head_hash();
  if (!response.intact()) {
    // Sequences start at 1; 0 means the problem is in no one record.
    if (response.first_broken_sequence() != 0) {
      report.broken_sequence = response.first_broken_sequence();
    }
    report.problem = response.problem();
  }
  return PrintVerifyReport(report);
}

int RunReplayRemote(const RemoteOptions& server,
                    const std::string& decision_id) {
  absl::StatusOr<Remote> remote = Remote::Open(server);
  if (!remote.ok()) return CannotConnect(remote.status());
  v1::Governance::Stub* stub = &remote->governance();
  auto replay = [&](const std::string& id, ReplayResult& out) {
    v1::ReplayDecisionRequest request;
    request.set_decision_id(id);
    v1::ReplayDecisionResponse response;
    auto ctx = remote->Context();
    grpc::Status s = stub->ReplayDecision(ctx.get(), request, &response);
    if (s.ok()) out = FromProto(response);
    return s;
  };
  if (!decision_id.empty()) {
    ReplayResult r;
    if (grpc::Status s = replay(decision_id, r); !s.ok()) return Failed(s);
    PrintReplayResult(r);
    return r.identical ? 0 : 1;
  }
  int64_t total = 0, differ = 0;
  v1::ListDecisionsRequest list;
  list.set_metadata_only(true);
  list.set_page_size(1000);
  while (true) {
    v1::ListDecisionsResponse page;
    auto ctx = remote->Context();
    if (grpc::Status s = stub->ListDecisions(ctx.get(), list, &page); !s.ok()) {
      return Failed(s);
    }
    for (const auto& d : page.decisions()) {
      ReplayResult r;
      if (grpc::Status s = replay(d.decision_id(), r); !s.ok()) {
        return Failed(s);
      }
      ++total;
      if (!r.identical) {
        ++differ;
        PrintReplayResult(r);
      }
    }
    std::cerr << "replayed " << total << " decision(s)\n";
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  return PrintReplaySummary(total, differ);
}

int RunDiffRemote(const RemoteOptions& server, const std::string& from,
                  const std::string& to) {
  absl::StatusOr<Remote> remote = Remote::Open(server);
  if (!remote.ok()) return CannotConnect(remote.status());
  v1::DiffRuleSetsRequest request;
  *request.mutable_from() = Selector(from);
  *request.mutable_to() = Selector(to);
  v1::DiffRuleSetsResponse response;
  auto ctx = remote->Context();
  grpc::Status s =
      remote->governance().DiffRuleSets(ctx.get(), request, &response);
  if (!s.ok()) return Failed(s);
  ruleset::RuleSetDiff diff;
  diff.rules_added.assign(response.rules_added().begin(),
                          response.rules_added().end());
  diff.rules_removed.assign(response.rules_removed().begin(),
                            response.rules_removed().end());
  for (const auto& rc : response.rules_changed()) {
    ruleset::RuleChange change{rc.rule_id(), {}};
    for (const auto& f : rc.fields()) change.fields.push_back(FromProto(f));
    diff.rules_changed.push_back(std::move(change));
  }
  for (const auto& c : response.changes()) {
    diff.changes.push_back(FromProto(c));
  }
  return PrintDiff(diff);
}

int RunImpactRemote(const RemoteOptions& server, const std::string& candidate,
                    const ImpactOptions& options) {
  absl::StatusOr<Remote> remote = Remote::Open(server);
  if (!remote.ok()) return CannotConnect(remote.status());
  DecisionQuery range;
  if (!ParseTimeRange(options.from, options.to, range)) return 2;
  using google::protobuf::util::TimeUtil;
  v1::AnalyzeImpactRequest request;
  *request.mutable_candidate() = Selector(candidate);
  if (range.start_micros != 0) {
    *request.mutable_start_time() =
        TimeUtil::MicrosecondsToTimestamp(range.start_micros);
  }
  if (range.end_micros != 0) {
    *request.mutable_end_time() =
        TimeUtil::MicrosecondsToTimestamp(range.end_micros);
  }
  request.set_calling_system(options.calling_system);
  request.set_max_examples(options.max_examples);
  auto ctx = remote->Context();
  auto stream = remote->governance().AnalyzeImpact(ctx.get(), request);
  v1::AnalyzeImpactResponse message, result;
  while (stream->Read(&message)) {
    if (message.done()) {
      result = message;
    } else {
      std::cerr << "evaluated " << message.decisions_evaluated()
                << " decision(s)\n";
    }
  }
  if (grpc::Status s = stream->Finish(); !s.ok()) return Failed(s);
  ImpactReport report;
  report.evaluated = result.decisions_evaluated();
  report.changed = result.decisions_changed();
  for (const auto& item : result.items()) {
    report.items.push_back({item.kind(),
                            item.code(),
                            item.gained(),
                            item.lost(),
                            {item.example_decision_ids().begin(),
                             item.example_decision_ids().end()}});
  }
  PrintImpact(absl::StrCat(candidate, " (", result.candidate_digest(), ")"),
              report);
  return 0;
}

int RunAdminRemote(const RemoteOptions& server, const std::string& action,
                   const std::string& rule_set) {
  absl::StatusOr<Remote> remote = Remote::Open(server);
  if (!remote.ok()) return CannotConnect(remote.status());
  auto describe = [](const v1::RuleSetSummary& rs) {
    return absl::StrCat(rs.id(), " ", rs.version(), " (", rs.status(), ", ",
                        rs.digest(), ")");
  };
  auto ctx = remote->Context();
  if (action == "reload") {
    v1::ReloadRuleSetsResponse response;
    grpc::Status s = remote->governance().ReloadRuleSets(
        ctx.get(), v1::ReloadRuleSetsRequest(), &response);
    if (!s.ok()) return Failed(s);
    for (const auto& refusal : response.refusals()) {
      std::cout << "refused " << refusal.dir() << ":\n";
      for (const auto& p : refusal.problems()) std::cout << "  " << p << "\n";
    }
    if (!response.loaded()) {
      std::cout << "no version loads; the versions loaded before keep "
                   "serving\n";
      return 1;
    }
    std::cout << "active: " << describe(response.active()) << "\n";
    return response.refusals_size() == 0 ? 0 : 1;
  }
  // activate ID@VERSION
  v1::ActivateRuleSetRequest request;
  const v1::GetRuleSetRequest selector = Selector(rule_set);
  request.set_id(selector.id());
  request.set_version(selector.version());
  v1::ActivateRuleSetResponse response;
  grpc::Status s =
      remote->governance().ActivateRuleSet(ctx.get(), request, &response);
  if (!s.ok()) return Failed(s);
  std::cout << "active: " << describe(response.active()) << "\n";
  return 0;
}

}  // namespace reconnect::service
