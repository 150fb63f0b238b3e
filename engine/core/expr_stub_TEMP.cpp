// TEMPORARY stand-in for the expression compiler (core/expr.h), which another helper is
// writing. It parses and type-checks just enough of DESIGN.md §4 for the job-graph tests
// (literals, fields, + - * / % ||, comparisons, AND OR NOT, IS [NOT] NULL, parentheses) and
// cannot evaluate anything. Delete this file when the real expr.cpp lands.
#include <cctype>
#include <stdexcept>

#include "core/expr.h"

namespace weir {
namespace {

class StubExpr final : public Expr {
 public:
  StubExpr(Type t, std::string text) : type_(t), text_(std::move(text)) {}
  Type type() const override { return type_; }
  ColumnPtr evaluate(const RecordBatch&) const override { return nullptr; }
  void selectTrue(const RecordBatch&, std::vector<std::uint32_t>&) const override {}
  const std::string& text() const override { return text_; }

 private:
  Type type_;
  std::string text_;
};

struct Fail {
  std::size_t offset;
  std::string message;
};

class Parser {
 public:
  Parser(std::string_view text, const Schema& schema) : s_(text), schema_(schema) {}

  Type parse() {
    skip();
    if (pos_ >= s_.size()) throw Fail{pos_, "empty expression"};
    Type t = orExpr();
    skip();
    if (pos_ < s_.size()) throw Fail{pos_, "unexpected '" + std::string(1, s_[pos_]) + "'"};
    return t;
  }

 private:
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool word(std::string_view w) {
    skip();
    if (s_.size() - pos_ < w.size()) return false;
    for (std::size_t i = 0; i < w.size(); ++i)
      if (std::toupper(static_cast<unsigned char>(s_[pos_ + i])) != w[i]) return false;
    std::size_t end = pos_ + w.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_'))
      return false;
    pos_ = end;
    return true;
  }
  bool sym(std::string_view op) {
    skip();
    if (s_.substr(pos_, op.size()) != op) return false;
    pos_ += op.size();
    return true;
  }
  void needBool(Type t, std::size_t at) {
    if (t != Type::Bool) throw Fail{at, "expected a bool, got " + std::string(typeName(t))};
  }
  Type orExpr() {
    skip();
    std::size_t at = pos_;
    Type t = andExpr();
    while (word("OR")) {
      needBool(t, at);
      skip();
      at = pos_;
      needBool(andExpr(), at);
    }
    return t;
  }
  Type andExpr() {
    skip();
    std::size_t at = pos_;
    Type t = notExpr();
    while (word("AND")) {
      needBool(t, at);
      skip();
      at = pos_;
      needBool(notExpr(), at);
    }
    return t;
  }
  Type notExpr() {
    if (word("NOT")) {
      skip();
      std::size_t at = pos_;
      needBool(notExpr(), at);
      return Type::Bool;
    }
    return comparison();
  }
  Type comparison() {
    Type a = additive();
    if (word("IS")) {
      word("NOT");
      if (!word("NULL")) throw Fail{pos_, "expected NULL"};
      return Type::Bool;
    }
    skip();
    std::size_t opAt = pos_;
    for (const char* op : {"<=", ">=", "<>", "!=", "=", "<", ">"}) {
      if (sym(op)) {
        Type b = additive();
        if (!(a == b || (isNumeric(a) && isNumeric(b))))
          throw Fail{opAt, "cannot compare " + std::string(typeName(a)) + " with " +
                               std::string(typeName(b))};
        return Type::Bool;
      }
    }
    return a;
  }
  Type additive() {
    Type a = multiplicative();
    for (;;) {
      skip();
      std::size_t opAt = pos_;
      if (sym("||")) {
        multiplicative();
        a = Type::String;
      } else if (sym("+") || sym("-")) {
        a = arithmetic(a, multiplicative(), opAt);
      } else {
        return a;
      }
    }
  }
  Type multiplicative() {
    Type a = primary();
    for (;;) {
      skip();
      std::size_t opAt = pos_;
      if (sym("*") || sym("/") || sym("%")) a = arithmetic(a, primary(), opAt);
      else return a;
    }
  }
  Type arithmetic(Type a, Type b, std::size_t at) {
    if (!isNumeric(a) || !isNumeric(b))
      throw Fail{at, "arithmetic needs numbers, got " + std::string(typeName(a)) + " and " +
                         std::string(typeName(b))};
    return a == Type::Double || b == Type::Double ? Type::Double : Type::Int64;
  }
  Type primary() {
    skip();
    std::size_t at = pos_;
    if (pos_ >= s_.size()) throw Fail{pos_, "unexpected end of expression"};
    char c = s_[pos_];
    if (sym("(")) {
      Type t = orExpr();
      if (!sym(")")) throw Fail{pos_, "expected ')'"};
      return t;
    }
    if (sym("-")) return primary();
    if (std::isdigit(static_cast<unsigned char>(c))) {
      bool dot = false;
      while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.'))
        if (s_[pos_++] == '.') dot = true;
      return dot ? Type::Double : Type::Int64;
    }
    if (c == '\'') {
      for (++pos_; pos_ < s_.size(); ++pos_) {
        if (s_[pos_] == '\'') {
          if (pos_ + 1 < s_.size() && s_[pos_ + 1] == '\'') ++pos_;
          else break;
        }
      }
      if (pos_ >= s_.size()) throw Fail{at, "unterminated string"};
      ++pos_;
      return Type::String;
    }
    if (word("TRUE") || word("FALSE")) return Type::Bool;
    if (word("NULL")) return Type::Int64;
    std::string name;
    if (c == '"') {
      std::size_t end = s_.find('"', pos_ + 1);
      if (end == std::string_view::npos) throw Fail{at, "unterminated quoted name"};
      name = std::string(s_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
        name += s_[pos_++];
    } else {
      throw Fail{at, "unexpected '" + std::string(1, c) + "'"};
    }
    int i = schema_.indexOf(name);
    if (i < 0) throw Fail{at, "unknown field '" + name + "'"};
    return schema_.field(static_cast<std::size_t>(i)).type;
  }

  std::string_view s_;
  const Schema& schema_;
  std::size_t pos_ = 0;
};

}  // namespace

CompiledExpr compileExpression(std::string_view text, const Schema& input) {
  CompiledExpr result;
  try {
    Type t = Parser(text, input).parse();
    result.expr = std::make_unique<StubExpr>(t, std::string(text));
  } catch (const Fail& f) {
    result.error = ExprError{f.offset, f.message};
  }
  return result;
}

}  // namespace weir
