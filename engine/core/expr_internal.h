#pragma once
// Internals of the expression compiler (core/expr.h), shared by its three parts:
//   expr_parse.cpp  text -> syntax tree (Ast), with a byte offset on every node
//   expr_bind.cpp   syntax tree -> typed evaluation tree (Node), type checks, constant folding,
//                   and compileExpression() itself
//   expr_eval.cpp   the Node kinds and the column-at-a-time kernels they run
// Nothing here is part of the engine's interface; only core/expr.h is.
//
// Error policy inside the compiler: parse and type errors throw CompileFailure, which
// compileExpression() catches and returns as CompiledExpr::error; no exception leaves it.
// Evaluation never throws and never fails: a row whose value cannot be computed (division
// by zero, overflow, an unparsable CAST) is NULL.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/batch.h"
#include "core/expr.h"
#include "core/value.h"

namespace weir::expr {

struct CompileFailure {
  ExprError error;
};
[[noreturn]] void fail(std::size_t offset, std::string message);

// ---------------------------------------------------------------------------------------
// Syntax tree

enum class AstKind { Literal, Field, Unary, Binary, IsNull, In, Between, Like, Case, Cast, Call };

enum class BinOp { Add, Sub, Mul, Div, Mod, Concat, Eq, Ne, Lt, Le, Gt, Ge, And, Or };
enum class UnOp { Neg, Plus, Not };

struct Ast {
  AstKind kind = AstKind::Literal;
  std::size_t pos = 0;    // where errors about this node point: its operator, keyword, or token
  std::size_t begin = 0;  // first byte of the node's text (errors about it as an operand)
  std::string name;       // Field: the name; Call: function name as written; Binary: operator
  Value value;            // Literal
  bool nullLiteral = false;  // Literal NULL (its type comes from its context)
  BinOp binOp = BinOp::Add;
  UnOp unOp = UnOp::Neg;
  bool negated = false;      // IS NOT NULL, NOT IN, NOT BETWEEN, NOT LIKE
  bool hasOperand = false;   // Case: simple CASE x WHEN ...; kids[0] is x
  bool hasElse = false;      // Case: the last kid is the ELSE result
  bool hasEscape = false;    // Like: kids[2] is the escape character
  Type castType = Type::Int64;  // Cast
  int height = 1;               // 1 + the largest height of the kids (bounded by the parser)
  // Unary: [x]; Binary: [l, r]; IsNull: [x]; In: [x, items...]; Between: [x, lo, hi];
  // Like: [x, pattern, escape?]; Case: [operand?, when, then, when, then, ..., else?];
  // Cast: [x]; Call: arguments.
  std::vector<std::unique_ptr<Ast>> kids;
};

/// Parses the whole text; throws CompileFailure.
std::unique_ptr<Ast> parse(std::string_view text);

// ---------------------------------------------------------------------------------------
// Evaluation tree

/// One input or result of a node: a column of the batch's row count, or a scalar that
/// stands for the same value in every row (literals, folded constants).
struct Datum {
  ColumnPtr column;  // set for a column
  Value scalar;      // otherwise
  bool isScalar() const { return column == nullptr; }
  static Datum of(ColumnPtr c) { Datum d; d.column = std::move(c); return d; }
  static Datum of(Value v) { Datum d; d.scalar = std::move(v); return d; }
};

/// A typed node; eval() computes it for every row of a batch at once. Nodes are immutable
/// once built and may be shared by several parents (the x of `x BETWEEN a AND b` desugared).
class Node {
 public:
  explicit Node(Type type) : type_(type) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  Type type() const { return type_; }
  virtual Datum eval(const RecordBatch& batch) const = 0;
  /// The value of a literal node, else nullptr.
  virtual const Value* constant() const { return nullptr; }
  /// A NULL literal that has not been given a type by its context yet.
  virtual bool untypedNull() const { return false; }

 private:
  Type type_;
};
using NodePtr = std::shared_ptr<const Node>;

enum class CmpOp { Eq, Ne, Lt, Le, Gt, Ge };
enum class ArithOp { Add, Sub, Mul, Div, Mod };
enum class Func { Abs, Floor, Ceil, Round, Lower, Upper, Length, Substr };

NodePtr makeLiteral(Value v, bool untypedNull = false);
NodePtr makeField(std::size_t index, Type type);
/// Operands have the same type (Int64, Double, or Timestamp with Int64 per the rules of
/// the binder); `result` is the result type.
NodePtr makeArith(ArithOp op, NodePtr a, NodePtr b, Type result);
NodePtr makeNegate(NodePtr x);
/// Operands have the same type.
NodePtr makeCompare(CmpOp op, NodePtr a, NodePtr b);
NodePtr makeAnd(NodePtr a, NodePtr b);
NodePtr makeOr(NodePtr a, NodePtr b);
NodePtr makeNot(NodePtr x);
NodePtr makeIsNull(NodePtr x, bool negated);
/// `items` are non-null values of x's type; `hasNull` says the list also held NULL.
NodePtr makeInList(NodePtr x, std::vector<Value> items, bool hasNull);
/// All three have the same type.
NodePtr makeBetween(NodePtr x, NodePtr lo, NodePtr hi);
/// x and pattern are strings; escape is 0 for none. A constant pattern is compiled once.
NodePtr makeLike(NodePtr x, NodePtr pattern, char escape);
/// Every `then` and `otherwise` have type `result`; `otherwise` may be a NULL literal.
NodePtr makeCase(std::vector<NodePtr> when, std::vector<NodePtr> then, NodePtr otherwise,
                 Type result);
/// Arguments all have the result type.
NodePtr makeCoalesce(std::vector<NodePtr> args);
/// Arguments are strings.
NodePtr makeConcat(std::vector<NodePtr> args);
NodePtr makeCast(NodePtr x, Type to);
/// Whether CAST(from AS to) is allowed.
bool castAllowed(Type from, Type to);
/// abs/floor/ceil: one number; round: number and int64 digits (may be absent);
/// lower/upper/length: string; substr: string, int64 start, optional int64 length.
NodePtr makeFunc(Func f, std::vector<NodePtr> args, Type result);

/// The datum as a column of n rows of type t (a scalar is repeated).
ColumnPtr materialize(const Datum& d, Type t, std::size_t n);

}  // namespace weir::expr
