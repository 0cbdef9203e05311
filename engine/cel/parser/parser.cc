#include "engine/cel/parser/parser.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/cel/common/utf8.h"
#include "engine/cel/parser/lexer.h"

namespace reconnect::cel {
namespace {

using parser_internal::Token;
using parser_internal::TokenKind;

// Thrown only inside this file, to unwind the recursive descent on the first
// syntax error; Parse() catches it, so no exception leaves the parser.
struct SyntaxError {};

class Parser {
 public:
  Parser(const Source& source, const ParserOptions& options,
         std::vector<Token> tokens, std::vector<Issue>& issues)
      : source_(source),
        options_(options),
        tokens_(std::move(tokens)),
        issues_(issues) {}

  ExprPtr ParseAll() {
    ExprPtr e = ParseExpr();
    if (Cur().kind != TokenKind::kEnd) Fail(Cur().offset, Unexpected());
    return e;
  }

  int64_t next_id() const { return next_id_; }

 private:
  const Token& Cur() const { return tokens_[pos_]; }
  const Token& PeekTok(size_t ahead) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  bool At(TokenKind k) const { return Cur().kind == k; }
  bool Accept(TokenKind k) {
    if (!At(k)) return false;
    ++pos_;
    return true;
  }
  void Expect(TokenKind k, std::string_view what) {
    if (!Accept(k)) {
      Fail(Cur().offset, absl::StrCat("expected ", std::string(what),
                                      ", found ", Describe(Cur())));
    }
  }
  [[noreturn]] void Fail(int32_t offset, std::string message) {
    issues_.push_back({source_.PositionOf(offset), std::move(message)});
    throw SyntaxError{};
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kEnd:
        return "end of expression";
      case TokenKind::kIdent:
        return absl::StrCat("'", t.text, "'");
      case TokenKind::kString:
        return "string literal";
      case TokenKind::kBytes:
        return "bytes literal";
      case TokenKind::kInt:
      case TokenKind::kUint:
      case TokenKind::kDouble:
        return absl::StrCat("number '", t.text, "'");
      default:
        return "'" + PunctuationText(t.kind) + "'";
    }
  }
  static std::string PunctuationText(TokenKind k) {
    switch (k) {
      case TokenKind::kTrue:
        return "true";
      case TokenKind::kFalse:
        return "false";
      case TokenKind::kNull:
        return "null";
      case TokenKind::kIn:
        return "in";
      case TokenKind::kDot:
        return ".";
      case TokenKind::kComma:
        return ",";
      case TokenKind::kColon:
        return ":";
      case TokenKind::kQuestion:
        return "?";
      case TokenKind::kLParen:
        return "(";
      case TokenKind::kRParen:
        return ")";
      case TokenKind::kLBracket:
        return "[";
      case TokenKind::kRBracket:
        return "]";
      case TokenKind::kLBrace:
        return "{";
      case TokenKind::kRBrace:
        return "}";
      case TokenKind::kPlus:
        return "+";
      case TokenKind::kMinus:
        return "-";
      case TokenKind::kStar:
        return "*";
      case TokenKind::kSlash:
        return "/";
      case TokenKind::kPercent:
        return "%";
      case TokenKind::kNot:
        return "!";
      case TokenKind::kAnd:
        return "&&";
      case TokenKind::kOr:
        return "||";
      case TokenKind::kEq:
        return "==";
      case TokenKind::kNe:
        return "!=";
      case TokenKind::kLt:
        return "<";
      case TokenKind::kLe:
        return "<=";
      case TokenKind::kGt:
        return ">";
      case TokenKind::kGe:
        return ">=";
      default:
        return "?";
    }
  }
  std::string Unexpected() const {
    return absl::StrCat("syntax error: unexpected ", Describe(Cur()));
  }

  // --- node construction, with the node-count and depth limits ---

  ExprPtr NewExpr(ExprKind kind, int32_t offset) {
    if (++node_count_ > options_.max_nodes) {
      Fail(offset, absl::StrCat("expression has more than ", options_.max_nodes,
                                " nodes (limit max_nodes)"));
    }
    auto e = std::make_unique<Expr>();
    e->id = next_id_++;
    e->kind = kind;
    e->offset = offset;
    return e;
  }
  // Records the depth of a finished node and enforces max_depth.
  ExprPtr Finish(ExprPtr e, int child_depth) {
    const int d = child_depth + 1;
    if (d > options_.max_depth) {
      Fail(e->offset, absl::StrCat("expression nesting exceeds the maximum "
                                   "depth of ",
                                   options_.max_depth, " (limit max_depth)"));
    }
    depth_[e.get()] = d;
    return e;
  }
  int DepthOf(const ExprPtr& e) const {
    auto it = depth_.find(e.get());
    return it == depth_.end() ? 1 : it->second;
  }

  ExprPtr Call(std::string fn, int32_t offset, std::vector<ExprPtr> args,
               ExprPtr target = nullptr) {
    int d = target ? DepthOf(target) : 0;
    for (const auto& a : args) d = std::max(d, DepthOf(a));
    ExprPtr e = NewExpr(ExprKind::kCall, offset);
    e->name = std::move(fn);
    e->operand = std::move(target);
    e->args = std::move(args);
    return Finish(std::move(e), d);
  }
  ExprPtr Binary(std::string fn, int32_t offset, ExprPtr l, ExprPtr r) {
    std::vector<ExprPtr> args;
    args.push_back(std::move(l));
    args.push_back(std::move(r));
    return Call(std::move(fn), offset, std::move(args));
  }

  // Scope guard for the recursion of the descent itself.
  struct DepthGuard {
    Parser* p;
    DepthGuard(Parser* parser, int32_t offset) : p(parser) {
      if (++p->recursion_ > p->options_.max_depth) {
        p->Fail(offset,
                absl::StrCat("expression nesting exceeds the maximum depth of ",
                             p->options_.max_depth, " (limit max_depth)"));
      }
    }
    ~DepthGuard() { --p->recursion_; }
  };

  // --- grammar ---

  ExprPtr ParseExpr() {
    DepthGuard guard(this, Cur().offset);
    ExprPtr cond = ParseLogical(TokenKind::kOr, "_||_");
    if (!At(TokenKind::kQuestion)) return cond;
    const int32_t off = Cur().offset;
    ++pos_;
    ExprPtr a = ParseLogical(TokenKind::kOr, "_||_");
    Expect(TokenKind::kColon, "':'");
    ExprPtr b = ParseExpr();
    std::vector<ExprPtr> args;
    args.push_back(std::move(cond));
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    return Call("_?_:_", off, std::move(args));
  }

  // && and || chains are built balanced, so a long chain of conditions stays
  // shallow; both operators are associative in CEL.
  ExprPtr ParseLogical(TokenKind op, const char* fn) {
    std::vector<ExprPtr> terms;
    std::vector<int32_t> offsets;
    terms.push_back(op == TokenKind::kOr ? ParseLogical(TokenKind::kAnd, "_&&_")
                                         : ParseRelation());
    while (At(op)) {
      offsets.push_back(Cur().offset);
      ++pos_;
      terms.push_back(op == TokenKind::kOr
                          ? ParseLogical(TokenKind::kAnd, "_&&_")
                          : ParseRelation());
    }
    if (terms.size() == 1) return std::move(terms[0]);
    return Balance(fn, terms, offsets, 0, terms.size());
  }
  ExprPtr Balance(const char* fn, std::vector<ExprPtr>& terms,
                  const std::vector<int32_t>& offsets, size_t lo, size_t hi) {
    if (hi - lo == 1) return std::move(terms[lo]);
    const size_t mid = (lo + hi) / 2;
    ExprPtr l = Balance(fn, terms, offsets, lo, mid);
    ExprPtr r = Balance(fn, terms, offsets, mid, hi);
    return Binary(fn, offsets[mid - 1], std::move(l), std::move(r));
  }

  ExprPtr ParseRelation() {
    ExprPtr e = ParseAddition();
    while (true) {
      const char* fn = nullptr;
      switch (Cur().kind) {
        case TokenKind::kLt:
          fn = "_<_";
          break;
        case TokenKind::kLe:
          fn = "_<=_";
          break;
        case TokenKind::kGt:
          fn = "_>_";
          break;
        case TokenKind::kGe:
          fn = "_>=_";
          break;
        case TokenKind::kEq:
          fn = "_==_";
          break;
        case TokenKind::kNe:
          fn = "_!=_";
          break;
        case TokenKind::kIn:
          fn = "@in";
          break;
        default:
          return e;
      }
      const int32_t off = Cur().offset;
      ++pos_;
      e = Binary(fn, off, std::move(e), ParseAddition());
    }
  }

  ExprPtr ParseAddition() {
    ExprPtr e = ParseMultiplication();
    while (At(TokenKind::kPlus) || At(TokenKind::kMinus)) {
      const char* fn = At(TokenKind::kPlus) ? "_+_" : "_-_";
      const int32_t off = Cur().offset;
      ++pos_;
      e = Binary(fn, off, std::move(e), ParseMultiplication());
    }
    return e;
  }

  ExprPtr ParseMultiplication() {
    ExprPtr e = ParseUnary();
    while (At(TokenKind::kStar) || At(TokenKind::kSlash) ||
           At(TokenKind::kPercent)) {
      const char* fn = At(TokenKind::kStar)    ? "_*_"
                       : At(TokenKind::kSlash) ? "_/_"
                                               : "_%_";
      const int32_t off = Cur().offset;
      ++pos_;
      e = Binary(fn, off, std::move(e), ParseUnary());
    }
    return e;
  }

  ExprPtr ParseUnary() {
    if (At(TokenKind::kNot)) {
      DepthGuard guard(this, Cur().offset);
      const int32_t off = Cur().offset;
      ++pos_;
      std::vector<ExprPtr> args;
      args.push_back(ParseUnary());
      return Call("!_", off, std::move(args));
    }
    if (At(TokenKind::kMinus)) {
      DepthGuard guard(this, Cur().offset);
      const int32_t off = Cur().offset;
      ++pos_;
      // A minus directly before an integer literal is part of the literal, so
      // that -9223372036854775808 is representable.
      if ((At(TokenKind::kInt) || At(TokenKind::kDouble)) &&
          !IsMemberContinuation(PeekTok(1).kind)) {
        ExprPtr lit = ParseLiteral(/*negate=*/true, off);
        return lit;
      }
      std::vector<ExprPtr> args;
      args.push_back(ParseUnary());
      return Call("-_", off, std::move(args));
    }
    return ParseMember();
  }
  static bool IsMemberContinuation(TokenKind k) {
    return k == TokenKind::kDot || k == TokenKind::kLBracket ||
           k == TokenKind::kLParen;
  }

  ExprPtr ParseMember() {
    ExprPtr e = ParsePrimary();
    while (true) {
      if (At(TokenKind::kDot)) {
        const int32_t off = Cur().offset;
        ++pos_;
        const bool quoted = At(TokenKind::kQuotedIdent);
        if (!At(TokenKind::kIdent) && !quoted) {
          Fail(Cur().offset, absl::StrCat("expected a field or method name "
                                          "after '.', found ",
                                          Describe(Cur())));
        }
        std::string name = Cur().text;
        ++pos_;
        if (At(TokenKind::kLParen) && !quoted) {
          // A call sits at its '(', as in cel-go, so that positions agree.
          const int32_t call_off = Cur().offset;
          ++pos_;
          std::vector<ExprPtr> args = ParseArgs(TokenKind::kRParen, "')'");
          e = ReceiverCall(std::move(name), call_off, std::move(e),
                           std::move(args));
        } else {
          const int d = DepthOf(e);
          ExprPtr s = NewExpr(ExprKind::kSelect, off);
          s->name = std::move(name);
          s->operand = std::move(e);
          e = Finish(std::move(s), d);
        }
      } else if (At(TokenKind::kLBracket)) {
        const int32_t off = Cur().offset;
        ++pos_;
        ExprPtr index = ParseExpr();
        Expect(TokenKind::kRBracket, "']'");
        e = Binary("_[_]", off, std::move(e), std::move(index));
      } else if (At(TokenKind::kLBrace) && IsQualifiedName(*e)) {
        e = ParseStruct(std::move(e));
      } else {
        return e;
      }
    }
  }

  // Whether `e` is an identifier or a chain of field selections on one:
  // the form a message name takes in `pkg.Msg{...}`.
  bool IsQualifiedName(const Expr& e) const {
    if (e.kind == ExprKind::kIdent) return true;
    return e.kind == ExprKind::kSelect && !e.test_only &&
           IsQualifiedName(*e.operand);
  }
  static std::string QualifiedName(const Expr& e) {
    if (e.kind == ExprKind::kIdent) return e.name;
    return QualifiedName(*e.operand) + "." + e.name;
  }

  ExprPtr ParseStruct(ExprPtr name_expr) {
    const int32_t off = Cur().offset;
    ++pos_;  // {
    ExprPtr s = NewExpr(ExprKind::kStruct, off);
    s->name = QualifiedName(*name_expr);
    int d = 0;
    while (!At(TokenKind::kRBrace)) {
      Entry entry;
      entry.optional = Accept(TokenKind::kQuestion);
      if (!At(TokenKind::kIdent) && !At(TokenKind::kQuotedIdent)) {
        Fail(Cur().offset,
             absl::StrCat("expected a field name, found ", Describe(Cur())));
      }
      entry.field = Cur().text;
      entry.offset = Cur().offset;
      entry.id = next_id_++;
      ++pos_;
      Expect(TokenKind::kColon, "':'");
      entry.value = ParseExpr();
      d = std::max(d, DepthOf(entry.value));
      s->entries.push_back(std::move(entry));
      if (!Accept(TokenKind::kComma)) break;
    }
    Expect(TokenKind::kRBrace, "'}'");
    return Finish(std::move(s), d);
  }

  std::vector<ExprPtr> ParseArgs(TokenKind close, std::string_view what) {
    std::vector<ExprPtr> args;
    if (Accept(close)) return args;
    while (true) {
      args.push_back(ParseExpr());
      if (Accept(close)) return args;
      if (close == TokenKind::kRBracket && Accept(TokenKind::kComma)) {
        if (Accept(close)) return args;  // trailing comma in lists
        continue;
      }
      Expect(TokenKind::kComma, absl::StrCat("',' or ", std::string(what)));
    }
  }

  ExprPtr ReceiverCall(std::string name, int32_t off, ExprPtr target,
                       std::vector<ExprPtr> args) {
    if (options_.proto_extension_macros && target->kind == ExprKind::kIdent &&
        target->name == "proto" && (name == "getExt" || name == "hasExt") &&
        args.size() == 2) {
      return ExtensionMacro(name == "hasExt", std::move(args));
    }
    std::optional<MacroKind> macro;
    if (name == "all" && args.size() == 2) macro = MacroKind::kAll;
    if (name == "exists" && args.size() == 2) macro = MacroKind::kExists;
    if (name == "exists_one" && args.size() == 2) macro = MacroKind::kExistsOne;
    if (name == "map" && args.size() == 2) macro = MacroKind::kMap;
    if (name == "map" && args.size() == 3) macro = MacroKind::kMapFilter;
    if (name == "filter" && args.size() == 2) macro = MacroKind::kFilter;
    if (name == "existsOne" && args.size() == 2) macro = MacroKind::kExistsOne;
    if (name == "all" && args.size() == 3) macro = MacroKind::kAll2;
    if (name == "exists" && args.size() == 3) macro = MacroKind::kExists2;
    if ((name == "existsOne" || name == "exists_one") && args.size() == 3) {
      macro = MacroKind::kExistsOne2;
    }
    if (name == "transformList" && args.size() == 3)
      macro = MacroKind::kTransformList;
    if (name == "transformList" && args.size() == 4)
      macro = MacroKind::kTransformListFilter;
    if (name == "transformMap" && args.size() == 3)
      macro = MacroKind::kTransformMap;
    if (name == "transformMap" && args.size() == 4)
      macro = MacroKind::kTransformMapFilter;
    if (!macro)
      return Call(std::move(name), off, std::move(args), std::move(target));
    if (args[0]->kind != ExprKind::kIdent) {
      Fail(args[0]->offset,
           absl::StrCat(name,
                        "() macro: the first argument must be a simple "
                        "variable name"));
    }
    const size_t vars = IsTwoVariableMacro(*macro) ? 2 : 1;
    if (vars == 2 && args[1]->kind != ExprKind::kIdent) {
      Fail(args[1]->offset,
           absl::StrCat(name,
                        "() macro: the second argument must be a simple "
                        "variable name"));
    }
    // CEL's comprehensions keep their result in `__result__`; a variable of
    // that name would overwrite it.
    for (size_t i = 0; i < vars; ++i) {
      if (args[i]->kind == ExprKind::kIdent && args[i]->name == "__result__") {
        Fail(args[i]->offset,
             absl::StrCat(name,
                          "() macro: iteration variable overwrites the "
                          "accumulator variable '__result__'"));
      }
    }
    int d = DepthOf(target);
    for (size_t i = vars; i < args.size(); ++i)
      d = std::max(d, DepthOf(args[i]));
    ExprPtr c = NewExpr(ExprKind::kComprehension, off);
    c->macro = *macro;
    c->iter_var = args[0]->name;
    if (vars == 2) c->iter_var2 = args[1]->name;
    c->range = std::move(target);
    for (size_t i = vars; i < args.size(); ++i)
      c->args.push_back(std::move(args[i]));
    return Finish(std::move(c), d);
  }

  ExprPtr ParsePrimary() {
    const Token& t = Cur();
    const int32_t off = t.offset;
    switch (t.kind) {
      case TokenKind::kInt:
      case TokenKind::kUint:
      case TokenKind::kDouble:
      case TokenKind::kString:
      case TokenKind::kBytes:
      case TokenKind::kTrue:
      case TokenKind::kFalse:
      case TokenKind::kNull:
        return ParseLiteral(/*negate=*/false, off);
      case TokenKind::kLParen: {
        ++pos_;
        ExprPtr e = ParseExpr();
        Expect(TokenKind::kRParen, "')'");
        return e;
      }
      case TokenKind::kLBracket: {
        ++pos_;
        std::vector<ExprPtr> elems = ParseArgs(TokenKind::kRBracket, "']'");
        int d = 0;
        for (const auto& x : elems) d = std::max(d, DepthOf(x));
        ExprPtr e = NewExpr(ExprKind::kList, off);
        e->args = std::move(elems);
        return Finish(std::move(e), d);
      }
      case TokenKind::kLBrace:
        return ParseMap();
      case TokenKind::kDot:
      case TokenKind::kIdent: {
        std::string name;
        if (Accept(TokenKind::kDot)) {
          name = ".";
          if (!At(TokenKind::kIdent)) {
            Fail(Cur().offset, absl::StrCat("expected an identifier after "
                                            "'.', found ",
                                            Describe(Cur())));
          }
        }
        if (parser_internal::IsReservedWord(Cur().text)) {
          Fail(Cur().offset,
               absl::StrCat("reserved identifier '", Cur().text, "'"));
        }
        name += Cur().text;
        ++pos_;
        if (At(TokenKind::kLParen)) {
          const int32_t call_off = Cur().offset;
          ++pos_;
          std::vector<ExprPtr> args = ParseArgs(TokenKind::kRParen, "')'");
          if (name == "has") return HasMacro(call_off, std::move(args));
          return Call(std::move(name), call_off, std::move(args));
        }
        ExprPtr e = NewExpr(ExprKind::kIdent, off);
        e->name = std::move(name);
        return Finish(std::move(e), 0);
      }
      default:
        Fail(off, Unexpected());
    }
  }

  // proto.getExt(m, pkg.ext) is m.`pkg.ext`; proto.hasExt, has() of it.
  ExprPtr ExtensionMacro(bool test_only, std::vector<ExprPtr> args) {
    if (!IsQualifiedName(*args[1])) {
      Fail(args[1]->offset,
           absl::StrCat("proto.", test_only ? "hasExt" : "getExt",
                        "() macro: the second argument must be the qualified "
                        "name of an extension field"));
    }
    ExprPtr e = NewExpr(ExprKind::kSelect, args[1]->offset);
    e->name = QualifiedName(*args[1]);
    e->test_only = test_only;
    const int d = DepthOf(args[0]);
    e->operand = std::move(args[0]);
    return Finish(std::move(e), d);
  }

  ExprPtr HasMacro(int32_t off, std::vector<ExprPtr> args) {
    if (args.size() != 1 || args[0]->kind != ExprKind::kSelect) {
      Fail(args.size() == 1 ? args[0]->offset : off,
           "has() macro: the argument must be a field selection, e.g. "
           "has(a.b)");
    }
    ExprPtr e = std::move(args[0]);
    e->test_only = true;
    return e;
  }

  ExprPtr ParseMap() {
    const int32_t off = Cur().offset;
    ++pos_;  // {
    ExprPtr m = NewExpr(ExprKind::kMap, off);
    int d = 0;
    while (!At(TokenKind::kRBrace)) {
      Entry entry;
      entry.optional = Accept(TokenKind::kQuestion);
      entry.offset = Cur().offset;
      entry.id = next_id_++;
      entry.key = ParseExpr();
      Expect(TokenKind::kColon, "':'");
      entry.value = ParseExpr();
      d = std::max({d, DepthOf(entry.key), DepthOf(entry.value)});
      m->entries.push_back(std::move(entry));
      if (!Accept(TokenKind::kComma)) break;
    }
    Expect(TokenKind::kRBrace, "'}'");
    return Finish(std::move(m), d);
  }

  ExprPtr ParseLiteral(bool negate, int32_t off) {
    const Token t = Cur();
    ++pos_;
    ExprPtr e = NewExpr(ExprKind::kConstant, off);
    switch (t.kind) {
      case TokenKind::kInt: {
        const std::string text = (negate ? "-" : "") + t.text;
        int64_t v = 0;
        bool ok;
        const bool hex =
            t.text.size() > 2 && (t.text[1] == 'x' || t.text[1] == 'X');
        if (hex) {
          uint64_t u = 0;
          ok = absl::SimpleHexAtoi(t.text.substr(2), &u);
          if (ok && negate) {
            ok = u <=
                 static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1;
            v = static_cast<int64_t>(0 - u);
          } else if (ok) {
            ok =
                u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
            v = static_cast<int64_t>(u);
          }
        } else {
          ok = absl::SimpleAtoi(text, &v);
        }
        if (!ok)
          Fail(off, absl::StrCat("integer literal out of range: ", text));
        e->constant = v;
        break;
      }
      case TokenKind::kUint: {
        uint64_t v = 0;
        const bool hex =
            t.text.size() > 2 && (t.text[1] == 'x' || t.text[1] == 'X');
        const bool ok = hex ? absl::SimpleHexAtoi(t.text.substr(2), &v)
                            : absl::SimpleAtoi(t.text, &v);
        if (!ok) {
          Fail(off, absl::StrCat("unsigned integer literal out of range: ",
                                 t.text, "u"));
        }
        e->constant = v;
        break;
      }
      case TokenKind::kDouble: {
        const std::string text = (negate ? "-" : "") + t.text;
        errno = 0;
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (end != text.c_str() + text.size()) {
          Fail(off, absl::StrCat("malformed double literal: ", text));
        } else if (std::isinf(v)) {
          Fail(off, absl::StrCat("double literal out of range: ", text));
        }
        e->constant = v;
        break;
      }
      case TokenKind::kString:
        e->constant = t.text;
        break;
      case TokenKind::kBytes:
        e->constant = BytesConstant{t.text};
        break;
      case TokenKind::kTrue:
        e->constant = true;
        break;
      case TokenKind::kFalse:
        e->constant = false;
        break;
      default:
        e->constant = NullConstant{};
        break;
    }
    return Finish(std::move(e), 0);
  }

  const Source& source_;
  const ParserOptions& options_;
  std::vector<Token> tokens_;
  std::vector<Issue>& issues_;
  size_t pos_ = 0;
  int64_t next_id_ = 1;
  int32_t node_count_ = 0;
  int recursion_ = 0;
  absl::flat_hash_map<const Expr*, int> depth_;
};

}  // namespace

ParseResult Parse(const Source& source, const ParserOptions& options) {
  ParseResult result;
  if (!IsValidUtf8(source.text())) {
    result.issues.push_back({{1, 1}, "expression is not valid UTF-8"});
    return result;
  }
  if (CountCodePoints(source.text()) > options.max_code_points) {
    result.issues.push_back(
        {{1, 1},
         absl::StrCat("expression is longer than ", options.max_code_points,
                      " code points (limit max_code_points)")});
    return result;
  }
  std::vector<Issue> lex_issues;
  std::vector<parser_internal::Token> tokens =
      parser_internal::Lex(source, lex_issues);
  Parser parser(source, options, std::move(tokens), result.issues);
  try {
    result.expr = parser.ParseAll();
  } catch (const SyntaxError&) {
    result.expr = nullptr;
  }
  result.next_id = parser.next_id();
  if (!lex_issues.empty()) {
    // The tokens lack what could not be lexed, so a syntax error after the
    // first bad character may be an echo of it; one before it is real and
    // comes first, so that the first error is the leftmost.
    auto before = [](const Issue& a, const Issue& b) {
      return a.position.line != b.position.line
                 ? a.position.line < b.position.line
                 : a.position.column < b.position.column;
    };
    std::vector<Issue> issues;
    if (!result.issues.empty() &&
        before(result.issues.front(), lex_issues.front())) {
      issues.push_back(std::move(result.issues.front()));
    }
    for (auto& i : lex_issues) issues.push_back(std::move(i));
    result.issues = std::move(issues);
    result.expr = nullptr;
  }
  return result;
}

}  // namespace reconnect::cel
