#ifndef RECONNECT_ENGINE_CEL_COMMON_UTF8_H_
#define RECONNECT_ENGINE_CEL_COMMON_UTF8_H_

#include <cstdint>
#include <string_view>

namespace reconnect::cel {

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing
// past U+10FFFF). CEL strings are sequences of Unicode code points.
bool IsValidUtf8(std::string_view s);

// The number of code points in `s`, which must be valid UTF-8.
int64_t CountCodePoints(std::string_view s);

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_COMMON_UTF8_H_
