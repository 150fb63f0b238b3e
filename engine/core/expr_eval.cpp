// Evaluation nodes and their column-at-a-time kernels (docs/expressions.md, "How it
// evaluates"). Every node computes its result for all rows of a batch in one call; the
// kernels are tight loops over the raw arrays of core/column.h, templated on whether each
// operand is a column or a scalar, so that no per-row virtual call or Value appears on the
// numeric, comparison and logical paths. Results honour the Column contract: a null slot
// holds zero (or an empty string).

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <type_traits>

#include "core/expr_internal.h"
#include "core/text.h"

namespace weir::expr {
namespace {

using u8 = std::uint8_t;
using i64 = std::int64_t;

// ---------------------------------------------------------------------------------------
// Access to the data of a datum, whether column or scalar

template <class T> const T* dataOf(const Column& c);
template <> const i64* dataOf<i64>(const Column& c) { return c.ints().data(); }
template <> const double* dataOf<double>(const Column& c) { return c.doubles().data(); }
template <> const u8* dataOf<u8>(const Column& c) { return c.bools().data(); }

template <class T> T scalarOf(const Value& v);
template <> i64 scalarOf<i64>(const Value& v) { return v.isNull() ? 0 : v.asInt64(); }
template <> double scalarOf<double>(const Value& v) { return v.isNull() ? 0 : v.asDouble(); }
template <> u8 scalarOf<u8>(const Value& v) { return v.isNull() ? 0 : (v.asBool() ? 1 : 0); }

template <class T> T* resizeData(Column& c, std::size_t n);
template <> i64* resizeData<i64>(Column& c, std::size_t n) { return c.resizeInts(n); }
template <> double* resizeData<double>(Column& c, std::size_t n) { return c.resizeDoubles(n); }

template <class T> struct ColAcc {
  const T* p;
  T operator[](std::size_t i) const { return p[i]; }
};
template <class T> struct ConstAcc {
  T v;
  T operator[](std::size_t) const { return v; }
};
struct StrColAcc {
  const std::uint32_t* off;
  const char* chars;
  std::string_view operator[](std::size_t i) const {
    return std::string_view(chars + off[i], off[i + 1] - off[i]);
  }
};
struct StrConstAcc {
  std::string_view v;
  std::string_view operator[](std::size_t) const { return v; }
};

/// Calls f with an accessor to the values of d (element type T, or std::string_view).
template <class T, class F>
void withAcc(const Datum& d, F&& f) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    if (d.isScalar()) f(StrConstAcc{d.scalar.isNull() ? std::string_view() : d.scalar.asString()});
    else f(StrColAcc{d.column->offsets().data(), d.column->chars().data()});
  } else {
    if (d.isScalar()) f(ConstAcc<T>{scalarOf<T>(d.scalar)});
    else f(ColAcc<T>{dataOf<T>(*d.column)});
  }
}

/// Calls f with an accessor to the validity (1/0 per row) of d.
template <class F>
void withValid(const Datum& d, F&& f) {
  if (d.isScalar()) f(ConstAcc<u8>{static_cast<u8>(d.scalar.isNull() ? 0 : 1)});
  else f(ColAcc<u8>{d.column->validity().data()});
}

bool anyNull(const Datum& d) {
  return d.isScalar() ? d.scalar.isNull() : d.column->nullCount() > 0;
}
bool allNull(const Datum& d, std::size_t n) {
  return d.isScalar() ? d.scalar.isNull() : d.column->nullCount() == n;
}
bool isValid(const Datum& d, std::size_t row) {
  return d.isScalar() ? !d.scalar.isNull() : !d.column->isNull(row);
}

/// out[i] &= validity of d at i.
void andValidity(u8* out, const Datum& d, std::size_t n) {
  if (d.isScalar()) {
    if (d.scalar.isNull() && n > 0) std::memset(out, 0, n);
    return;
  }
  if (d.column->nullCount() == 0) return;
  const u8* v = d.column->validity().data();
  for (std::size_t i = 0; i < n; ++i) out[i] &= v[i];
}

/// Counts the nulls of a column written through resize*/mutableValidity and zeroes the data
/// of its null rows.
template <class T>
Datum finish(std::shared_ptr<Column> c, T* data) {
  c->recountNulls();
  if (c->nullCount() > 0) {
    const u8* v = c->mutableValidity();
    const std::size_t n = c->size();
    for (std::size_t i = 0; i < n; ++i) data[i] = v[i] ? data[i] : T{};
  }
  return Datum::of(ColumnPtr(std::move(c)));
}

Datum allNullColumn(Type t, std::size_t n) {
  auto c = std::make_shared<Column>(t);
  switch (t) {
    case Type::Int64:
    case Type::Timestamp: c->resizeInts(n); break;
    case Type::Double: c->resizeDoubles(n); break;
    case Type::Bool: c->resizeBools(n); break;
    case Type::String:
      c->reserve(n);
      for (std::size_t i = 0; i < n; ++i) c->appendNull();
      return Datum::of(ColumnPtr(std::move(c)));
  }
  if (n > 0) std::memset(c->mutableValidity(), 0, n);
  c->recountNulls();
  return Datum::of(ColumnPtr(std::move(c)));
}

/// A column of n rows all equal to the scalar v (of type t).
ColumnPtr broadcast(const Value& v, Type t, std::size_t n) {
  if (v.isNull()) return allNullColumn(t, n).column;
  auto c = std::make_shared<Column>(t);
  switch (t) {
    case Type::Int64:
    case Type::Timestamp: std::fill_n(c->resizeInts(n), n, v.asInt64()); break;
    case Type::Double: std::fill_n(c->resizeDoubles(n), n, v.asDouble()); break;
    case Type::Bool: std::fill_n(c->resizeBools(n), n, static_cast<u8>(v.asBool() ? 1 : 0)); break;
    case Type::String:
      c->reserve(n);
      for (std::size_t i = 0; i < n; ++i) c->appendString(v.asString());
      break;
  }
  return c;
}

/// The bool datum as a bool column (scalars broadcast).
ColumnPtr asColumn(const Datum& d, Type t, std::size_t n) {
  return d.isScalar() ? broadcast(d.scalar, t, n) : d.column;
}

// ---------------------------------------------------------------------------------------
// Leaves

class LiteralNode final : public Node {
 public:
  LiteralNode(Value v, bool untyped) : Node(v.type()), value_(std::move(v)), untyped_(untyped) {}
  Datum eval(const RecordBatch&) const override { return Datum::of(value_); }
  const Value* constant() const override { return &value_; }
  bool untypedNull() const override { return untyped_; }

 private:
  Value value_;
  bool untyped_;
};

class FieldNode final : public Node {
 public:
  FieldNode(std::size_t index, Type type) : Node(type), index_(index) {}
  Datum eval(const RecordBatch& batch) const override {
    // The batch must have the schema the expression was compiled against.
    assert(index_ < batch.numColumns() && batch.column(index_).type() == type());
    return Datum::of(batch.columnPtr(index_));
  }

 private:
  std::size_t index_;
};

// ---------------------------------------------------------------------------------------
// Arithmetic

struct AddOp {
  static bool apply(i64 a, i64 b, i64& r) { return !__builtin_add_overflow(a, b, &r); }
  static bool apply(double a, double b, double& r) { r = a + b; return true; }
};
struct SubOp {
  static bool apply(i64 a, i64 b, i64& r) { return !__builtin_sub_overflow(a, b, &r); }
  static bool apply(double a, double b, double& r) { r = a - b; return true; }
};
struct MulOp {
  static bool apply(i64 a, i64 b, i64& r) { return !__builtin_mul_overflow(a, b, &r); }
  static bool apply(double a, double b, double& r) { r = a * b; return true; }
};
struct DivOp {
  static bool apply(i64 a, i64 b, i64& r) {
    if (b == 0 || (b == -1 && a == INT64_MIN)) { r = 0; return false; }
    r = a / b;  // truncates toward zero
    return true;
  }
  static bool apply(double a, double b, double& r) {
    if (b == 0) { r = 0; return false; }
    r = a / b;
    return true;
  }
};
struct ModOp {
  static bool apply(i64 a, i64 b, i64& r) {
    if (b == 0) { r = 0; return false; }
    r = b == -1 ? 0 : a % b;  // sign of the dividend; INT64_MIN % -1 is 0, not a trap
    return true;
  }
  static bool apply(double a, double b, double& r) {
    if (b == 0) { r = 0; return false; }
    r = std::fmod(a, b);
    return true;
  }
};

/// Integer x / d or x % d for a constant d: the checks are made once, not per row, and a
/// positive power of two becomes shifts and masks (truncating toward zero like / and %).
template <class Op>
Datum divideByConstant(const Datum& a, i64 d, Type result, std::size_t n) {
  constexpr bool isDiv = std::is_same_v<Op, DivOp>;
  if (d == 0) return allNullColumn(result, n);
  auto col = std::make_shared<Column>(result);
  i64* o = col->resizeInts(n);
  u8* valid = col->mutableValidity();
  andValidity(valid, a, n);
  const i64* x = a.column->ints().data();
  if (d == -1) {
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (isDiv) {
        valid[i] &= static_cast<u8>(x[i] != INT64_MIN);  // -INT64_MIN does not fit
        o[i] = x[i] == INT64_MIN ? 0 : -x[i];
      } else {
        o[i] = 0;
      }
    }
  } else if (d > 0 && (d & (d - 1)) == 0) {
    const int k = __builtin_ctzll(static_cast<unsigned long long>(d));
    for (std::size_t i = 0; i < n; ++i) {
      const i64 q = (x[i] + ((x[i] >> 63) & (d - 1))) >> k;  // rounds toward zero
      if constexpr (isDiv) o[i] = q;
      else o[i] = x[i] - q * d;
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (isDiv) o[i] = x[i] / d;
      else o[i] = x[i] % d;
    }
  }
  return finish(std::move(col), o);
}

template <class T, class Op>
Datum arithKernel(const Datum& a, const Datum& b, Type result, std::size_t n) {
  if (allNull(a, n) || allNull(b, n)) return allNullColumn(result, n);
  if constexpr (std::is_same_v<T, i64> && (std::is_same_v<Op, DivOp> || std::is_same_v<Op, ModOp>)) {
    if (!a.isScalar() && b.isScalar()) return divideByConstant<Op>(a, b.scalar.asInt64(), result, n);
  }
  auto col = std::make_shared<Column>(result);
  T* o = resizeData<T>(*col, n);
  u8* valid = col->mutableValidity();
  andValidity(valid, a, n);
  andValidity(valid, b, n);
  withAcc<T>(a, [&](auto A) {
    withAcc<T>(b, [&](auto B) {
      for (std::size_t i = 0; i < n; ++i) {
        T r;
        const bool ok = Op::apply(A[i], B[i], r);
        o[i] = r;
        valid[i] &= static_cast<u8>(ok);
      }
    });
  });
  return finish(std::move(col), o);
}

template <class T>
Datum arith(ArithOp op, const Datum& a, const Datum& b, Type result, std::size_t n) {
  switch (op) {
    case ArithOp::Add: return arithKernel<T, AddOp>(a, b, result, n);
    case ArithOp::Sub: return arithKernel<T, SubOp>(a, b, result, n);
    case ArithOp::Mul: return arithKernel<T, MulOp>(a, b, result, n);
    case ArithOp::Div: return arithKernel<T, DivOp>(a, b, result, n);
    case ArithOp::Mod: return arithKernel<T, ModOp>(a, b, result, n);
  }
  return allNullColumn(result, n);
}

class ArithNode final : public Node {
 public:
  ArithNode(ArithOp op, NodePtr a, NodePtr b, Type result)
      : Node(result), op_(op), a_(std::move(a)), b_(std::move(b)) {}
  Datum eval(const RecordBatch& batch) const override {
    const std::size_t n = batch.numRows();
    Datum a = a_->eval(batch), b = b_->eval(batch);
    // Operands are both double, or int64/timestamp stored as int64.
    if (a_->type() == Type::Double) return arith<double>(op_, a, b, type(), n);
    return arith<i64>(op_, a, b, type(), n);
  }

 private:
  ArithOp op_;
  NodePtr a_, b_;
};

class NegateNode final : public Node {
 public:
  explicit NegateNode(NodePtr x) : Node(x->type()), x_(std::move(x)) {}
  Datum eval(const RecordBatch& batch) const override {
    const std::size_t n = batch.numRows();
    Datum zero = Datum::of(type() == Type::Double ? Value::dbl(0) : Value::int64(0));
    Datum x = x_->eval(batch);
    if (type() == Type::Double) {
      // -x, not 0 - x: keeps the sign of zero.
      if (allNull(x, n)) return allNullColumn(type(), n);
      auto col = std::make_shared<Column>(type());
      double* o = col->resizeDoubles(n);
      andValidity(col->mutableValidity(), x, n);
      withAcc<double>(x, [&](auto X) { for (std::size_t i = 0; i < n; ++i) o[i] = -X[i]; });
      return finish(std::move(col), o);
    }
    return arith<i64>(ArithOp::Sub, zero, x, type(), n);
  }

 private:
  NodePtr x_;
};

// ---------------------------------------------------------------------------------------
// Comparison

struct EqF { template <class T> bool operator()(const T& a, const T& b) const { return a == b; } };
struct NeF { template <class T> bool operator()(const T& a, const T& b) const { return a != b; } };
struct LtF { template <class T> bool operator()(const T& a, const T& b) const { return a < b; } };
struct LeF { template <class T> bool operator()(const T& a, const T& b) const { return a <= b; } };
struct GtF { template <class T> bool operator()(const T& a, const T& b) const { return a > b; } };
struct GeF { template <class T> bool operator()(const T& a, const T& b) const { return a >= b; } };

template <class T, class F>
Datum compareKernel(const Datum& a, const Datum& b, std::size_t n) {
  if (allNull(a, n) || allNull(b, n)) return allNullColumn(Type::Bool, n);
  auto col = std::make_shared<Column>(Type::Bool);
  u8* o = col->resizeBools(n);
  u8* valid = col->mutableValidity();
  andValidity(valid, a, n);
  andValidity(valid, b, n);
  F f;
  withAcc<T>(a, [&](auto A) {
    withAcc<T>(b, [&](auto B) {
      for (std::size_t i = 0; i < n; ++i) o[i] = static_cast<u8>(f(A[i], B[i]));
    });
  });
  if (!anyNull(a) && !anyNull(b)) return Datum::of(ColumnPtr(std::move(col)));  // all valid
  return finish(std::move(col), o);
}

template <class T>
Datum compareTyped(CmpOp op, const Datum& a, const Datum& b, std::size_t n) {
  switch (op) {
    case CmpOp::Eq: return compareKernel<T, EqF>(a, b, n);
    case CmpOp::Ne: return compareKernel<T, NeF>(a, b, n);
    case CmpOp::Lt: return compareKernel<T, LtF>(a, b, n);
    case CmpOp::Le: return compareKernel<T, LeF>(a, b, n);
    case CmpOp::Gt: return compareKernel<T, GtF>(a, b, n);
    case CmpOp::Ge: return compareKernel<T, GeF>(a, b, n);
  }
  return allNullColumn(Type::Bool, n);
}

Datum compare(CmpOp op, Type operands, const Datum& a, const Datum& b, std::size_t n) {
  switch (operands) {
    case Type::Int64:
    case Type::Timestamp: return compareTyped<i64>(op, a, b, n);
    case Type::Double: return compareTyped<double>(op, a, b, n);
    case Type::Bool: return compareTyped<u8>(op, a, b, n);
    case Type::String: return compareTyped<std::string_view>(op, a, b, n);
  }
  return allNullColumn(Type::Bool, n);
}

class CompareNode final : public Node {
 public:
  CompareNode(CmpOp op, NodePtr a, NodePtr b)
      : Node(Type::Bool), op_(op), a_(std::move(a)), b_(std::move(b)) {}
  Datum eval(const RecordBatch& batch) const override {
    return compare(op_, a_->type(), a_->eval(batch), b_->eval(batch), batch.numRows());
  }

 private:
  CmpOp op_;
  NodePtr a_, b_;
};

// ---------------------------------------------------------------------------------------
// Three-valued logic. Bool data is 0/1 and 0 in null rows, so with
// t = valid & v (TRUE) and f = valid & !v (FALSE):
//   AND: TRUE iff ta & tb; FALSE iff fa | fb; otherwise NULL
//   OR:  TRUE iff ta | tb; FALSE iff fa & fb; otherwise NULL

template <bool IsAnd>
Datum logic(const Datum& a, const Datum& b, std::size_t n) {
  auto col = std::make_shared<Column>(Type::Bool);
  u8* o = col->resizeBools(n);
  if (!anyNull(a) && !anyNull(b)) {  // two-valued: all rows stay valid
    withAcc<u8>(a, [&](auto A) {
      withAcc<u8>(b, [&](auto B) {
        for (std::size_t i = 0; i < n; ++i) o[i] = IsAnd ? (A[i] & B[i]) : (A[i] | B[i]);
      });
    });
    return Datum::of(ColumnPtr(std::move(col)));
  }
  u8* valid = col->mutableValidity();
  withAcc<u8>(a, [&](auto A) {
    withValid(a, [&](auto VA) {
      withAcc<u8>(b, [&](auto B) {
        withValid(b, [&](auto VB) {
          for (std::size_t i = 0; i < n; ++i) {
            const u8 ta = VA[i] & A[i], fa = VA[i] & (A[i] ^ 1);
            const u8 tb = VB[i] & B[i], fb = VB[i] & (B[i] ^ 1);
            if constexpr (IsAnd) {
              o[i] = ta & tb;
              valid[i] = (ta & tb) | fa | fb;
            } else {
              o[i] = ta | tb;
              valid[i] = ta | tb | (fa & fb);
            }
          }
        });
      });
    });
  });
  col->recountNulls();
  return Datum::of(ColumnPtr(std::move(col)));
}

class LogicNode final : public Node {
 public:
  LogicNode(bool isAnd, NodePtr a, NodePtr b)
      : Node(Type::Bool), isAnd_(isAnd), a_(std::move(a)), b_(std::move(b)) {}
  Datum eval(const RecordBatch& batch) const override {
    const std::size_t n = batch.numRows();
    Datum a = a_->eval(batch);
    // When the left side alone decides every row (all FALSE for AND, all TRUE for OR),
    // the right side is not evaluated.
    if (!a.isScalar() && a.column->nullCount() == 0) {
      const auto v = a.column->bools();
      const u8 decisive = isAnd_ ? 0 : 1;
      if (std::all_of(v.begin(), v.end(), [&](u8 x) { return x == decisive; })) return a;
    }
    Datum b = b_->eval(batch);
    return isAnd_ ? logic<true>(a, b, n) : logic<false>(a, b, n);
  }

 private:
  bool isAnd_;
  NodePtr a_, b_;
};

class NotNode final : public Node {
 public:
  explicit NotNode(NodePtr x) : Node(Type::Bool), x_(std::move(x)) {}
  Datum eval(const RecordBatch& batch) const override {
    const std::size_t n = batch.numRows();
    Datum x = x_->eval(batch);
    if (x.isScalar()) {
      return Datum::of(x.scalar.isNull() ? Value::null(Type::Bool) : Value::boolean(!x.scalar.asBool()));
    }
    auto col = std::make_shared<Column>(Type::Bool);
    u8* o = col->resizeBools(n);
    u8* valid = col->mutableValidity();
    const u8* v = x.column->bools().data();
    const u8* xv = x.column->validity().data();
    for (std::size_t i = 0; i < n; ++i) {
      o[i] = (v[i] ^ 1) & xv[i];
      valid[i] = xv[i];
    }
    col->recountNulls();
    return Datum::of(ColumnPtr(std::move(col)));
  }

 private:
  NodePtr x_;
};

class IsNullNode final : public Node {
 public:
  IsNullNode(NodePtr x, bool negated) : Node(Type::Bool), x_(std::move(x)), negated_(negated) {}
  Datum eval(const RecordBatch& batch) const override {
    const std::size_t n = batch.numRows();
    Datum x = x_->eval(batch);
    if (x.isScalar()) return Datum::of(Value::boolean(x.scalar.isNull() != negated_));
    auto col = std::make_shared<Column>(Type::Bool);
    u8* o = col->resizeBools(n);
    const u8* xv = x.column->validity().data();
    const u8 flip = negated_ ? 0 : 1;
    for (std::size_t i = 0; i < n; ++i) o[i] = xv[i] ^ flip;
    return Datum::of(ColumnPtr(std::move(col)));
  }

 private:
  NodePtr x_;
  bool negated_;
};

// ---------------------------------------------------------------------------------------
// IN over a list of constants

/// Membership in a sorted, de-duplicated list: a linear scan while short, else a binary search.
template <class T>
struct MemberSet {
  std::vector<T> items;
  bool contains(const T& x) const {
    if (items.size() <= 8) {
      bool hit = false;
      for (const T& it : items) hit |= (it == x);
      return hit;
    }
    return std::binary_search(items.begin(), items.end(), x);
  }
};

class InListNode final : public Node {
 public:
  InListNode(NodePtr x, std::vector<Value> items, bool hasNull)
      : Node(Type::Bool), x_(std::move(x)), hasNull_(hasNull) {
    for (const Value& v : items) {
      switch (x_->type()) {
        case Type::Int64:
        case Type::Timestamp: ints_.items.push_back(v.asInt64()); break;
        case Type::Double:
          if (!std::isnan(v.asDouble())) doubles_.items.push_back(v.asDouble());
          break;
        case Type::Bool: (v.asBool() ? hasTrue_ : hasFalse_) = true; break;
        case Type::String: strings_.push_back(v.asString()); break;
      }
    }
    sortUnique(ints_.items);
    sortUnique(doubles_.items);
    sortUnique(strings_);
    views_.items.assign(strings_.begin(), strings_.end());
  }

  Datum eval(const RecordBatch& batch) const override {
    const std::size_t n = batch.numRows();
    Datum x = x_->eval(batch);
    if (allNull(x, n)) return allNullColumn(Type::Bool, n);
    ColumnPtr xc = asColumn(x, x_->type(), n);
    auto col = std::make_shared<Column>(Type::Bool);
    u8* o = col->resizeBools(n);
    u8* valid = col->mutableValidity();
    const u8* xv = xc->validity().data();
    switch (x_->type()) {
      case Type::Int64:
      case Type::Timestamp: {
        const i64* d = xc->ints().data();
        for (std::size_t i = 0; i < n; ++i) o[i] = ints_.contains(d[i]);
        break;
      }
      case Type::Double: {
        const double* d = xc->doubles().data();
        for (std::size_t i = 0; i < n; ++i) o[i] = doubles_.contains(d[i]);
        break;
      }
      case Type::Bool: {
        const u8* d = xc->bools().data();
        for (std::size_t i = 0; i < n; ++i) o[i] = d[i] ? hasTrue_ : hasFalse_;
        break;
      }
      case Type::String:
        for (std::size_t i = 0; i < n; ++i) o[i] = views_.contains(xc->str(i));
        break;
    }
    // x NULL -> NULL; a match -> TRUE; no match -> FALSE, or NULL when the list holds NULL.
    const u8 noMatchValid = hasNull_ ? 0 : 1;
    for (std::size_t i = 0; i < n; ++i) {
      valid[i] = xv[i] & (o[i] | noMatchValid);
      o[i] &= valid[i];
    }
    col->recountNulls();
    return Datum::of(ColumnPtr(std::move(col)));
  }

 private:
  template <class T>
  static void sortUnique(std::vector<T>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }

  NodePtr x_;
  bool hasNull_;
  bool hasTrue_ = false, hasFalse_ = false;
  MemberSet<i64> ints_;
  MemberSet<double> doubles_;
  std::vector<std::string> strings_;
  MemberSet<std::string_view> views_;  // into strings_
};

class BetweenNode final : public Node {
 public:
  BetweenNode(NodePtr x, NodePtr lo, NodePtr hi)
      : Node(Type::Bool), x_(std::move(x)), lo_(std::move(lo)), hi_(std::move(hi)) {}
  Datum eval(const RecordBatch& batch) const override {
    const std::size_t n = batch.numRows();
    Datum x = x_->eval(batch);
    Datum ge = compare(CmpOp::Ge, x_->type(), x, lo_->eval(batch), n);
    Datum le = compare(CmpOp::Le, x_->type(), x, hi_->eval(batch), n);
    return logic<true>(ge, le, n);
  }

 private:
  NodePtr x_, lo_, hi_;
};

// ---------------------------------------------------------------------------------------
// LIKE

std::size_t utf8Len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;  // a stray continuation byte counts as one character
}

/// A compiled LIKE pattern: '%' any run of characters, '_' one (UTF-8) character, the
/// escape character makes the next character literal. Common shapes are matched with
/// plain string operations.
class LikePattern {
 public:
  void compile(std::string_view pattern, char escape) {
    ops_.clear();
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      char c = pattern[i];
      if (escape != 0 && c == escape && i + 1 < pattern.size()) {
        ops_.push_back({Op::Lit, pattern[++i]});
      } else if (c == '%') {
        if (ops_.empty() || ops_.back().kind != Op::Any) ops_.push_back({Op::Any, 0});
      } else if (c == '_') {
        ops_.push_back({Op::One, 0});
      } else {
        ops_.push_back({Op::Lit, c});
      }
    }
    // Classify: literal run optionally bounded by '%' on either side.
    lit_.clear();
    bool anyOne = false;
    std::size_t anyCount = 0;
    for (const auto& op : ops_) {
      if (op.kind == Op::One) anyOne = true;
      if (op.kind == Op::Any) ++anyCount;
      if (op.kind == Op::Lit) lit_ += op.c;
    }
    const bool leading = !ops_.empty() && ops_.front().kind == Op::Any;
    const bool trailing = !ops_.empty() && ops_.back().kind == Op::Any;
    shape_ = Shape::General;
    if (!anyOne) {
      if (anyCount == 0) shape_ = Shape::Exact;
      else if (anyCount == 1 && trailing && !leading) shape_ = Shape::Prefix;
      else if (anyCount == 1 && leading && !trailing) shape_ = Shape::Suffix;
      else if (anyCount == 1 && leading && trailing) shape_ = Shape::Contains;  // "%"
      else if (anyCount == 2 && leading && trailing) shape_ = Shape::Contains;
    }
  }

  bool match(std::string_view s) const {
    switch (shape_) {
      case Shape::Exact: return s == lit_;
      case Shape::Prefix: return s.starts_with(lit_);
      case Shape::Suffix: return s.ends_with(lit_);
      case Shape::Contains: return s.find(lit_) != std::string_view::npos;
      case Shape::General: break;
    }
    // Greedy match with backtracking to the last '%': O(len(s) * len(pattern)) at worst.
    const std::size_t np = ops_.size();
    std::size_t p = 0, i = 0, starP = SIZE_MAX, starI = 0;
    while (i < s.size()) {
      if (p < np && ops_[p].kind == Op::Lit && ops_[p].c == s[i]) {
        ++p;
        ++i;
      } else if (p < np && ops_[p].kind == Op::One) {
        ++p;
        i = std::min(s.size(), i + utf8Len(static_cast<unsigned char>(s[i])));
      } else if (p < np && ops_[p].kind == Op::Any) {
        starP = p++;
        starI = i;
      } else if (starP != SIZE_MAX) {
        p = starP + 1;
        starI = std::min(s.size(), starI + utf8Len(static_cast<unsigned char>(s[starI])));
        i = starI;
      } else {
        return false;
      }
    }
    while (p < np && ops_[p].kind == Op::Any) ++p;
    return p == np;
  }

 private:
  struct Op {
    enum Kind : u8 { Lit, One, Any } kind;
    char c;
  };
  enum class Shape { Exact, Prefix, Suffix, Contains, General };
  std::vector<Op> ops_;
  std::string lit_;
  Shape shape_ = Shape::Exact;
};

class LikeNode final : public Node {
 public:
  LikeNode(NodePtr x, NodePtr pattern, char escape)
      : Node(Type::Bool), x_(std::move(x)), pattern_(std::move(pattern)), escape_(escape) {
    if (const Value* p = pattern_->constant(); p && !p->isNull()) {
      constant_.compile(p->asString(), escape_);
      hasConstant_ = true;
    }
  }
  Datum eval(const RecordBatch& batch) const override {
    const std::size_t n = batch.numRows();
    Datum x = x_->eval(batch);
    Datum p = hasConstant_ ? Datum() : pattern_->eval(batch);
    if (allNull(x, n) || (!hasConstant_ && allNull(p, n))) return allNullColumn(Type::Bool, n);
    auto col = std::make_shared<Column>(Type::Bool);
    u8* o = col->resizeBools(n);
    u8* valid = col->mutableValidity();
    andValidity(valid, x, n);
    withAcc<std::string_view>(x, [&](auto X) {
      if (hasConstant_) {
        for (std::size_t i = 0; i < n; ++i) o[i] = valid[i] && constant_.match(X[i]);
        return;
      }
      andValidity(valid, p, n);
      LikePattern rowPattern;  // recompiled per row into the same buffers
      withAcc<std::string_view>(p, [&](auto P) {
        for (std::size_t i = 0; i < n; ++i) {
          if (!valid[i]) { o[i] = 0; continue; }
          rowPattern.compile(P[i], escape_);
          o[i] = rowPattern.match(X[i]);
        }
      });
    });
    col->recountNulls();
    return Datum::of(ColumnPtr(std::move(col)));
  }

 private:
  NodePtr x_, pattern_;
  char escape_;
  LikePattern constant_;
  bool hasConstant_ = false;
};

// ---------------------------------------------------------------------------------------
// Choosing per row among several datums (CASE, coalesce)

/// Row i of the result is row i of choices[pick[i]].
Datum choose(Type t, const std::vector<Datum>& choices, const std::vector<u8>& pick,
             std::size_t n) {
  auto col = std::make_shared<Column>(t);
  if (t == Type::String) {
    col->reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      const Datum& d = choices[pick[i]];
      if (!isValid(d, i)) col->appendNull();
      else col->appendString(d.isScalar() ? std::string_view(d.scalar.asString()) : d.column->str(i));
    }
    return Datum::of(ColumnPtr(std::move(col)));
  }
  auto fill = [&](auto* o) {
    using T = std::remove_pointer_t<decltype(o)>;
    u8* valid = col->mutableValidity();
    for (std::size_t k = 0; k < choices.size(); ++k) {
      const Datum& d = choices[k];
      const u8 kk = static_cast<u8>(k);
      withAcc<T>(d, [&](auto D) {
        withValid(d, [&](auto V) {
          for (std::size_t i = 0; i < n; ++i) {
            const bool m = pick[i] == kk;
            o[i] = m ? D[i] : o[i];
            valid[i] = m ? V[i] : valid[i];
          }
        });
      });
    }
    return finish(col, o);
  };
  switch (t) {
    case Type::Int64:
    case Type::Timestamp: return fill(col->resizeInts(n));
    case Type::Double: return fill(col->resizeDoubles(n));
    case Type::Bool: return fill(col->resizeBools(n));
    case Type::String: break;
  }
  return allNullColumn(t, n);
}

class CaseNode final : public Node {
 public:
  CaseNode(std::vector<NodePtr> when, std::vector<NodePtr> then, NodePtr otherwise, Type t)
      : Node(t), when_(std::move(when)), then_(std::move(then)), else_(std::move(otherwise)) {}
  Datum eval(const RecordBatch& batch) const override {
    const std::size_t n = batch.numRows();
    const std::size_t k = when_.size();
    // pick[i]: the first branch whose condition is TRUE at i, else k (ELSE). Conditions are
    // evaluated last to first so that earlier branches overwrite later ones.
    std::vector<u8> pick(n, static_cast<u8>(k));
    for (std::size_t b = k; b-- > 0;) {
      Datum c = when_[b]->eval(batch);
      if (c.isScalar()) {
        if (!c.scalar.isNull() && c.scalar.asBool())
          std::fill(pick.begin(), pick.end(), static_cast<u8>(b));
        continue;
      }
      const u8* v = c.column->bools().data();
      const u8* cv = c.column->validity().data();
      for (std::size_t i = 0; i < n; ++i) pick[i] = (v[i] & cv[i]) ? static_cast<u8>(b) : pick[i];
    }
    std::vector<bool> used(k + 1, false);
    for (u8 p : pick) used[p] = true;
    std::vector<Datum> choices(k + 1);
    std::size_t usedCount = 0, last = 0;
    for (std::size_t b = 0; b <= k; ++b) {
      if (!used[b]) { choices[b] = Datum::of(Value::null(type())); continue; }
      choices[b] = b < k ? then_[b]->eval(batch) : else_->eval(batch);
      ++usedCount;
      last = b;
    }
    if (usedCount == 1) return choices[last];
    return choose(type(), choices, pick, n);
  }

 private:
  std::vector<NodePtr> when_, then_;
  NodePtr else_;
};

class CoalesceNode final : public Node {
 public:
  explicit CoalesceNode(std::vector<NodePtr> args) : Node(args.front()->type()), args_(std::move(args)) {}
  Datum eval(const RecordBatch& batch) const override {
    const std::size_t n = batch.numRows();
    std::vector<Datum> choices;
    choices.push_back(args_[0]->eval(batch));
    if (!anyNull(choices[0]) || args_.size() == 1) return choices[0];
    // pick[i] = the first argument not null at i (or 0, null there, when none is).
    std::vector<u8> pick(n, 0);
    std::vector<u8> open(n);
    std::size_t remaining = 0;
    for (std::size_t i = 0; i < n; ++i) {
      open[i] = !isValid(choices[0], i);
      remaining += open[i];
    }
    for (std::size_t k = 1; k < args_.size() && remaining > 0; ++k) {
      choices.push_back(args_[k]->eval(batch));
      const Datum& d = choices.back();
      for (std::size_t i = 0; i < n; ++i) {
        if (open[i] && isValid(d, i)) {
          pick[i] = static_cast<u8>(k);
          open[i] = 0;
          --remaining;
        }
      }
    }
    return choose(type(), choices, pick, n);
  }

 private:
  std::vector<NodePtr> args_;
};

// ---------------------------------------------------------------------------------------
// Strings

/// Writes v's text form (as || and CAST(... AS string) give it) to out.
template <class T>
void appendText(std::string& out, T v, Type t) {
  if constexpr (std::is_same_v<T, double>) {
    appendDouble(out, v);
  } else if constexpr (std::is_same_v<T, u8>) {
    out += v ? "true" : "false";
  } else {
    if (t == Type::Timestamp) {
      appendTimestamp(out, v);
    } else {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v);
      out.append(buf, r.ptr);
    }
  }
}

class ConcatNode final : public Node {
 public:
  explicit ConcatNode(std::vector<NodePtr> args) : Node(Type::String), args_(std::move(args)) {}
  Datum eval(const RecordBatch& batch) const override {
    const std::size_t n = batch.numRows();
    std::vector<Datum> parts;
    parts.reserve(args_.size());
    for (const auto& a : args_) parts.push_back(a->eval(batch));
    for (const auto& p : parts)
      if (allNull(p, n)) return allNullColumn(Type::String, n);
    auto col = std::make_shared<Column>(Type::String);
    col->reserve(n);
    std::string row;
    for (std::size_t i = 0; i < n; ++i) {
      row.clear();
      bool null = false;
      for (const auto& p : parts) {
        if (!isValid(p, i)) { null = true; break; }
        row += p.isScalar() ? std::string_view(p.scalar.asString()) : p.column->str(i);
      }
      if (null) col->appendNull();
      else col->appendString(row);
    }
    return Datum::of(ColumnPtr(std::move(col)));
  }

 private:
  std::vector<NodePtr> args_;
};

// ---------------------------------------------------------------------------------------
// CAST

bool inInt64Range(double d) { return d >= -9223372036854775808.0 && d < 9223372036854775808.0; }

class CastNode final : public Node {
 public:
  CastNode(NodePtr x, Type to) : Node(to), x_(std::move(x)) {}
  Datum eval(const RecordBatch& batch) const override {
    const std::size_t n = batch.numRows();
    const Type from = x_->type(), to = type();
    Datum x = x_->eval(batch);
    if (allNull(x, n)) return allNullColumn(to, n);
    ColumnPtr xc = asColumn(x, from, n);
    const Column& in = *xc;
    if (to == Type::String) return toString(in, from, n);
    if (from == Type::String) return fromString(in, to, n);
    auto col = std::make_shared<Column>(to);
    auto run = [&](auto* o, auto convert) {
      u8* valid = col->mutableValidity();
      if (n > 0) std::memcpy(valid, in.validity().data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        bool ok = true;
        o[i] = convert(i, ok);
        valid[i] &= static_cast<u8>(ok);
      }
      return finish(col, o);
    };
    const i64* ints = in.ints().data();
    const double* dbls = in.doubles().data();
    const u8* bools = in.bools().data();
    switch (to) {
      case Type::Int64:
      case Type::Timestamp: {
        i64* o = col->resizeInts(n);
        if (isIntegerStored(from)) return run(o, [&](std::size_t i, bool&) { return ints[i]; });
        if (from == Type::Bool) return run(o, [&](std::size_t i, bool&) { return i64{bools[i]}; });
        return run(o, [&](std::size_t i, bool& ok) {
          ok = inInt64Range(dbls[i]);  // NaN and out of range -> NULL
          return ok ? static_cast<i64>(dbls[i]) : i64{0};  // truncates toward zero
        });
      }
      case Type::Double: {
        double* o = col->resizeDoubles(n);
        if (isIntegerStored(from))
          return run(o, [&](std::size_t i, bool&) { return static_cast<double>(ints[i]); });
        return run(o, [&](std::size_t i, bool&) { return static_cast<double>(bools[i]); });
      }
      case Type::Bool: {
        u8* o = col->resizeBools(n);
        if (isIntegerStored(from))
          return run(o, [&](std::size_t i, bool&) { return static_cast<u8>(ints[i] != 0); });
        return run(o, [&](std::size_t i, bool&) { return static_cast<u8>(dbls[i] != 0); });
      }
      case Type::String: break;
    }
    return allNullColumn(to, n);
  }

 private:
  static Datum toString(const Column& in, Type from, std::size_t n) {
    auto col = std::make_shared<Column>(Type::String);
    col->reserve(n);
    std::string text;
    for (std::size_t i = 0; i < n; ++i) {
      if (in.isNull(i)) { col->appendNull(); continue; }
      text.clear();
      switch (from) {
        case Type::Int64:
        case Type::Timestamp: appendText(text, in.int64(i), from); break;
        case Type::Double: appendText(text, in.dbl(i), from); break;
        case Type::Bool: appendText(text, static_cast<u8>(in.boolean(i)), from); break;
        case Type::String: text = in.str(i); break;
      }
      col->appendString(text);
    }
    return Datum::of(ColumnPtr(std::move(col)));
  }

  static Datum fromString(const Column& in, Type to, std::size_t n) {
    auto col = std::make_shared<Column>(to);
    auto run = [&](auto* o, auto parse) {
      u8* valid = col->mutableValidity();
      for (std::size_t i = 0; i < n; ++i) {
        if (in.isNull(i)) { valid[i] = 0; continue; }
        auto v = parse(in.str(i));
        valid[i] = v.has_value();
        if (v) o[i] = *v;
      }
      return finish(col, o);
    };
    switch (to) {
      case Type::Int64: return run(col->resizeInts(n), parseInt64);
      case Type::Timestamp: return run(col->resizeInts(n), parseTimestamp);
      case Type::Double: return run(col->resizeDoubles(n), parseDouble);
      case Type::Bool:
        return run(col->resizeBools(n), [](std::string_view s) -> std::optional<u8> {
          auto b = parseBool(s);
          if (!b) return std::nullopt;
          return static_cast<u8>(*b);
        });
      case Type::String: break;
    }
    return allNullColumn(to, n);
  }

  NodePtr x_;
};

// ---------------------------------------------------------------------------------------
// Functions

/// 10^k for 0 <= k <= 18.
i64 pow10i(int k) {
  i64 p = 1;
  while (k-- > 0) p *= 10;
  return p;
}

/// round(x, digits) for int64 x: digits >= 0 keeps x; digits < 0 rounds to a multiple of
/// 10^-digits, halves away from zero; false on overflow.
bool roundInt(i64 x, i64 digits, i64& r) {
  if (digits >= 0) { r = x; return true; }
  if (digits < -18) {
    // |x| < 10^19: rounds to 0, or to +-10^19, which does not fit.
    r = 0;
    return x > -5'000'000'000'000'000'000 && x < 5'000'000'000'000'000'000;
  }
  const i64 p = pow10i(static_cast<int>(-digits));
  i64 q = x / p;
  const i64 rem = x % p;
  if (rem >= (p + 1) / 2 && p > 1) ++q;
  else if (-rem >= (p + 1) / 2 && p > 1) --q;
  return !__builtin_mul_overflow(q, p, &r);
}

/// round(x, digits) for double x, halves away from zero.
double roundDouble(double x, i64 digits) {
  if (!std::isfinite(x)) return x;
  if (digits == 0) return std::round(x);
  if (digits > 0) {
    if (digits > 330) return x;
    const double s = std::pow(10.0, static_cast<double>(digits));
    const double y = x * s;
    return std::isfinite(y) ? std::round(y) / s : x;
  }
  if (digits < -330) return 0.0 * x;
  const double s = std::pow(10.0, static_cast<double>(-digits));
  return std::round(x / s) * s;
}

/// Byte offset of the `chars`-th character (0-based) of s, or s.size() past its end.
std::size_t skipChars(std::string_view s, std::size_t from, i64 chars) {
  std::size_t i = from;
  while (chars > 0 && i < s.size()) {
    i = std::min(s.size(), i + utf8Len(static_cast<unsigned char>(s[i])));
    --chars;
  }
  return i;
}

class FuncNode final : public Node {
 public:
  FuncNode(Func f, std::vector<NodePtr> args, Type result)
      : Node(result), f_(f), args_(std::move(args)) {}

  Datum eval(const RecordBatch& batch) const override {
    const std::size_t n = batch.numRows();
    std::vector<Datum> a;
    a.reserve(args_.size());
    for (const auto& arg : args_) {
      a.push_back(arg->eval(batch));
      if (allNull(a.back(), n)) return allNullColumn(type(), n);
    }
    switch (f_) {
      case Func::Abs: return abs(a[0], n);
      case Func::Floor:
      case Func::Ceil: return floorCeil(a[0], n);
      case Func::Round: return round(a[0], a.size() > 1 ? a[1] : Datum::of(Value::int64(0)), n);
      case Func::Lower:
      case Func::Upper: return changeCase(a[0], n);
      case Func::Length: return length(a[0], n);
      case Func::Substr: return substr(a, n);
    }
    return allNullColumn(type(), n);
  }

 private:
  template <class T>
  struct Unary {
    std::shared_ptr<Column> col;
    T* o;
    u8* valid;
  };
  template <class T>
  Unary<T> start(const Datum& x, std::size_t n) const {
    auto col = std::make_shared<Column>(type());
    T* o = resizeData<T>(*col, n);
    u8* valid = col->mutableValidity();
    andValidity(valid, x, n);
    return {std::move(col), o, valid};
  }

  Datum abs(const Datum& x, std::size_t n) const {
    if (type() == Type::Double) {
      auto u = start<double>(x, n);
      withAcc<double>(x, [&](auto X) { for (std::size_t i = 0; i < n; ++i) u.o[i] = std::fabs(X[i]); });
      return finish(u.col, u.o);
    }
    auto u = start<i64>(x, n);
    withAcc<i64>(x, [&](auto X) {
      for (std::size_t i = 0; i < n; ++i) {
        const i64 v = X[i];
        u.o[i] = v < 0 ? (v == INT64_MIN ? 0 : -v) : v;
        u.valid[i] &= static_cast<u8>(v != INT64_MIN);  // |INT64_MIN| does not fit
      }
    });
    return finish(u.col, u.o);
  }

  Datum floorCeil(const Datum& x, std::size_t n) const {
    auto u = start<double>(x, n);
    const bool isFloor = f_ == Func::Floor;
    withAcc<double>(x, [&](auto X) {
      for (std::size_t i = 0; i < n; ++i) u.o[i] = isFloor ? std::floor(X[i]) : std::ceil(X[i]);
    });
    return finish(u.col, u.o);
  }

  Datum round(const Datum& x, const Datum& digits, std::size_t n) const {
    if (type() == Type::Double) {
      auto u = start<double>(x, n);
      andValidity(u.valid, digits, n);
      withAcc<double>(x, [&](auto X) {
        withAcc<i64>(digits, [&](auto D) {
          for (std::size_t i = 0; i < n; ++i) u.o[i] = roundDouble(X[i], D[i]);
        });
      });
      return finish(u.col, u.o);
    }
    auto u = start<i64>(x, n);
    andValidity(u.valid, digits, n);
    withAcc<i64>(x, [&](auto X) {
      withAcc<i64>(digits, [&](auto D) {
        for (std::size_t i = 0; i < n; ++i) {
          i64 r;
          u.valid[i] &= static_cast<u8>(roundInt(X[i], D[i], r));
          u.o[i] = r;
        }
      });
    });
    return finish(u.col, u.o);
  }

  Datum changeCase(const Datum& x, std::size_t n) const {
    const bool toUpper = f_ == Func::Upper;
    auto col = std::make_shared<Column>(Type::String);
    col->reserve(n);
    std::string s;
    withAcc<std::string_view>(x, [&](auto X) {
      for (std::size_t i = 0; i < n; ++i) {
        if (!isValid(x, i)) { col->appendNull(); continue; }
        s.assign(X[i]);
        for (char& c : s) {
          if (toUpper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
          else if (!toUpper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
        col->appendString(s);
      }
    });
    return Datum::of(ColumnPtr(std::move(col)));
  }

  Datum length(const Datum& x, std::size_t n) const {
    auto u = start<i64>(x, n);
    withAcc<std::string_view>(x, [&](auto X) {
      for (std::size_t i = 0; i < n; ++i) {
        i64 chars = 0;
        for (char c : X[i]) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        u.o[i] = chars;
      }
    });
    return finish(u.col, u.o);
  }

  // substr(s, start[, len]) as SQL's SUBSTRING(s FROM start FOR len): characters at
  // positions [start, start + len) of the 1-based positions of s; a negative len is NULL.
  Datum substr(const std::vector<Datum>& a, std::size_t n) const {
    auto col = std::make_shared<Column>(Type::String);
    col->reserve(n);
    const bool hasLen = a.size() > 2;
    const Datum lenDefault = Datum::of(Value::int64(0));
    const Datum& lenD = hasLen ? a[2] : lenDefault;
    withAcc<std::string_view>(a[0], [&](auto S) {
      withAcc<i64>(a[1], [&](auto Start) {
        withAcc<i64>(lenD, [&](auto Len) {
          for (std::size_t i = 0; i < n; ++i) {
            if (!isValid(a[0], i) || !isValid(a[1], i) || (hasLen && !isValid(lenD, i)) ||
                (hasLen && Len[i] < 0)) {
              col->appendNull();
              continue;
            }
            const std::string_view s = S[i];
            const i64 start = Start[i];
            i64 end = INT64_MAX;  // exclusive, 1-based
            if (hasLen && __builtin_add_overflow(start, Len[i], &end)) end = INT64_MAX;
            const i64 from = std::max<i64>(start, 1);
            if (end <= from) { col->appendString({}); continue; }
            const std::size_t b0 = skipChars(s, 0, from - 1);
            const std::size_t b1 = end == INT64_MAX ? s.size() : skipChars(s, b0, end - from);
            col->appendString(s.substr(b0, b1 - b0));
          }
        });
      });
    });
    return Datum::of(ColumnPtr(std::move(col)));
  }

  Func f_;
  std::vector<NodePtr> args_;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// Factories

NodePtr makeLiteral(Value v, bool untypedNull) {
  return std::make_shared<LiteralNode>(std::move(v), untypedNull);
}
NodePtr makeField(std::size_t index, Type type) { return std::make_shared<FieldNode>(index, type); }
NodePtr makeArith(ArithOp op, NodePtr a, NodePtr b, Type result) {
  return std::make_shared<ArithNode>(op, std::move(a), std::move(b), result);
}
NodePtr makeNegate(NodePtr x) { return std::make_shared<NegateNode>(std::move(x)); }
NodePtr makeCompare(CmpOp op, NodePtr a, NodePtr b) {
  return std::make_shared<CompareNode>(op, std::move(a), std::move(b));
}
NodePtr makeAnd(NodePtr a, NodePtr b) {
  return std::make_shared<LogicNode>(true, std::move(a), std::move(b));
}
NodePtr makeOr(NodePtr a, NodePtr b) {
  return std::make_shared<LogicNode>(false, std::move(a), std::move(b));
}
NodePtr makeNot(NodePtr x) { return std::make_shared<NotNode>(std::move(x)); }
NodePtr makeIsNull(NodePtr x, bool negated) {
  return std::make_shared<IsNullNode>(std::move(x), negated);
}
NodePtr makeInList(NodePtr x, std::vector<Value> items, bool hasNull) {
  return std::make_shared<InListNode>(std::move(x), std::move(items), hasNull);
}
NodePtr makeBetween(NodePtr x, NodePtr lo, NodePtr hi) {
  return std::make_shared<BetweenNode>(std::move(x), std::move(lo), std::move(hi));
}
NodePtr makeLike(NodePtr x, NodePtr pattern, char escape) {
  return std::make_shared<LikeNode>(std::move(x), std::move(pattern), escape);
}
NodePtr makeCase(std::vector<NodePtr> when, std::vector<NodePtr> then, NodePtr otherwise, Type result) {
  return std::make_shared<CaseNode>(std::move(when), std::move(then), std::move(otherwise), result);
}
NodePtr makeCoalesce(std::vector<NodePtr> args) {
  return std::make_shared<CoalesceNode>(std::move(args));
}
NodePtr makeConcat(std::vector<NodePtr> args) { return std::make_shared<ConcatNode>(std::move(args)); }
NodePtr makeCast(NodePtr x, Type to) { return std::make_shared<CastNode>(std::move(x), to); }
NodePtr makeFunc(Func f, std::vector<NodePtr> args, Type result) {
  return std::make_shared<FuncNode>(f, std::move(args), result);
}

bool castAllowed(Type from, Type to) {
  if (from == to || from == Type::String || to == Type::String) return true;
  if (from == Type::Bool) return to != Type::Timestamp;
  if (to == Type::Bool) return from != Type::Timestamp;
  return true;  // among int64, double, timestamp
}

ColumnPtr materialize(const Datum& d, Type t, std::size_t n) { return asColumn(d, t, n); }

}  // namespace weir::expr
