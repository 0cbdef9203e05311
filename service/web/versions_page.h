#ifndef RECONNECT_SERVICE_WEB_VERSIONS_PAGE_H_
#define RECONNECT_SERVICE_WEB_VERSIONS_PAGE_H_

// Governance: every rule-set version the service has loaded or the audit
// store has recorded, as a timeline of when each made decisions and when an
// admin activated it; each with its metadata, change-log entry and use; the
// reloads and activations, with the directories refused and why. For the
// admin role, the buttons that reload the rule sets and activate a version.

#include <cstdint>
#include <string>
#include <vector>

#include "service/audit/audit_store.h"
#include "service/web/html.h"

namespace reconnect::service::web {

struct VersionEntry {
  std::string id, version, digest;
  // From the version's own ruleset.json.
  std::string status, title, effective_date, review_by;
  std::vector<std::string> authors, approvers;
  std::string change_date, changes;   // its change-log entry; empty: none
  bool loaded = false;                // served now
  bool active = false;                // answers unpinned calls now
  int64_t first_recorded_micros = 0;  // 0: not recorded (no audit store)
  // The sign-offs verified when it was loaded, as the audit store keeps
  // them.
  std::vector<RuleSetSignature> signatures;
  // Days it made decisions on (from the daily counts); -1 when none.
  int64_t first_day = -1, last_day = -1;
  int64_t decisions = 0;
};

struct VersionsView {
  std::vector<VersionEntry> versions;    // by id, newest version first
  std::vector<RuleSetEvent> events;      // newest first
  std::vector<RuleSetRefusal> refusals;  // of the last reload
  int64_t today = 0;                     // day number
  bool admin = false;                    // show the admin's buttons
};

// Fills `entry`'s metadata and change-log entry from the rule set's
// canonical content (its ruleset.json as stored); false when the content is
// not canonical rule-set JSON.
bool ReadVersionMetadata(const std::string& canonical_content,
                         VersionEntry& entry);

// The page, and its parts (for the static report).
PageParts VersionsParts(const VersionsView& view);
std::string VersionsPage(const VersionsView& view);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_VERSIONS_PAGE_H_
