#include "engine/cel/parser/lexer.h"

#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace reconnect::cel::parser_internal {
namespace {

constexpr std::array<std::string_view, 17> kReservedWords = {
    "as",        "break",  "const",  "continue", "else", "for",
    "function",  "if",     "import", "let",      "loop", "package",
    "namespace", "return", "var",    "void",     "while"};

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  Lexer(const Source& source, std::vector<Issue>& issues)
      : source_(source), text_(source.text()), issues_(issues) {}

  std::vector<Token> Run() {
    std::vector<Token> tokens;
    while (true) {
      SkipSpaceAndComments();
      Token t;
      t.offset = cp_;
      if (pos_ >= text_.size()) {
        t.kind = TokenKind::kEnd;
        tokens.push_back(std::move(t));
        return tokens;
      }
      if (!Next(t)) continue;
      tokens.push_back(std::move(t));
    }
  }

 private:
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  // Advances one code point.
  void Advance() {
    if (pos_ >= text_.size()) return;
    ++pos_;
    while (pos_ < text_.size() &&
           (static_cast<unsigned char>(text_[pos_]) & 0xC0) == 0x80) {
      ++pos_;
    }
    ++cp_;
  }
  void Error(int32_t offset, std::string message) {
    issues_.push_back({source_.PositionOf(offset), std::move(message)});
  }

  void SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      const char c = Peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        Advance();
      } else if (c == '/' && Peek(1) == '/') {
        while (pos_ < text_.size() && Peek() != '\n' && Peek() != '\r') {
          Advance();
        }
      } else {
        return;
      }
    }
  }

  bool Next(Token& t) {
    const char c = Peek();
    if (absl::ascii_isdigit(c) || (c == '.' && absl::ascii_isdigit(Peek(1)))) {
      LexNumber(t);
      return true;
    }
    if (c == '"' || c == '\'') {
      t.kind = TokenKind::kString;
      LexString(t, /*raw=*/false, /*bytes=*/false);
      return true;
    }
    if ((c == 'r' || c == 'R' || c == 'b' || c == 'B') &&
        (Peek(1) == '"' || Peek(1) == '\'' ||
         ((Peek(1) == 'r' || Peek(1) == 'R' || Peek(1) == 'b' ||
           Peek(1) == 'B') &&
          (Peek(2) == '"' || Peek(2) == '\'') &&
          absl::ascii_tolower(Peek(1)) != absl::ascii_tolower(c)))) {
      bool raw = false, bytes = false;
      while (Peek() != '"' && Peek() != '\'') {
        if (absl::ascii_tolower(Peek()) == 'r') raw = true;
        if (absl::ascii_tolower(Peek()) == 'b') bytes = true;
        Advance();
      }
      t.kind = bytes ? TokenKind::kBytes : TokenKind::kString;
      LexString(t, raw, bytes);
      return true;
    }
    if (absl::ascii_isalpha(c) || c == '_') {
      const size_t start = pos_;
      while (absl::ascii_isalnum(Peek()) || Peek() == '_') Advance();
      t.text = text_.substr(start, pos_ - start);
      if (t.text == "true") {
        t.kind = TokenKind::kTrue;
      } else if (t.text == "false") {
        t.kind = TokenKind::kFalse;
      } else if (t.text == "null") {
        t.kind = TokenKind::kNull;
      } else if (t.text == "in") {
        t.kind = TokenKind::kIn;
      } else {
        // Reserved words are identifiers here; the parser refuses them
        // only where CEL does (not as field or method names).
        t.kind = TokenKind::kIdent;
      }
      return true;
    }
    if (c == '`') return LexQuotedIdentifier(t);
    return LexPunctuation(t);
  }

  // A field name in backticks, e.g. a.`content-type`.
  bool LexQuotedIdentifier(Token& t) {
    Advance();
    const size_t start = pos_;
    while (pos_ < text_.size() && Peek() != '`' && Peek() != '\n' &&
           Peek() != '\r') {
      Advance();
    }
    if (Peek() != '`') {
      Error(t.offset, "unterminated quoted identifier");
      pos_ = text_.size();
      return false;
    }
    t.text = text_.substr(start, pos_ - start);
    Advance();
    if (t.text.empty()) {
      Error(t.offset, "empty quoted identifier");
      return false;
    }
    // CEL allows letters, digits and _ . - / and space between backticks.
    for (const char ch : t.text) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) &&
          std::string_view("_.-/ ").find(ch) == std::string_view::npos) {
        Error(t.offset,
              absl::StrCat("invalid character in quoted identifier: '",
                           std::string(1, ch), "'"));
        return false;
      }
    }
    t.kind = TokenKind::kQuotedIdent;
    return true;
  }

  bool LexPunctuation(Token& t) {
    const char c = Peek();
    const char n = Peek(1);
    auto two = [&](TokenKind k) {
      Advance();
      Advance();
      t.kind = k;
      return true;
    };
    auto one = [&](TokenKind k) {
      Advance();
      t.kind = k;
      return true;
    };
    switch (c) {
      case '.':
        return one(TokenKind::kDot);
      case ',':
        return one(TokenKind::kComma);
      case ':':
        return one(TokenKind::kColon);
      case '?':
        return one(TokenKind::kQuestion);
      case '(':
        return one(TokenKind::kLParen);
      case ')':
        return one(TokenKind::kRParen);
      case '[':
        return one(TokenKind::kLBracket);
      case ']':
        return one(TokenKind::kRBracket);
      case '{':
        return one(TokenKind::kLBrace);
      case '}':
        return one(TokenKind::kRBrace);
      case '+':
        return one(TokenKind::kPlus);
      case '-':
        return one(TokenKind::kMinus);
      case '*':
        return one(TokenKind::kStar);
      case '/':
        return one(TokenKind::kSlash);
      case '%':
        return one(TokenKind::kPercent);
      case '!':
        return n == '=' ? two(TokenKind::kNe) : one(TokenKind::kNot);
      case '<':
        return n == '=' ? two(TokenKind::kLe) : one(TokenKind::kLt);
      case '>':
        return n == '=' ? two(TokenKind::kGe) : one(TokenKind::kGt);
      case '=':
        if (n == '=') return two(TokenKind::kEq);
        break;
      case '&':
        if (n == '&') return two(TokenKind::kAnd);
        break;
      case '|':
        if (n == '|') return two(TokenKind::kOr);
        break;
      default:
        break;
    }
    const size_t start = pos_;
    Advance();
    Error(t.offset, absl::StrCat("unexpected character '",
                                 text_.substr(start, pos_ - start), "'"));
    return false;
  }

  void LexNumber(Token& t) {
    const size_t start = pos_;
    if (Peek() == '0' && (Peek(1) == 'x' || Peek(1) == 'X')) {
      Advance();
      Advance();
      const size_t digits = pos_;
      while (HexValue(Peek()) >= 0) Advance();
      if (pos_ == digits) Error(t.offset, "hexadecimal literal has no digits");
      t.text = text_.substr(start, pos_ - start);
      t.kind = TokenKind::kInt;
    } else {
      bool is_double = false;
      while (absl::ascii_isdigit(Peek())) Advance();
      if (Peek() == '.' && absl::ascii_isdigit(Peek(1))) {
        is_double = true;
        Advance();
        while (absl::ascii_isdigit(Peek())) Advance();
      }
      if (Peek() == 'e' || Peek() == 'E') {
        size_t ahead = 1;
        if (Peek(1) == '+' || Peek(1) == '-') ahead = 2;
        if (absl::ascii_isdigit(Peek(ahead))) {
          is_double = true;
          for (size_t i = 0; i < ahead; ++i) Advance();
          while (absl::ascii_isdigit(Peek())) Advance();
        }
      }
      t.text = text_.substr(start, pos_ - start);
      t.kind = is_double ? TokenKind::kDouble : TokenKind::kInt;
    }
    if (t.kind == TokenKind::kInt && (Peek() == 'u' || Peek() == 'U')) {
      Advance();
      t.kind = TokenKind::kUint;
    }
    if (absl::ascii_isalpha(Peek()) || Peek() == '_') {
      Error(cp_, "malformed number literal");
      while (absl::ascii_isalnum(Peek()) || Peek() == '_') Advance();
    }
  }

  // Lexes a quoted literal at pos_, decoding escapes unless raw.
  void LexString(Token& t, bool raw, bool bytes) {
    const char quote = Peek();
    const bool triple = Peek(1) == quote && Peek(2) == quote;
    const int32_t open = cp_;
    for (int i = 0; i < (triple ? 3 : 1); ++i) Advance();
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) {
        Error(open, "unterminated string literal");
        break;
      }
      const char c = Peek();
      if (c == quote && (!triple || (Peek(1) == quote && Peek(2) == quote))) {
        for (int i = 0; i < (triple ? 3 : 1); ++i) Advance();
        break;
      }
      if (!triple && (c == '\n' || c == '\r')) {
        Error(open, "unterminated string literal (newline in string)");
        // Stop here: whatever follows would only produce confusing errors.
        pos_ = text_.size();
        break;
      }
      if (c == '\\' && !raw) {
        LexEscape(out, bytes, t.offset);
        continue;
      }
      const size_t start = pos_;
      Advance();
      out.append(text_, start, pos_ - start);
    }
    t.text = std::move(out);
  }

  // An escape error is reported at the start of its literal, as cel-go
  // does, and quotes the offending escape.
  void LexEscape(std::string& out, bool bytes, int32_t literal) {
    const size_t escape_start = pos_;
    // `through_current`: the escape ends with the character at pos_.
    auto fail = [&](std::string_view what, bool through_current = true) {
      const size_t end =
          std::min(pos_ + (through_current ? 1 : 0), text_.size());
      Error(literal, absl::StrCat(std::string(what), ": '",
                                  std::string(text_.substr(escape_start,
                                                           end - escape_start)),
                                  "'"));
    };
    Advance();  // the backslash
    const char c = Peek();
    auto simple = [&](char v) {
      Advance();
      out.push_back(v);
    };
    switch (c) {
      case 'a':
        return simple('\a');
      case 'b':
        return simple('\b');
      case 'f':
        return simple('\f');
      case 'n':
        return simple('\n');
      case 'r':
        return simple('\r');
      case 't':
        return simple('\t');
      case 'v':
        return simple('\v');
      case '\\':
        return simple('\\');
      case '?':
        return simple('?');
      case '"':
        return simple('"');
      case '\'':
        return simple('\'');
      case '`':
        return simple('`');
      default:
        break;
    }
    if (c == 'x' || c == 'X' || c == 'u' || c == 'U') {
      const int n = (c == 'x' || c == 'X') ? 2 : (c == 'u' ? 4 : 8);
      Advance();
      uint32_t v = 0;
      for (int i = 0; i < n; ++i) {
        const int h = HexValue(Peek());
        if (h < 0) {
          fail("invalid escape sequence: expected hexadecimal digits");
          return;
        }
        v = v * 16 + static_cast<uint32_t>(h);
        Advance();
      }
      if (n == 2) {
        if (bytes) {
          out.push_back(static_cast<char>(v));
        } else {
          AppendUtf8(v, out);
        }
        return;
      }
      if (bytes) {
        fail("\\u and \\U escapes are not allowed in bytes literals", false);
        return;
      }
      if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        fail("invalid escape sequence: not a Unicode scalar value", false);
        return;
      }
      AppendUtf8(v, out);
      return;
    }
    if (c >= '0' && c <= '3') {
      uint32_t v = 0;
      for (int i = 0; i < 3; ++i) {
        const char d = Peek();
        if (d < '0' || d > '7') {
          fail("invalid escape sequence: expected three octal digits");
          return;
        }
        v = v * 8 + static_cast<uint32_t>(d - '0');
        Advance();
      }
      if (bytes) {
        out.push_back(static_cast<char>(v));
      } else {
        AppendUtf8(v, out);
      }
      return;
    }
    fail("invalid escape sequence");
    if (pos_ < text_.size()) Advance();
  }

  const Source& source_;
  const std::string& text_;
  std::vector<Issue>& issues_;
  size_t pos_ = 0;
  int32_t cp_ = 0;
};

}  // namespace

bool IsReservedWord(std::string_view word) {
  for (std::string_view w : kReservedWords) {
    if (word == w) return true;
  }
  return false;
}

std::vector<Token> Lex(const Source& source, std::vector<Issue>& issues) {
  return Lexer(source, issues).Run();
}

}  // namespace reconnect::cel::parser_internal
