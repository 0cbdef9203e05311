#include "service/decision/rule_set_versions.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/ruleset/layout.h"
#include "service/common/log.h"
#include "service/common/today.h"

namespace reconnect::service {

std::string RuleSetVersions::Fingerprint() const {
  std::string out;
  std::error_code ec;
  std::vector<std::string> entries;
  for (auto it = std::filesystem::recursive_directory_iterator(root_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    const auto time = std::filesystem::last_write_time(it->path(), fec);
    entries.push_back(
        absl::StrCat(it->path().string(), "|", it->file_size(fec), "|",
                     static_cast<int64_t>(time.time_since_epoch().count())));
  }
  std::sort(entries.begin(), entries.end());
  for (const auto& e : entries) absl::StrAppend(&out, e, "\n");
  return out;
}

std::vector<RuleSetVersions::Refusal> RuleSetVersions::refusals() const {
  absl::MutexLock lock(&refusals_mu_);
  return refusals_;
}

namespace {

// A version past its review date still serves (patients must not lose
// advice because paperwork is late), but says so at every load: the rule
// set's own date as an error, its rules' as warnings.
void LogReviewsDue(const ruleset::CompiledRuleSet& rs,
                   const std::string& today) {
  std::vector<std::string> rules;
  for (const ruleset::RuleSetIssue& due : ruleset::ReviewsDue(rs, today)) {
    if (due.rule_id.empty()) {
      Log(LogLevel::kError, "rule_set_review_overdue",
          {{"id", rs.metadata().id},
           {"version", rs.metadata().version},
           {"review_by", rs.metadata().review_by},
           {"today", today},
           {"reason",
            "past its clinical review date; it still serves until a "
            "reviewed version replaces it"}});
    } else {
      rules.push_back(due.rule_id);
    }
  }
  if (!rules.empty()) {
    Log(LogLevel::kWarning, "rules_review_overdue",
        {{"id", rs.metadata().id},
         {"version", rs.metadata().version},
         {"today", today},
         {"count", rules.size()},
         {"rules", rules}});
  }
}

}  // namespace

void RuleSetVersions::set_approval_check(ApprovalCheck check) {
  absl::MutexLock lock(&reload_mu_);
  approval_check_ = std::move(check);
}

RuleSetVersions::Counts RuleSetVersions::counts() const {
  absl::MutexLock lock(&refusals_mu_);
  return counts_;
}

bool RuleSetVersions::Changed() const {
  const std::string now = Fingerprint();
  absl::MutexLock lock(&reload_mu_);
  return now != fingerprint_;
}

void RuleSetVersions::Record(std::string action, std::string who,
                             std::string refused) {
  if (audit_ == nullptr) return;
  RuleSetEvent event;
  event.action = std::move(action);
  event.who = std::move(who);
  event.refused = std::move(refused);
  if (const auto active = registry_.Active()) {
    event.active_digest = active->digest();
  }
  for (const auto& rs : registry_.All()) {
    event.loaded_digests.push_back(rs->digest());
  }
  event.refusals = refusals();
  // The action stands whether or not it could be written down; the log
  // says when it could not.
  if (absl::Status s = audit_->RecordRuleSetEvent(std::move(event)); !s.ok()) {
    Log(LogLevel::kError, "rule_set_event_not_recorded",
        {{"reason", std::string(s.message())}});
  }
}

bool RuleSetVersions::Reload(const std::string& who) {
  absl::MutexLock lock(&reload_mu_);
  const bool loaded = ReloadLocked();
  Record("reload", who,
         loaded ? "" : "no version loads; the versions before keep serving");
  return loaded;
}

absl::Status RuleSetVersions::Activate(const std::string& id,
                                       const std::string& version,
                                       const std::string& who) {
  absl::MutexLock lock(&reload_mu_);
  std::shared_ptr<const ruleset::CompiledRuleSet> chosen =
      registry_.Find(id, version);
  if (chosen == nullptr) {
    const absl::Status missing = absl::NotFoundError(
        absl::StrCat("rule set ", id, " ", version, " is not loaded"));
    Record("activate", who, std::string(missing.message()));
    return missing;
  }
  activated_ = {id, version};
  registry_.Replace(registry_.All(), chosen);
  Log(LogLevel::kInfo, "rule_set_activated",
      {{"id", id}, {"version", version}, {"digest", chosen->digest()}});
  Record("activate", who, "");
  return absl::OkStatus();
}

bool RuleSetVersions::ReloadLocked() {
  fingerprint_ = Fingerprint();
  std::vector<Refusal> refusals;
  std::map<std::string, std::shared_ptr<const ruleset::CompiledRuleSet>> by_dir;
  auto refuse = [&](const std::string& dir, std::vector<std::string> why)
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_) {
                      // Problems name rule files and positions, never patient
                      // data.
                      for (const auto& problem : why) {
                        Log(LogLevel::kError, "rule_set_issue",
                            {{"dir", dir}, {"issue", problem}});
                      }
                      Log(LogLevel::kError, "rule_set_refused",
                          {{"dir", dir},
                           {"problems", why.size()},
                           {"first_problem", why.empty() ? "" : why.front()},
                           {"still_serving", by_dir_.count(dir) > 0}});
                      refusals.push_back({dir, std::move(why)});
                      if (auto old = by_dir_.find(dir); old != by_dir_.end()) {
                        by_dir[dir] = old->second;
                      }
                    };
  const std::vector<std::filesystem::path> dirs =
      ruleset::RuleSetDirectories(root_);
  if (dirs.empty()) {
    refuse(root_.string(), {absl::StrCat("no rule set here: ", root_.string(),
                                         " holds no ", ruleset::kMetadataFile,
                                         ", nor subdirectories with one")});
  }
  for (const auto& path : dirs) {
    const std::string dir = path.string();
    ruleset::LoadResult loaded = ruleset::LoadRuleSet(path);
    if (!loaded.rule_set) {
      std::vector<std::string> why;
      for (const auto& issue : loaded.issues) why.push_back(issue.ToString());
      refuse(dir, std::move(why));
      continue;
    }
    ruleset::TestReport tests =
        ruleset::RunRuleSetTests(path, *loaded.rule_set);
    // The hazard log's proofs are test cases; one it names that is missing
    // refuses the version as a failing case does.
    for (auto& issue : ruleset::CheckHazardTests(*loaded.rule_set, tests)) {
      tests.issues.push_back(std::move(issue));
    }
    if (tests.failed() > 0 || !tests.issues.empty()) {
      std::vector<std::string> why;
      for (const auto& c : tests.cases) {
        if (!c.failures.empty()) {
          why.push_back(absl::StrCat("test case '", c.name, "' (", c.file,
                                     ") failed: ", c.failures.front()));
        }
      }
      for (const auto& issue : tests.issues) why.push_back(issue.ToString());
      refuse(dir, std::move(why));
      continue;
    }
    Approval approval;
    if (approval_check_) {
      approval = approval_check_(path, *loaded.rule_set);
      if (!approval.problems.empty()) {
        refuse(dir, std::move(approval.problems));
        continue;
      }
    }
    if (audit_ != nullptr) {
      const auto& meta = loaded.rule_set->metadata();
      absl::Status s = audit_->RecordRuleSet(
          loaded.rule_set->digest(), meta.id, meta.version,
          loaded.rule_set->canonical_content());
      if (s.ok() && !approval.signatures.empty()) {
        s = audit_->RecordRuleSetSignatures(loaded.rule_set->digest(),
                                            approval.signatures);
      }
      if (!s.ok()) {
        refuse(dir, {std::string(s.message())});
        continue;
      }
    }
    by_dir[dir] = loaded.rule_set;
  }
  // One version per id and version: the first directory wins.
  std::vector<std::shared_ptr<const ruleset::CompiledRuleSet>> versions;
  for (const auto& entry : by_dir) {
    const std::string& dir = entry.first;
    const std::shared_ptr<const ruleset::CompiledRuleSet>& rs = entry.second;
    const bool duplicate =
        std::any_of(versions.begin(), versions.end(), [&](const auto& v) {
          return v->metadata().id == rs->metadata().id &&
                 v->metadata().version == rs->metadata().version;
        });
    if (duplicate) {
      Log(LogLevel::kError, "rule_set_refused",
          {{"dir", dir},
           {"problems", 1},
           {"first_problem",
            absl::StrCat("another directory already holds ", rs->metadata().id,
                         " ", rs->metadata().version)}});
      continue;
    }
    versions.push_back(rs);
  }
  if (versions.empty()) {
    Log(LogLevel::kError, "rule_sets_reloaded",
        {{"versions", 0}, {"refused", refusals.size()}});
    absl::MutexLock lock(&refusals_mu_);
    ++counts_.reloads_refused;
    counts_.versions_refused += static_cast<int64_t>(refusals.size());
    refusals_ = std::move(refusals);
    return false;
  }
  std::shared_ptr<const ruleset::CompiledRuleSet> active;
  auto better = [](const auto& a, const auto& b) {
    return ruleset::PreferredAsActive(
        a->metadata().status, a->metadata().version, b->metadata().status,
        b->metadata().version);
  };
  for (const auto& v : versions) {
    if (!active || better(v, active)) active = v;
  }
  // An operator's activation holds while its version is loaded.
  if (!activated_.first.empty()) {
    const std::string& id = activated_.first;
    const std::string& version = activated_.second;
    auto chosen =
        std::find_if(versions.begin(), versions.end(), [&](const auto& v) {
          return v->metadata().id == id && v->metadata().version == version;
        });
    if (chosen != versions.end()) {
      active = *chosen;
    } else {
      Log(LogLevel::kWarning, "rule_set_activation_ended",
          {{"id", activated_.first},
           {"version", activated_.second},
           {"reason", "the version is no longer loaded"}});
      activated_ = {};
    }
  }
  registry_.Replace(versions, active);
  by_dir_ = std::move(by_dir);
  const size_t refused = refusals.size();
  {
    absl::MutexLock lock(&refusals_mu_);
    ++counts_.reloads;
    counts_.versions_refused += static_cast<int64_t>(refusals.size());
    refusals_ = std::move(refusals);
  }
  const std::string today = TodayOrUtc(absl::Now());
  for (const auto& v : versions) {
    Log(LogLevel::kInfo, "rule_set_loaded",
        {{"id", v->metadata().id},
         {"version", v->metadata().version},
         {"status", v->metadata().status},
         {"digest", v->digest()},
         {"rules", v->rule_count()},
         {"active", v == active}});
    LogReviewsDue(*v, today);
  }
  // Last, once the swap and the refusals are in place.
  Log(LogLevel::kInfo, "rule_sets_reloaded",
      {{"versions", versions.size()},
       {"refused", refused},
       {"active",
        absl::StrCat(active->metadata().id, " ", active->metadata().version)}});
  return true;
}

}  // namespace reconnect::service
