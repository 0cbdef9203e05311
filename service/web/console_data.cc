#include "service/web/console_data.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/ruleset/diff.h"
#include "engine/ruleset/layout.h"

namespace reconnect::service::web {

namespace {

constexpr int64_t kMicrosPerDay = 86'400'000'000;
// Reloads and activations shown on the versions page.
constexpr int kMaxEvents = 100;

// Every version loaded or recorded, by digest, with its metadata (and
// canonical content, when `contents`).
absl::StatusOr<std::map<std::string, VersionEntry>> KnownVersions(
    AuditReader& reader, const RuleSetRegistry& registry,
    std::map<std::string, std::string>* contents = nullptr) {
  std::map<std::string, VersionEntry> by_digest;
  const auto active = registry.Active();
  for (const auto& rs : registry.All()) {
    VersionEntry& e = by_digest[rs->digest()];
    e.id = rs->metadata().id;
    e.version = rs->metadata().version;
    e.digest = rs->digest();
    e.loaded = true;
    e.active = rs == active;
    ReadVersionMetadata(rs->canonical_content(), e);
    if (contents != nullptr) (*contents)[e.digest] = rs->canonical_content();
  }
  auto stored = reader.ListRuleSets();
  if (!stored.ok()) return stored.status();
  for (const StoredRuleSet& s : *stored) {
    VersionEntry& e = by_digest[s.digest];
    e.first_recorded_micros = s.first_recorded_micros;
    auto signatures = reader.GetRuleSetSignatures(s.digest);
    if (!signatures.ok()) return signatures.status();
    e.signatures = *std::move(signatures);
    if (e.loaded) continue;
    e.id = s.id;
    e.version = s.version;
    e.digest = s.digest;
    auto content = reader.GetRuleSetContent(s.digest);
    if (!content.ok()) continue;
    ReadVersionMetadata(*content, e);
    if (contents != nullptr) (*contents)[e.digest] = *std::move(content);
  }
  return by_digest;
}

// Newest version first, by id.
std::vector<VersionEntry> Newest(std::map<std::string, VersionEntry> all) {
  std::vector<VersionEntry> out;
  for (auto& [digest, e] : all) out.push_back(std::move(e));
  std::sort(out.begin(), out.end(),
            [](const VersionEntry& a, const VersionEntry& b) {
              if (a.id != b.id) return a.id < b.id;
              return ruleset::VersionLess(b.version, a.version);
            });
  return out;
}

}  // namespace

bool ParseDay(const std::string& text, int64_t& day) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &error)) {
    return false;
  }
  day = absl::ToUnixSeconds(t) / 86400;
  return true;
}

// Rules in practice over the period in `view`, read on the worker.
absl::StatusOr<PracticeView> ReadPractice(StoreWorker& store,
                                          PracticeView view) {
  auto reader = store.Reader();
  if (!reader.ok()) return reader.status();
  auto decisions = (*reader)->ListDecisionCounts(view.first_day, view.last_day);
  if (!decisions.ok()) return decisions.status();
  auto rules = (*reader)->ListRuleCounts(view.first_day, view.last_day);
  if (!rules.ok()) return rules.status();
  auto feedback = (*reader)->ListFeedbackCounts(view.first_day, view.last_day);
  if (!feedback.ok()) return feedback.status();
  auto stored = (*reader)->ListRuleSets();
  if (!stored.ok()) return stored.status();
  CountPractice(*decisions, *rules, *feedback, view);
  for (VersionInPractice& v : view.versions) {
    for (const StoredRuleSet& s : *stored) {
      if (s.digest == v.digest) {
        v.id = s.id;
        v.version = s.version;
      }
    }
    // Every rule of the version, in its order, so that the rules that
    // never fired are listed too.
    auto rule_set = store.RuleSet(v.digest);
    if (!rule_set.ok()) continue;
    const ruleset::CompiledRuleSet& rs = **rule_set;
    std::map<std::string, RuleInPractice> counted;
    for (RuleInPractice& r : v.rules) counted[r.rule_id] = std::move(r);
    v.rules.clear();
    for (size_t i = 0; i < rs.rule_count(); ++i) {
      RuleInPractice r = std::move(counted[rs.rule_id(i)]);
      r.rule_id = rs.rule_id(i);
      r.title = rs.rule_title(i);
      v.rules.push_back(std::move(r));
    }
    v.all_rules_known = true;
  }
  if (view.comments_shown) {
    // The newest comments of the period: a bounded read, by the time index.
    FeedbackQuery query;
    query.start_micros = view.first_day * kMicrosPerDay;
    query.end_micros = (view.last_day + 1) * kMicrosPerDay;
    query.with_comment = true;
    query.newest_first = true;
    query.limit = 500;
    auto commented = (*reader)->ListFeedback(query);
    if (!commented.ok()) return commented.status();
    AddComments(*commented, view);
  }
  return view;
}

// Every version loaded or recorded, with its use and the reloads and
// activations, read on the worker.
absl::StatusOr<VersionsView> ReadVersions(StoreWorker& store,
                                          const RuleSetRegistry& registry,
                                          VersionsView view) {
  auto reader = store.Reader();
  if (!reader.ok()) return reader.status();
  auto known = KnownVersions(**reader, registry);
  if (!known.ok()) return known.status();
  std::map<std::string, VersionEntry>& by_digest = *known;
  auto usage = (*reader)->ListRuleSetUsage();
  if (!usage.ok()) return usage.status();
  for (const RuleSetUsage& u : *usage) {
    auto e = by_digest.find(u.rule_set_digest);
    if (e == by_digest.end()) continue;
    e->second.first_day = u.first_day;
    e->second.last_day = u.last_day;
    e->second.decisions = u.decisions;
  }
  auto events = (*reader)->ListRuleSetEvents(kMaxEvents);
  if (!events.ok()) return events.status();
  view.events = *std::move(events);
  view.versions = Newest(std::move(by_digest));
  return view;
}

// Two versions compared, read on the worker: `from` and `to` are digests,
// or empty for the version before the active one and the active one.
absl::StatusOr<DiffView> ReadDiff(StoreWorker& store,
                                  const RuleSetRegistry& registry,
                                  std::string from, std::string to) {
  auto reader = store.Reader();
  if (!reader.ok()) return reader.status();
  std::map<std::string, std::string> contents;
  auto known = KnownVersions(**reader, registry, &contents);
  if (!known.ok()) return known.status();
  DiffView view;
  const std::vector<VersionEntry> versions = Newest(*std::move(known));
  for (size_t i = 0; i < versions.size(); ++i) {
    view.versions.emplace_back(
        versions[i].digest,
        absl::StrCat(versions[i].id, " ", versions[i].version));
    if (versions[i].active && to.empty()) {
      to = versions[i].digest;
      if (from.empty() && i + 1 < versions.size()) {
        from = versions[i + 1].digest;
      }
    }
  }
  if (to.empty() && from.empty() && versions.size() >= 2) {
    // None active (a store read without a server): the two newest.
    to = versions[0].digest;
    from = versions[1].digest;
  }
  view.from = from;
  view.to = to;
  for (const auto& [param, digest] :
       {std::pair{"from", &from}, std::pair{"to", &to}}) {
    if (digest->empty()) return view;  // nothing to compare yet
    if (!contents.count(*digest)) {
      return absl::NotFoundError(
          absl::StrCat("'", param,
                       "' names no rule-set version this service "
                       "has loaded or recorded"));
    }
  }
  auto diff = ruleset::DiffRuleSets(contents[from], contents[to]);
  if (!diff.ok()) return diff.status();
  view.diff = *std::move(diff);
  return view;
}

}  // namespace reconnect::service::web
