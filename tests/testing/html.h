#ifndef RECONNECT_TESTS_TESTING_HTML_H_
#define RECONNECT_TESTS_TESTING_HTML_H_

#include <cstddef>
#include <string>

namespace reconnect::testing_util {

// How many times `what` occurs in `text`, without overlaps: the marks of a
// chart, the rows of a table, as a page's HTML holds them.
inline size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_HTML_H_
