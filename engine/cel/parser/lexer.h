#ifndef RECONNECT_ENGINE_CEL_PARSER_LEXER_H_
#define RECONNECT_ENGINE_CEL_PARSER_LEXER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cel/common/source.h"

namespace reconnect::cel::parser_internal {

enum class TokenKind : uint8_t {
  kEnd,
  kIdent,
  kQuotedIdent,  // `field-name`: text holds the name without backticks
  kInt,          // text holds the digits (decimal or 0x-hex), without sign
  kUint,         // as kInt, suffix removed
  kDouble,       // text holds the literal
  kString,       // text holds the decoded value
  kBytes,        // text holds the decoded value
  kTrue,
  kFalse,
  kNull,
  kIn,
  // punctuation
  kDot,
  kComma,
  kColon,
  kQuestion,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kNot,
  kAnd,
  kOr,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  int32_t offset = 0;  // code points
};

// Splits CEL source into tokens, decoding string and bytes literals. Problems
// (bad characters, bad escapes, unterminated strings, reserved words) are
// appended to `issues`; lexing continues past them where it can.
std::vector<Token> Lex(const Source& source, std::vector<Issue>& issues);

// Whether `word` is one of CEL's reserved words (as, break, const, ...),
// which cannot name a variable or a global function.
bool IsReservedWord(std::string_view word);

}  // namespace reconnect::cel::parser_internal

#endif  // RECONNECT_ENGINE_CEL_PARSER_LEXER_H_
