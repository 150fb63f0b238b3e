// Lexer and recursive-descent parser of the expression language (docs/expressions.md):
// text -> Ast, every node carrying the byte offset errors about it point at.

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "core/expr_internal.h"
#include "core/text.h"

namespace weir::expr {

void fail(std::size_t offset, std::string message) {
  throw CompileFailure{ExprError{offset, std::move(message)}};
}

namespace {

// ---------------------------------------------------------------------------------------
// Lexer

enum class Tok { End, Int, Double, String, Ident, QuotedIdent, Symbol, Bad };

struct Token {
  Tok kind = Tok::End;
  std::size_t pos = 0;  // first byte
  std::size_t end = 0;  // one past the last byte
  std::string text;     // String/QuotedIdent: decoded; Symbol: the symbol; Bad: the message
};

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;  // UTF-8 letters in names
}
bool isIdentChar(char c) { return isIdentStart(c) || isDigit(c); }

std::string describeChar(char c) {
  if (c >= 0x21 && c < 0x7f) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "(byte 0x%02X)", static_cast<unsigned char>(c));
  return buf;
}

/// Splits the text into tokens; stops after the first bad one (the parser reports it when
/// it reaches it, so the leftmost problem is the one reported).
std::vector<Token> lex(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  const std::size_t n = s.size();
  auto bad = [&](std::size_t pos, std::string msg) {
    out.push_back(Token{Tok::Bad, pos, pos + 1, std::move(msg)});
  };
  while (true) {
    while (i < n && isSpace(s[i])) ++i;
    if (i >= n) break;
    const std::size_t start = i;
    const char c = s[i];
    if (isDigit(c) || (c == '.' && i + 1 < n && isDigit(s[i + 1]))) {
      bool isDouble = false;
      while (i < n && isDigit(s[i])) ++i;
      if (i < n && s[i] == '.') {
        isDouble = true;
        ++i;
        while (i < n && isDigit(s[i])) ++i;
      }
      if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        isDouble = true;
        ++i;
        if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
        const std::size_t digitsAt = i;
        while (i < n && isDigit(s[i])) ++i;
        if (i == digitsAt) {
          while (i < n && isIdentChar(s[i])) ++i;
          bad(start, "invalid number '" + std::string(s.substr(start, i - start)) + "'");
          return out;
        }
      }
      if (i < n && (isIdentChar(s[i]) || s[i] == '.')) {
        while (i < n && (isIdentChar(s[i]) || s[i] == '.')) ++i;
        bad(start, "invalid number '" + std::string(s.substr(start, i - start)) + "'");
        return out;
      }
      out.push_back(Token{isDouble ? Tok::Double : Tok::Int, start, i,
                          std::string(s.substr(start, i - start))});
      continue;
    }
    if (c == '\'' || c == '"') {
      // 'text' with '' for a quote; "name" with "" for a double quote.
      std::string text;
      ++i;
      bool closed = false;
      while (i < n) {
        if (s[i] == c) {
          if (i + 1 < n && s[i + 1] == c) {
            text += c;
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        text += s[i++];
      }
      if (!closed) {
        bad(start, c == '\'' ? "unterminated string literal" : "unterminated quoted name");
        return out;
      }
      if (c == '"' && text.empty()) {
        bad(start, "empty quoted name");
        return out;
      }
      out.push_back(Token{c == '\'' ? Tok::String : Tok::QuotedIdent, start, i, std::move(text)});
      continue;
    }
    if (isIdentStart(c)) {
      while (i < n && isIdentChar(s[i])) ++i;
      out.push_back(Token{Tok::Ident, start, i, std::string(s.substr(start, i - start))});
      continue;
    }
    auto two = [&](std::string_view sym) { return s.substr(i, 2) == sym; };
    std::string sym;
    if (two("<=") || two(">=") || two("<>") || two("!=") || two("||")) {
      sym = std::string(s.substr(i, 2));
    } else if (two("==")) {
      bad(start, "'==' is not an operator; use '='");
      return out;
    } else if (c == '|') {
      bad(start, "unexpected character '|' (use '||' to concatenate)");
      return out;
    } else if (std::string_view("()+-*/%=<>,").find(c) != std::string_view::npos) {
      sym = std::string(1, c);
    } else {
      bad(start, "unexpected character " + describeChar(c));
      return out;
    }
    i += sym.size();
    out.push_back(Token{Tok::Symbol, start, i, std::move(sym)});
  }
  out.push_back(Token{Tok::End, n, n, {}});
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Words that cannot be field names without quotes.
constexpr std::array<std::string_view, 17> kReserved = {
    "AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN", "LIKE", "CASE",
    "WHEN", "THEN", "ELSE", "END", "CAST", "AS", "TRUE", "FALSE"};

bool isReserved(std::string_view word) {
  for (auto k : kReserved)
    if (iequals(word, k)) return true;
  return false;
}

std::optional<Type> castTypeNamed(std::string_view name) {
  struct Alias { std::string_view name; Type type; };
  static constexpr Alias kAliases[] = {
      {"int64", Type::Int64},   {"bigint", Type::Int64},    {"int", Type::Int64},
      {"integer", Type::Int64}, {"long", Type::Int64},      {"double", Type::Double},
      {"float", Type::Double},  {"real", Type::Double},     {"float64", Type::Double},
      {"string", Type::String}, {"varchar", Type::String},  {"text", Type::String},
      {"bool", Type::Bool},     {"boolean", Type::Bool},    {"timestamp", Type::Timestamp}};
  for (const auto& a : kAliases)
    if (iequals(name, a.name)) return a.type;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Parser. Grammar (lowest precedence first):
//   expr       := or
//   or         := and (OR and)*
//   and        := not (AND not)*
//   not        := NOT not | predicate
//   predicate  := additive ( compOp additive | IS [NOT] NULL | [NOT] IN '(' expr, ... ')'
//                          | [NOT] BETWEEN additive AND additive
//                          | [NOT] LIKE additive [ESCAPE additive] )*
//   additive   := multiply (('+' | '-' | '||') multiply)*
//   multiply   := unary (('*' | '/' | '%') unary)*
//   unary      := ('-' | '+') unary | primary
//   primary    := number | string | TRUE | FALSE | NULL | name | "quoted name"
//               | name '(' [expr (',' expr)*] ')' | '(' expr ')'
//               | CASE [expr] (WHEN expr THEN expr)+ [ELSE expr] END
//               | CAST '(' expr AS typename ')'

// Recursion limits: kMaxDepth bounds the parser's own recursion (parentheses, prefix
// operators); kMaxHeight bounds the height of the tree (long left-leaning chains such as
// a + a + ... too), and so the recursion of the binder, the evaluator and the destructors.
constexpr int kMaxDepth = 200;
constexpr int kMaxHeight = 1000;

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens)
      : text_(text), toks_(std::move(tokens)) {}

  std::unique_ptr<Ast> parseAll() {
    auto e = parseOr();
    if (peek().kind != Tok::End) expected("end of expression", peek());
    return e;
  }

 private:
  using AstPtr = std::unique_ptr<Ast>;

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxDepth) fail(p_.peek().pos, "expression is nested too deeply");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  const Token& peek(std::size_t k = 0) {
    const std::size_t i = std::min(at_ + k, toks_.size() - 1);
    const Token& t = toks_[i];
    if (t.kind == Tok::Bad && k == 0) fail(t.pos, t.text);
    return t;
  }
  Token take() {
    Token t = peek();
    if (at_ < toks_.size() - 1) ++at_;
    return t;
  }
  static bool isKw(const Token& t, std::string_view kw) {
    return t.kind == Tok::Ident && iequals(t.text, kw);
  }
  static bool isSym(const Token& t, std::string_view sym) {
    return t.kind == Tok::Symbol && t.text == sym;
  }
  std::string describe(const Token& t) const {
    switch (t.kind) {
      case Tok::End: return "end of expression";
      case Tok::String: return "string " + std::string(text_.substr(t.pos, t.end - t.pos));
      default: return "'" + std::string(text_.substr(t.pos, t.end - t.pos)) + "'";
    }
  }
  [[noreturn]] void expected(std::string_view what, const Token& t) {
    fail(t.pos, "expected " + std::string(what) + " but found " + describe(t));
  }
  void expectSym(std::string_view sym) {
    if (!isSym(peek(), sym)) expected("'" + std::string(sym) + "'", peek());
    take();
  }
  void expectKw(std::string_view kw) {
    if (!isKw(peek(), kw)) expected(kw, peek());
    take();
  }

  static AstPtr node(AstKind kind, std::size_t pos, std::size_t begin) {
    auto a = std::make_unique<Ast>();
    a->kind = kind;
    a->pos = pos;
    a->begin = begin;
    return a;
  }
  /// Sets the height of a finished node from its kids; refuses trees that are too tall.
  static AstPtr seal(AstPtr a) {
    int h = 0;
    for (const auto& k : a->kids) h = std::max(h, k->height);
    a->height = h + 1;
    if (a->height > kMaxHeight) fail(a->pos, "expression is nested too deeply");
    return a;
  }
  static AstPtr binary(BinOp op, const Token& opTok, AstPtr l, AstPtr r) {
    auto a = node(AstKind::Binary, opTok.pos, l->begin);
    a->binOp = op;
    a->name = opTok.kind == Tok::Ident ? upper(opTok.text) : opTok.text;
    a->kids.push_back(std::move(l));
    a->kids.push_back(std::move(r));
    return seal(std::move(a));
  }
  static std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }

  AstPtr parseOr() {
    DepthGuard guard(*this);
    auto l = parseAnd();
    while (isKw(peek(), "OR")) {
      Token op = take();
      l = binary(BinOp::Or, op, std::move(l), parseAnd());
    }
    return l;
  }

  AstPtr parseAnd() {
    auto l = parseNot();
    while (isKw(peek(), "AND")) {
      Token op = take();
      l = binary(BinOp::And, op, std::move(l), parseNot());
    }
    return l;
  }

  AstPtr parseNot() {
    if (isKw(peek(), "NOT")) {
      DepthGuard guard(*this);
      Token op = take();
      auto a = node(AstKind::Unary, op.pos, op.pos);
      a->unOp = UnOp::Not;
      a->name = "NOT";
      a->kids.push_back(parseNot());
      return seal(std::move(a));
    }
    return parsePredicate();
  }

  AstPtr parsePredicate() {
    auto l = parseAdditive();
    while (true) {
      const Token& t = peek();
      if (t.kind == Tok::Symbol) {
        static constexpr std::pair<std::string_view, BinOp> kCmp[] = {
            {"=", BinOp::Eq}, {"!=", BinOp::Ne}, {"<>", BinOp::Ne}, {"<", BinOp::Lt},
            {"<=", BinOp::Le}, {">", BinOp::Gt}, {">=", BinOp::Ge}};
        bool matched = false;
        for (const auto& [sym, op] : kCmp) {
          if (t.text == sym) {
            Token opTok = take();
            l = binary(op, opTok, std::move(l), parseAdditive());
            matched = true;
            break;
          }
        }
        if (matched) continue;
        break;
      }
      if (isKw(t, "IS")) {
        Token is = take();
        auto a = node(AstKind::IsNull, is.pos, l->begin);
        if (isKw(peek(), "NOT")) {
          take();
          a->negated = true;
        }
        if (!isKw(peek(), "NULL")) expected("NULL", peek());
        take();
        a->kids.push_back(std::move(l));
        l = seal(std::move(a));
        continue;
      }
      bool negated = false;
      std::size_t notPos = t.pos;
      if (isKw(t, "NOT")) {
        const Token& next = peek(1);
        if (next.kind == Tok::Bad || !(isKw(next, "IN") || isKw(next, "BETWEEN") || isKw(next, "LIKE"))) {
          take();
          expected("IN, BETWEEN or LIKE after NOT", peek());
        }
        take();
        negated = true;
      }
      const Token& kw = peek();
      if (isKw(kw, "IN")) {
        Token in = take();
        auto a = node(AstKind::In, negated ? notPos : in.pos, l->begin);
        a->negated = negated;
        a->kids.push_back(std::move(l));
        expectSym("(");
        while (true) {
          a->kids.push_back(parseOr());
          if (isSym(peek(), ",")) { take(); continue; }
          if (isSym(peek(), ")")) { take(); break; }
          expected("',' or ')'", peek());
        }
        l = seal(std::move(a));
      } else if (isKw(kw, "BETWEEN")) {
        Token between = take();
        auto a = node(AstKind::Between, negated ? notPos : between.pos, l->begin);
        a->negated = negated;
        a->kids.push_back(std::move(l));
        a->kids.push_back(parseAdditive());
        expectKw("AND");
        a->kids.push_back(parseAdditive());
        l = seal(std::move(a));
      } else if (isKw(kw, "LIKE")) {
        Token like = take();
        auto a = node(AstKind::Like, negated ? notPos : like.pos, l->begin);
        a->negated = negated;
        a->kids.push_back(std::move(l));
        a->kids.push_back(parseAdditive());
        if (isKw(peek(), "ESCAPE")) {
          take();
          a->hasEscape = true;
          a->kids.push_back(parseAdditive());
        }
        l = seal(std::move(a));
      } else {
        break;
      }
    }
    return l;
  }

  AstPtr parseAdditive() {
    auto l = parseMultiply();
    while (true) {
      const Token& t = peek();
      BinOp op;
      if (isSym(t, "+")) op = BinOp::Add;
      else if (isSym(t, "-")) op = BinOp::Sub;
      else if (isSym(t, "||")) op = BinOp::Concat;
      else break;
      Token opTok = take();
      l = binary(op, opTok, std::move(l), parseMultiply());
    }
    return l;
  }

  AstPtr parseMultiply() {
    auto l = parseUnary();
    while (true) {
      const Token& t = peek();
      BinOp op;
      if (isSym(t, "*")) op = BinOp::Mul;
      else if (isSym(t, "/")) op = BinOp::Div;
      else if (isSym(t, "%")) op = BinOp::Mod;
      else break;
      Token opTok = take();
      l = binary(op, opTok, std::move(l), parseUnary());
    }
    return l;
  }

  AstPtr parseUnary() {
    const Token& t = peek();
    if (isSym(t, "-") || isSym(t, "+")) {
      DepthGuard guard(*this);
      Token op = take();
      const Token& next = peek();
      if (op.text == "-" && (next.kind == Tok::Int || next.kind == Tok::Double)) {
        // A negative literal: lets -9223372036854775808 be written.
        Token num = take();
        return numberLiteral(num, "-" + num.text, op.pos);
      }
      auto a = node(AstKind::Unary, op.pos, op.pos);
      a->unOp = op.text == "-" ? UnOp::Neg : UnOp::Plus;
      a->name = op.text;
      a->kids.push_back(parseUnary());
      return seal(std::move(a));
    }
    return parsePrimary();
  }

  AstPtr numberLiteral(const Token& t, const std::string& text, std::size_t begin) {
    auto a = node(AstKind::Literal, begin, begin);
    if (t.kind == Tok::Int) {
      auto v = parseInt64(text);
      if (!v) fail(begin, "integer literal " + text + " is out of range for int64");
      a->value = Value::int64(*v);
    } else {
      auto v = parseDouble(text);
      if (!v) fail(begin, "number " + text + " is out of range for double");
      a->value = Value::dbl(*v);
    }
    return a;
  }

  AstPtr parsePrimary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::Int:
      case Tok::Double: {
        Token num = take();
        return numberLiteral(num, num.text, num.pos);
      }
      case Tok::String: {
        Token s = take();
        auto a = node(AstKind::Literal, s.pos, s.pos);
        a->value = Value::string(std::move(s.text));
        return a;
      }
      case Tok::QuotedIdent: {
        Token q = take();
        auto a = node(AstKind::Field, q.pos, q.pos);
        a->name = std::move(q.text);
        return a;
      }
      case Tok::Symbol:
        if (t.text == "(") {
          take();
          auto e = parseOr();
          expectSym(")");
          return e;
        }
        expected("an expression", t);
      case Tok::Ident: break;
      default: expected("an expression", t);
    }
    if (isKw(t, "TRUE") || isKw(t, "FALSE")) {
      Token b = take();
      auto a = node(AstKind::Literal, b.pos, b.pos);
      a->value = Value::boolean(isKw(b, "TRUE"));
      return a;
    }
    if (isKw(t, "NULL")) {
      Token b = take();
      auto a = node(AstKind::Literal, b.pos, b.pos);
      a->nullLiteral = true;
      return a;
    }
    if (isKw(t, "CASE")) return parseCase();
    if (isKw(t, "CAST")) return parseCast();
    if (isReserved(t.text)) expected("an expression", t);
    Token name = take();
    if (isSym(peek(), "(")) {
      take();
      auto a = node(AstKind::Call, name.pos, name.pos);
      a->name = name.text;
      if (isSym(peek(), ")")) {
        take();
        return a;
      }
      while (true) {
        a->kids.push_back(parseOr());
        if (isSym(peek(), ",")) { take(); continue; }
        if (isSym(peek(), ")")) { take(); break; }
        expected("',' or ')'", peek());
      }
      return seal(std::move(a));
    }
    auto a = node(AstKind::Field, name.pos, name.pos);
    a->name = std::move(name.text);
    return a;
  }

  AstPtr parseCase() {
    Token kw = take();
    auto a = node(AstKind::Case, kw.pos, kw.pos);
    if (isKw(peek(), "ELSE") || isKw(peek(), "END")) expected("WHEN", peek());
    if (!isKw(peek(), "WHEN")) {
      a->hasOperand = true;
      a->kids.push_back(parseOr());
      if (!isKw(peek(), "WHEN")) expected("WHEN", peek());
    }
    while (isKw(peek(), "WHEN")) {
      take();
      a->kids.push_back(parseOr());
      expectKw("THEN");
      a->kids.push_back(parseOr());
    }
    if (isKw(peek(), "ELSE")) {
      take();
      a->hasElse = true;
      a->kids.push_back(parseOr());
    }
    if (!isKw(peek(), "END")) expected(a->hasElse ? "END" : "WHEN, ELSE or END", peek());
    take();
    return seal(std::move(a));
  }

  AstPtr parseCast() {
    Token kw = take();
    auto a = node(AstKind::Cast, kw.pos, kw.pos);
    expectSym("(");
    a->kids.push_back(parseOr());
    expectKw("AS");
    const Token& t = peek();
    if (t.kind != Tok::Ident) expected("a type name", t);
    auto type = castTypeNamed(t.text);
    if (!type)
      fail(t.pos, "unknown type '" + t.text +
                      "' in CAST (types: int64, double, string, bool, timestamp)");
    a->castType = *type;
    take();
    expectSym(")");
    return seal(std::move(a));
  }

  std::string_view text_;
  std::vector<Token> toks_;
  std::size_t at_ = 0;
  int depth_ = 0;
};

}  // namespace

std::unique_ptr<Ast> parse(std::string_view text) {
  Parser p(text, lex(text));
  return p.parseAll();
}

}  // namespace weir::expr
