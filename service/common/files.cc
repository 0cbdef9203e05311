#include "service/common/files.h"

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

}  // namespace reconnect::service
