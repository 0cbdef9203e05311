#include "service/web/html.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "service/web/assets.h"

namespace reconnect::service::web {

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string AssetUrl(std::string_view name) {
  for (const EmbeddedAsset& a : EmbeddedAssets()) {
    if (a.name == name) {
      return absl::StrCat("/mdt/assets/", std::string(a.sha256.substr(0, 16)),
                          "/", std::string(a.name));
    }
  }
  return "";
}

std::string Page(const PageParts& parts) {
  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n"
      "<meta name=\"referrer\" content=\"no-referrer\">\n<title>",
      Escape(parts.title), "</title>\n");
  if (parts.self_contained) {
    for (const EmbeddedAsset& a : EmbeddedAssets()) {
      if (a.name == "mdt.css") {
        absl::StrAppend(&html, "<style>\n", std::string(a.bytes), "</style>\n");
      }
    }
  } else {
    absl::StrAppend(&html, "<link rel=\"icon\" href=\"", AssetUrl("icon.svg"),
                    "\" type=\"image/svg+xml\">\n<link rel=\"stylesheet\" "
                    "href=\"",
                    AssetUrl("mdt.css"), "\">\n");
  }
  if (!parts.script.empty() && !parts.self_contained) {
    absl::StrAppend(&html, "<script src=\"", AssetUrl(parts.script),
                    "\" defer></script>\n");
  }
  absl::StrAppend(
      &html,
      "</head>\n<body>\n<a class=\"skip\" href=\"#main\">Skip to the "
      "content</a>\n<header class=\"page\">\n",
      parts.nav_html, "\n<h1>", Escape(parts.heading), "</h1>\n",
      parts.header_html, "</header>\n<main id=\"main\">\n", parts.main_html,
      "</main>\n");
  if (!parts.footer_text.empty()) {
    absl::StrAppend(&html, "<footer class=\"print-only\">",
                    Escape(parts.footer_text), "</footer>\n");
  }
  absl::StrAppend(&html, "</body>\n</html>\n");
  return html;
}

std::string FormatTime(int64_t micros) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::FromUnixMicros(micros),
                          absl::UTCTimeZone());
}

std::string FormatDay(int64_t day) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(day * 86400),
                          absl::UTCTimeZone());
}

}  // namespace reconnect::service::web
