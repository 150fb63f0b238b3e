// Type checker: syntax tree -> typed evaluation tree, with the promotion rules, NULL typing,
// constant folding and error messages of docs/expressions.md; and compileExpression().

#include <algorithm>
#include <cctype>

#include "core/expr_internal.h"
#include "core/text.h"

namespace weir {
namespace expr {
namespace {

constexpr std::size_t kMaxBranches = 250;  // CASE branches / coalesce arguments (u8 picks)

std::string tn(Type t) { return std::string(typeName(t)); }

bool isUntyped(const NodePtr& n) { return n->untypedNull(); }
bool isNullConst(const NodePtr& n) { return n->constant() && n->constant()->isNull(); }
bool isConst(const NodePtr& n) { return n->constant() != nullptr; }
/// A bool constant that is TRUE.
bool isTrueConst(const NodePtr& n) {
  const Value* v = n->constant();
  return v && !v->isNull() && v->type() == Type::Bool && v->asBool();
}
bool isFalseConst(const NodePtr& n) {
  const Value* v = n->constant();
  return v && !v->isNull() && v->type() == Type::Bool && !v->asBool();
}
/// The type's name, or NULL for a NULL literal without one (messages).
std::string label(const NodePtr& n) { return isUntyped(n) ? "NULL" : tn(n->type()); }

const RecordBatch& foldBatch() {
  static const RecordBatch batch(std::make_shared<const Schema>(), {}, 1);
  return batch;
}

/// Evaluates a node whose inputs are all constants, once, into a literal.
NodePtr fold(const NodePtr& n) {
  Datum d = n->eval(foldBatch());
  Value v = d.isScalar() ? d.scalar : d.column->value(0);
  if (v.isNull()) v = Value::null(n->type());
  return makeLiteral(std::move(v));
}

NodePtr foldIfConst(NodePtr n, const std::vector<NodePtr>& kids) {
  for (const auto& k : kids)
    if (!isConst(k)) return n;
  return fold(n);
}

NodePtr nullOf(Type t) { return makeLiteral(Value::null(t)); }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class Binder {
 public:
  explicit Binder(const Schema& schema) : schema_(schema) {}

  NodePtr bind(const Ast& a) {
    switch (a.kind) {
      case AstKind::Literal:
        if (a.nullLiteral) return makeLiteral(Value::null(Type::Bool), /*untypedNull=*/true);
        return makeLiteral(a.value);
      case AstKind::Field: return bindField(a);
      case AstKind::Unary: return bindUnary(a);
      case AstKind::Binary: return bindBinary(a);
      case AstKind::IsNull: {
        NodePtr x = bind(*a.kids[0]);
        return foldIfConst(makeIsNull(x, a.negated), {x});
      }
      case AstKind::In: return negateIf(a.negated, bindIn(a));
      case AstKind::Between: return negateIf(a.negated, bindBetween(a));
      case AstKind::Like: return negateIf(a.negated, bindLike(a));
      case AstKind::Case: return bindCase(a);
      case AstKind::Cast: return bindCast(a);
      case AstKind::Call: return bindCall(a);
    }
    fail(a.pos, "unsupported expression");
  }

 private:
  // ----- helpers

  /// n as type t: a NULL literal takes the type; int64 widens to double; a string literal
  /// compared with a timestamp is read as one (`src` gives the position for that error).
  NodePtr coerce(const NodePtr& n, Type t, const Ast& src) {
    if (isUntyped(n)) return nullOf(t);
    if (n->type() == t) return n;
    if (t == Type::Timestamp && n->type() == Type::String && isConst(n)) {
      if (n->constant()->isNull()) return nullOf(t);
      auto ms = parseTimestamp(n->constant()->asString());
      if (!ms) fail(src.begin, "'" + n->constant()->asString() + "' is not a valid timestamp");
      return makeLiteral(Value::timestamp(*ms));
    }
    return foldIfConst(makeCast(n, t), {n});
  }

  NodePtr requireBool(const NodePtr& n, const Ast& src, const std::string& message) {
    if (isUntyped(n)) return nullOf(Type::Bool);
    if (n->type() != Type::Bool) fail(src.begin, message + ", got " + tn(n->type()));
    return n;
  }

  NodePtr toText(const NodePtr& n) {
    if (isUntyped(n)) return nullOf(Type::String);
    if (n->type() == Type::String) return n;
    return foldIfConst(makeCast(n, Type::String), {n});
  }

  NodePtr negateIf(bool negated, NodePtr n) {
    if (!negated) return n;
    return foldIfConst(makeNot(n), {n});
  }

  /// The type all of `nodes` are compared as. A timestamp makes string literals timestamps;
  /// int64 and double compare as double. Fails at errorAt(i) for the first that cannot be.
  template <class ErrorAt>
  Type compareType(const std::vector<NodePtr>& nodes, ErrorAt errorAt) {
    bool hasTimestamp = false;
    for (const auto& n : nodes)
      if (!isUntyped(n) && n->type() == Type::Timestamp) hasTimestamp = true;
    std::optional<Type> t;
    std::size_t ref = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const NodePtr& n = nodes[i];
      if (isUntyped(n)) continue;
      const Type ty = n->type();
      if (hasTimestamp && ty == Type::String && isConst(n)) continue;
      if (!t) { t = ty; ref = i; continue; }
      if (*t == ty) continue;
      if (isNumeric(*t) && isNumeric(ty)) { t = Type::Double; continue; }
      fail(errorAt(i), "cannot compare " + tn(nodes[ref]->type()) + " with " + tn(ty));
    }
    return t.value_or(Type::Bool);
  }

  /// The common type of CASE / coalesce / if results: equal types, or int64 and double
  /// as double; NULL literals take it. `what` names them in the error.
  Type unify(const std::vector<NodePtr>& nodes, const std::vector<const Ast*>& srcs,
             const std::string& what) {
    std::optional<Type> t;
    std::size_t ref = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (isUntyped(nodes[i])) continue;
      const Type ty = nodes[i]->type();
      if (!t) { t = ty; ref = i; continue; }
      if (*t == ty) continue;
      if (isNumeric(*t) && isNumeric(ty)) { t = Type::Double; continue; }
      fail(srcs[i]->begin,
           what + " have incompatible types " + tn(nodes[ref]->type()) + " and " + tn(ty));
    }
    return t.value_or(Type::Bool);
  }

  // ----- leaves and operators

  NodePtr bindField(const Ast& a) {
    const int idx = schema_.indexOf(a.name);
    if (idx >= 0) {
      return makeField(static_cast<std::size_t>(idx), schema_.field(static_cast<std::size_t>(idx)).type);
    }
    for (const auto& f : schema_.fields()) {
      if (lower(f.name) == lower(a.name)) {
        fail(a.pos, "unknown field '" + a.name + "' (did you mean '" + f.name +
                        "'? field names are case-sensitive)");
      }
    }
    std::string list;
    for (std::size_t i = 0; i < schema_.size(); ++i) {
      if (i == 20) { list += ", ..."; break; }
      if (i) list += ", ";
      list += schema_.field(i).name;
    }
    fail(a.pos, "unknown field '" + a.name + "' (fields: " + (list.empty() ? "none" : list) + ")");
  }

  NodePtr bindUnary(const Ast& a) {
    NodePtr x = bind(*a.kids[0]);
    if (a.unOp == UnOp::Not) {
      x = requireBool(x, *a.kids[0], "NOT needs a bool operand");
      return foldIfConst(makeNot(x), {x});
    }
    if (isUntyped(x)) return nullOf(Type::Int64);
    if (!isNumeric(x->type())) fail(a.pos, "unary " + a.name + " needs a number, got " + tn(x->type()));
    if (a.unOp == UnOp::Plus) return x;
    return foldIfConst(makeNegate(x), {x});
  }

  NodePtr bindBinary(const Ast& a) {
    switch (a.binOp) {
      case BinOp::And:
      case BinOp::Or: return bindLogic(a);
      case BinOp::Concat: return bindConcat(a);
      case BinOp::Eq: return bindCompare(a, CmpOp::Eq);
      case BinOp::Ne: return bindCompare(a, CmpOp::Ne);
      case BinOp::Lt: return bindCompare(a, CmpOp::Lt);
      case BinOp::Le: return bindCompare(a, CmpOp::Le);
      case BinOp::Gt: return bindCompare(a, CmpOp::Gt);
      case BinOp::Ge: return bindCompare(a, CmpOp::Ge);
      case BinOp::Add: return bindArith(a, ArithOp::Add);
      case BinOp::Sub: return bindArith(a, ArithOp::Sub);
      case BinOp::Mul: return bindArith(a, ArithOp::Mul);
      case BinOp::Div: return bindArith(a, ArithOp::Div);
      case BinOp::Mod: return bindArith(a, ArithOp::Mod);
    }
    fail(a.pos, "unsupported operator");
  }

  NodePtr bindLogic(const Ast& a) {
    const bool isAnd = a.binOp == BinOp::And;
    const std::string msg = a.name + " needs bool operands";
    NodePtr l = requireBool(bind(*a.kids[0]), *a.kids[0], msg);
    NodePtr r = requireBool(bind(*a.kids[1]), *a.kids[1], msg);
    // FALSE AND x = FALSE, TRUE AND x = x; TRUE OR x = TRUE, FALSE OR x = x (whatever x is).
    if (isAnd) {
      if (isFalseConst(l) || isFalseConst(r)) return makeLiteral(Value::boolean(false));
      if (isTrueConst(l)) return r;
      if (isTrueConst(r)) return l;
    } else {
      if (isTrueConst(l) || isTrueConst(r)) return makeLiteral(Value::boolean(true));
      if (isFalseConst(l)) return r;
      if (isFalseConst(r)) return l;
    }
    return foldIfConst(isAnd ? makeAnd(l, r) : makeOr(l, r), {l, r});
  }

  NodePtr bindCompare(const Ast& a, CmpOp op) {
    NodePtr l = bind(*a.kids[0]);
    NodePtr r = bind(*a.kids[1]);
    const Type t = compareType({l, r}, [&](std::size_t) { return a.pos; });
    l = coerce(l, t, *a.kids[0]);
    r = coerce(r, t, *a.kids[1]);
    if (isNullConst(l) || isNullConst(r)) return nullOf(Type::Bool);
    return foldIfConst(makeCompare(op, l, r), {l, r});
  }

  NodePtr bindArith(const Ast& a, ArithOp op) {
    NodePtr l = bind(*a.kids[0]);
    NodePtr r = bind(*a.kids[1]);
    const bool additive = op == ArithOp::Add || op == ArithOp::Sub;
    auto fits = [](const NodePtr& n) {
      return isUntyped(n) || isNumeric(n->type()) || n->type() == Type::Timestamp;
    };
    if (!fits(l) || !fits(r))
      fail(a.pos, "cannot apply " + a.name + " to " + label(l) + " and " + label(r));
    // A NULL literal beside a timestamp: ts +- NULL and NULL + ts are int64 NULLs
    // (a timestamp results), NULL - ts is a timestamp NULL (an int64 results).
    if (isUntyped(l) && isUntyped(r)) {
      l = nullOf(Type::Int64);
      r = nullOf(Type::Int64);
    } else if (isUntyped(l)) {
      l = nullOf(r->type() == Type::Timestamp && op != ArithOp::Sub ? Type::Int64 : r->type());
    } else if (isUntyped(r)) {
      r = nullOf(l->type() == Type::Timestamp ? Type::Int64 : l->type());
    }
    const Type tl = l->type(), tr = r->type();
    Type result;
    if (isNumeric(tl) && isNumeric(tr)) {
      result = tl == Type::Int64 && tr == Type::Int64 ? Type::Int64 : Type::Double;
      l = coerce(l, result, *a.kids[0]);
      r = coerce(r, result, *a.kids[1]);
    } else if (additive && tl == Type::Timestamp && tr == Type::Int64) {
      result = Type::Timestamp;
    } else if (op == ArithOp::Add && tl == Type::Int64 && tr == Type::Timestamp) {
      result = Type::Timestamp;
    } else if (op == ArithOp::Sub && tl == Type::Timestamp && tr == Type::Timestamp) {
      result = Type::Int64;
    } else {
      fail(a.pos, "cannot apply " + a.name + " to " + tn(tl) + " and " + tn(tr));
    }
    if (isNullConst(l) || isNullConst(r)) return nullOf(result);
    return foldIfConst(makeArith(op, l, r, result), {l, r});
  }

  /// a || b || c ...: one concatenation of all operands, each in its text form.
  NodePtr bindConcat(const Ast& a) {
    std::vector<const Ast*> operands;
    collectConcat(a, operands);
    std::vector<NodePtr> args;
    for (const Ast* o : operands) args.push_back(toText(bind(*o)));
    return concatOf(std::move(args));
  }
  static void collectConcat(const Ast& a, std::vector<const Ast*>& out) {
    if (a.kind == AstKind::Binary && a.binOp == BinOp::Concat) {
      collectConcat(*a.kids[0], out);
      out.push_back(a.kids[1].get());
    } else {
      out.push_back(&a);
    }
  }
  NodePtr concatOf(std::vector<NodePtr> args) {
    for (const auto& n : args)
      if (isNullConst(n)) return nullOf(Type::String);
    if (args.size() == 1) return args[0];
    NodePtr n = makeConcat(args);
    return foldIfConst(n, args);
  }

  NodePtr bindIn(const Ast& a) {
    std::vector<NodePtr> nodes;
    for (const auto& k : a.kids) nodes.push_back(bind(*k));
    const Type t = compareType(nodes, [&](std::size_t i) { return a.kids[i]->begin; });
    for (std::size_t i = 0; i < nodes.size(); ++i) nodes[i] = coerce(nodes[i], t, *a.kids[i]);
    NodePtr x = nodes[0];
    if (isNullConst(x)) return nullOf(Type::Bool);
    bool allConst = true;
    for (std::size_t i = 1; i < nodes.size(); ++i) allConst = allConst && isConst(nodes[i]);
    if (allConst) {
      std::vector<Value> items;
      bool hasNull = false;
      for (std::size_t i = 1; i < nodes.size(); ++i) {
        if (nodes[i]->constant()->isNull()) hasNull = true;
        else items.push_back(*nodes[i]->constant());
      }
      return foldIfConst(makeInList(x, std::move(items), hasNull), {x});
    }
    // x IN (a, b, ...) = x = a OR x = b OR ..., which has the same three-valued result;
    // the ORs are built as a balanced tree to keep the evaluation shallow.
    std::vector<NodePtr> terms;
    for (std::size_t i = 1; i < nodes.size(); ++i) {
      terms.push_back(isNullConst(nodes[i])
                          ? nullOf(Type::Bool)
                          : foldIfConst(makeCompare(CmpOp::Eq, x, nodes[i]), {x, nodes[i]}));
    }
    while (terms.size() > 1) {
      std::vector<NodePtr> next;
      for (std::size_t i = 0; i + 1 < terms.size(); i += 2)
        next.push_back(foldIfConst(makeOr(terms[i], terms[i + 1]), {terms[i], terms[i + 1]}));
      if (terms.size() % 2) next.push_back(terms.back());
      terms = std::move(next);
    }
    return terms[0];
  }

  NodePtr bindBetween(const Ast& a) {
    std::vector<NodePtr> nodes;
    for (const auto& k : a.kids) nodes.push_back(bind(*k));
    const Type t = compareType(nodes, [&](std::size_t i) { return a.kids[i]->begin; });
    for (std::size_t i = 0; i < nodes.size(); ++i) nodes[i] = coerce(nodes[i], t, *a.kids[i]);
    if (isNullConst(nodes[0])) return nullOf(Type::Bool);
    return foldIfConst(makeBetween(nodes[0], nodes[1], nodes[2]), nodes);
  }

  NodePtr bindLike(const Ast& a) {
    auto str = [&](const Ast& k) {
      NodePtr n = bind(k);
      if (isUntyped(n)) return nullOf(Type::String);
      if (n->type() != Type::String) fail(k.begin, "LIKE needs string operands, got " + tn(n->type()));
      return n;
    };
    NodePtr x = str(*a.kids[0]);
    NodePtr pattern = str(*a.kids[1]);
    char escape = 0;
    if (a.hasEscape) {
      NodePtr e = bind(*a.kids[2]);
      const Value* v = e->constant();
      if (!v || v->isNull() || v->type() != Type::String || v->asString().size() != 1)
        fail(a.kids[2]->begin, "ESCAPE needs a single character string");
      escape = v->asString()[0];
    }
    if (isNullConst(x) || isNullConst(pattern)) return nullOf(Type::Bool);
    return foldIfConst(makeLike(x, pattern, escape), {x, pattern});
  }

  NodePtr bindCase(const Ast& a) {
    const std::size_t first = a.hasOperand ? 1 : 0;
    const std::size_t pairsEnd = a.kids.size() - (a.hasElse ? 1 : 0);
    if ((pairsEnd - first) / 2 > kMaxBranches)
      fail(a.pos, "CASE has more than " + std::to_string(kMaxBranches) + " branches");
    NodePtr operand = a.hasOperand ? bind(*a.kids[0]) : nullptr;
    std::vector<NodePtr> conds, results;
    std::vector<const Ast*> resultSrcs;
    for (std::size_t i = first; i + 1 < pairsEnd; i += 2) {
      const Ast& w = *a.kids[i];
      NodePtr cond;
      if (operand) {
        NodePtr v = bind(w);
        const Type t = compareType({operand, v}, [&](std::size_t) { return w.begin; });
        NodePtr l = coerce(operand, t, *a.kids[0]);
        NodePtr r = coerce(v, t, w);
        cond = isNullConst(l) || isNullConst(r) ? nullOf(Type::Bool)
                                                 : foldIfConst(makeCompare(CmpOp::Eq, l, r), {l, r});
      } else {
        cond = requireBool(bind(w), w, "WHEN condition must be bool");
      }
      conds.push_back(cond);
      results.push_back(bind(*a.kids[i + 1]));
      resultSrcs.push_back(a.kids[i + 1].get());
    }
    if (a.hasElse) {
      results.push_back(bind(*a.kids.back()));
      resultSrcs.push_back(a.kids.back().get());
    }
    const Type t = unify(results, resultSrcs, "CASE branches");
    return caseOf(std::move(conds), std::move(results), a.hasElse, t, *a.kids.back());
  }

  /// CASE over bound conditions and results (results has one more when hasElse).
  NodePtr caseOf(std::vector<NodePtr> conds, std::vector<NodePtr> results, bool hasElse,
                 Type t, const Ast& src) {
    for (auto& r : results) r = coerce(r, t, src);
    NodePtr otherwise = hasElse ? results.back() : nullOf(t);
    // Drop branches that can never be taken; a branch that always is ends the CASE.
    std::vector<NodePtr> when, then;
    for (std::size_t i = 0; i < conds.size(); ++i) {
      if (isConst(conds[i]) && !isTrueConst(conds[i])) continue;
      if (isTrueConst(conds[i])) {
        otherwise = results[i];
        break;
      }
      when.push_back(conds[i]);
      then.push_back(results[i]);
    }
    if (when.empty()) return otherwise;
    return makeCase(std::move(when), std::move(then), std::move(otherwise), t);
  }

  NodePtr bindCast(const Ast& a) {
    NodePtr x = bind(*a.kids[0]);
    const Type to = a.castType;
    if (isUntyped(x)) return nullOf(to);
    if (x->type() == to) return x;
    if (!castAllowed(x->type(), to)) fail(a.pos, "cannot cast " + tn(x->type()) + " to " + tn(to));
    return foldIfConst(makeCast(x, to), {x});
  }

  // ----- functions

  [[noreturn]] void arity(const Ast& a, const std::string& name, const std::string& count) {
    fail(a.pos, "function " + name + " takes " + count);
  }

  NodePtr arg(const Ast& a, std::size_t i) { return bind(*a.kids[i]); }

  NodePtr numberArg(const Ast& a, const std::string& name, std::size_t i) {
    NodePtr n = arg(a, i);
    if (isUntyped(n)) return nullOf(Type::Int64);
    if (!isNumeric(n->type()))
      fail(a.kids[i]->begin, "argument " + std::to_string(i + 1) + " of " + name +
                                 " must be a number, got " + tn(n->type()));
    return n;
  }
  NodePtr typedArg(const Ast& a, const std::string& name, std::size_t i, Type t) {
    NodePtr n = arg(a, i);
    if (isUntyped(n)) return nullOf(t);
    if (n->type() != t)
      fail(a.kids[i]->begin, "argument " + std::to_string(i + 1) + " of " + name + " must be " +
                                 (t == Type::String ? "a string" : tn(t)) + ", got " + tn(n->type()));
    return n;
  }

  /// A strict function (NULL in, NULL out) of already checked arguments.
  NodePtr func(Func f, std::vector<NodePtr> args, Type result) {
    for (const auto& n : args)
      if (isNullConst(n)) return nullOf(result);
    NodePtr n = makeFunc(f, args, result);
    return foldIfConst(n, args);
  }

  NodePtr bindCall(const Ast& a) {
    const std::string name = lower(a.name);
    const std::size_t n = a.kids.size();
    if (name == "abs") {
      if (n != 1) arity(a, name, "1 argument");
      NodePtr x = numberArg(a, name, 0);
      return func(Func::Abs, {x}, x->type());
    }
    if (name == "floor" || name == "ceil") {
      if (n != 1) arity(a, name, "1 argument");
      NodePtr x = numberArg(a, name, 0);
      if (x->type() == Type::Int64) return x;
      return func(name == "floor" ? Func::Floor : Func::Ceil, {x}, Type::Double);
    }
    if (name == "round") {
      if (n != 1 && n != 2) arity(a, name, "1 or 2 arguments");
      NodePtr x = numberArg(a, name, 0);
      std::vector<NodePtr> args{x};
      if (n == 2) args.push_back(typedArg(a, name, 1, Type::Int64));
      return func(Func::Round, std::move(args), x->type());
    }
    if (name == "lower" || name == "upper") {
      if (n != 1) arity(a, name, "1 argument");
      return func(name == "lower" ? Func::Lower : Func::Upper, {typedArg(a, name, 0, Type::String)},
                  Type::String);
    }
    if (name == "length") {
      if (n != 1) arity(a, name, "1 argument");
      return func(Func::Length, {typedArg(a, name, 0, Type::String)}, Type::Int64);
    }
    if (name == "substr") {
      if (n != 2 && n != 3) arity(a, name, "2 or 3 arguments");
      std::vector<NodePtr> args{typedArg(a, name, 0, Type::String), typedArg(a, name, 1, Type::Int64)};
      if (n == 3) args.push_back(typedArg(a, name, 2, Type::Int64));
      return func(Func::Substr, std::move(args), Type::String);
    }
    if (name == "concat") {
      if (n < 1) arity(a, name, "at least 1 argument");
      std::vector<NodePtr> args;
      for (std::size_t i = 0; i < n; ++i) args.push_back(toText(arg(a, i)));
      return concatOf(std::move(args));
    }
    if (name == "coalesce") {
      if (n < 1) arity(a, name, "at least 1 argument");
      if (n > kMaxBranches) arity(a, name, "at most " + std::to_string(kMaxBranches) + " arguments");
      std::vector<NodePtr> args;
      std::vector<const Ast*> srcs;
      for (std::size_t i = 0; i < n; ++i) {
        args.push_back(arg(a, i));
        srcs.push_back(a.kids[i].get());
      }
      const Type t = unify(args, srcs, "arguments of coalesce");
      std::vector<NodePtr> kept;
      for (std::size_t i = 0; i < n; ++i) {
        NodePtr x = coerce(args[i], t, *srcs[i]);
        if (isNullConst(x)) continue;
        kept.push_back(x);
        if (isConst(x)) break;  // never NULL: later arguments are not reached
      }
      if (kept.empty()) return nullOf(t);
      if (kept.size() == 1) return kept[0];
      return makeCoalesce(std::move(kept));
    }
    if (name == "if") {
      if (n != 3) arity(a, name, "3 arguments");
      NodePtr c = arg(a, 0);
      if (!isUntyped(c) && c->type() != Type::Bool)
        fail(a.kids[0]->begin, "argument 1 of if must be bool, got " + tn(c->type()));
      c = coerce(c, Type::Bool, *a.kids[0]);
      std::vector<NodePtr> results{arg(a, 1), arg(a, 2)};
      const Type t = unify(results, {a.kids[1].get(), a.kids[2].get()}, "arguments of if");
      return caseOf({c}, std::move(results), true, t, *a.kids[1]);
    }
    fail(a.pos, "unknown function '" + a.name +
                    "' (functions: abs, ceil, coalesce, concat, floor, if, length, lower, round, "
                    "substr, upper)");
  }

  const Schema& schema_;
};

// ---------------------------------------------------------------------------------------

class CompiledExpression final : public Expr {
 public:
  CompiledExpression(std::string text, NodePtr root) : text_(std::move(text)), root_(std::move(root)) {}

  Type type() const override { return root_->type(); }

  ColumnPtr evaluate(const RecordBatch& batch) const override {
    return materialize(root_->eval(batch), root_->type(), batch.numRows());
  }

  void selectTrue(const RecordBatch& batch, std::vector<std::uint32_t>& rows) const override {
    const std::size_t n = batch.numRows();
    if (root_->type() != Type::Bool || n == 0) return;
    Datum d = root_->eval(batch);
    if (d.isScalar()) {
      if (!d.scalar.isNull() && d.scalar.asBool())
        for (std::size_t i = 0; i < n; ++i) rows.push_back(static_cast<std::uint32_t>(i));
      return;
    }
    const std::uint8_t* v = d.column->bools().data();
    const std::uint8_t* valid = d.column->validity().data();
    const std::size_t base = rows.size();
    rows.resize(base + n);
    std::uint32_t* out = rows.data() + base;
    std::size_t k = 0;
    for (std::size_t i = 0; i < n; ++i) {  // branch-free: write always, advance when TRUE
      out[k] = static_cast<std::uint32_t>(i);
      k += v[i] & valid[i];
    }
    rows.resize(base + k);
  }

  const std::string& text() const override { return text_; }

 private:
  std::string text_;
  NodePtr root_;
};

}  // namespace
}  // namespace expr

CompiledExpr compileExpression(std::string_view text, const Schema& input) {
  CompiledExpr out;
  try {
    auto ast = expr::parse(text);
    expr::Binder binder(input);
    expr::NodePtr root = binder.bind(*ast);
    if (root->untypedNull()) root = expr::makeLiteral(Value::null(Type::Bool));
    out.expr = std::make_unique<expr::CompiledExpression>(std::string(text), std::move(root));
  } catch (const expr::CompileFailure& f) {
    out.error = f.error;
  }
  return out;
}

std::vector<std::string> expressionFields(std::string_view text) {
  std::vector<std::string> names;
  std::unique_ptr<expr::Ast> ast;
  try {
    ast = expr::parse(text);
  } catch (const expr::CompileFailure&) {
    return names;
  }
  std::vector<const expr::Ast*> todo{ast.get()};
  while (!todo.empty()) {
    const expr::Ast* a = todo.back();
    todo.pop_back();
    if (a->kind == expr::AstKind::Field &&
        std::find(names.begin(), names.end(), a->name) == names.end())
      names.push_back(a->name);
    for (const auto& k : a->kids) todo.push_back(k.get());
  }
  return names;
}

}  // namespace weir
