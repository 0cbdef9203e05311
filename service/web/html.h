#ifndef RECONNECT_SERVICE_WEB_HTML_H_
#define RECONNECT_SERVICE_WEB_HTML_H_

// What every page is built from: escaping, the page frame (with its
// stylesheet and script from the embedded assets), and times for people.

#include <cstdint>
#include <string>
#include <string_view>

namespace reconnect::service::web {

// `text` made safe for element content and quoted attribute values.
std::string Escape(std::string_view text);

// The URL an embedded asset is served at: its name under the first 16 hex
// digits of its SHA-256, so that a new build's assets are new URLs and old
// ones may be cached for ever. Empty when no asset has that name.
std::string AssetUrl(std::string_view name);

// The links at the top of the MDT pages and of the governance pages.
inline constexpr char kMdtNav[] =
    "<nav aria-label=\"MDT\"><a href=\"/mdt\">Recent decisions</a></nav>";
inline constexpr char kGovernanceNav[] =
    "<nav aria-label=\"Governance\"><a href=\"/governance/versions\">Versions"
    "</a> <a href=\"/governance/diff\">Diff</a> <a "
    "href=\"/governance/trail\">Trail</a> <a href=\"/governance/rules\">Rules "
    "in practice</a> <a href=\"/governance/impact\">Impact</a></nav>";

struct PageParts {
  std::string title;    // the document's title (text)
  std::string heading;  // h1 (text)
  std::string nav_html = kMdtNav;
  std::string header_html;  // below the heading: facts about the page
  std::string main_html;
  std::string footer_text;  // printed at the foot of every printed page
  std::string script;  // an embedded script to load ("mdt.js"); empty: none
  // One self-contained file: the stylesheet inline, no icon or script.
  bool self_contained = false;
};

// A whole HTML document: no inline script or style, so that a strict
// Content-Security-Policy holds.
std::string Page(const PageParts& parts);

// "2026-12-01 10:15 UTC".
std::string FormatTime(int64_t micros);

// A day number (days since 1970-01-01, UTC) as "2026-12-01".
std::string FormatDay(int64_t day);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_HTML_H_
