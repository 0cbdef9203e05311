#ifndef RECONNECT_SERVICE_WEB_ASSETS_H_
#define RECONNECT_SERVICE_WEB_ASSETS_H_

// The pages' stylesheets and scripts, embedded in the binary at build time
// (service/web/assets/, by embed_assets.cmake): the pages work with no
// network beyond the service itself.

#include <span>
#include <string_view>

namespace reconnect::service::web {

struct EmbeddedAsset {
  std::string_view name;          // "mdt.css"
  std::string_view content_type;  // "text/css; charset=utf-8"
  std::string_view bytes;
  std::string_view sha256;  // hex, of `bytes`
};

std::span<const EmbeddedAsset> EmbeddedAssets();

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_ASSETS_H_
