#include "service/common/files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace reconnect::service {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                          const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " '", path, "' cannot be read"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string FileFingerprint(const std::string& path) {
  if (path.empty()) return "";
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  const auto time = std::filesystem::last_write_time(path, ec);
  return absl::StrCat(path, ":", ec ? 0 : size, ":",
                      ec ? 0 : time.time_since_epoch().count());
}

}  // namespace reconnect::service
