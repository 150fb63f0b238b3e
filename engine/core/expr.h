#pragma once
// The expression language of DESIGN.md §4: SQL expressions over the fields of one record.
//
// An expression is parsed and type-checked once (compileExpression), against the schema of
// the operator's input; the result is an immutable compiled form that evaluates a whole
// RecordBatch per call, column at a time. evaluate() and selectTrue() are const and may be
// called from one thread at a time per Expr instance (each subtask compiles its own).
//
// Evaluation never fails: a row whose value cannot be computed (division by zero, integer
// overflow, a CAST of text that does not parse) is NULL. The batch passed to evaluate() and
// selectTrue() must have the schema the expression was compiled against (same field types at
// the same positions). The language, its types, null semantics and error messages are
// documented in docs/expressions.md.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/batch.h"
#include "core/schema.h"

namespace weir {

/// A compile error: `offset` is the 0-based byte offset in the expression text where the
/// problem is; `message` says what is wrong ("unknown field 'prize'", "cannot compare
/// string with int64"); toString() gives "at 7: unknown field 'prize'".
struct ExprError {
  std::size_t offset = 0;
  std::string message;
  std::string toString() const { return "at " + std::to_string(offset) + ": " + message; }
};

class Expr {
 public:
  virtual ~Expr() = default;
  /// The result type.
  virtual Type type() const = 0;
  /// Evaluates for every row of the batch; the result column has batch.numRows() rows and
  /// type type(). A bare field reference returns the batch's own column (no copy).
  virtual ColumnPtr evaluate(const RecordBatch& batch) const = 0;
  /// Appends to `rows` the indices of the rows for which the (bool) expression is TRUE
  /// (not FALSE, not NULL), in order. Appends nothing when type() is not Bool (checking
  /// that a filter is bool is the caller's job, at compile time).
  virtual void selectTrue(const RecordBatch& batch, std::vector<std::uint32_t>& rows) const = 0;
  /// Source text, for messages.
  virtual const std::string& text() const = 0;
};

struct CompiledExpr {
  std::unique_ptr<Expr> expr;          // set on success
  std::optional<ExprError> error;      // set on failure
  explicit operator bool() const { return expr != nullptr; }
};

/// Parses and type-checks `text` against `input`.
CompiledExpr compileExpression(std::string_view text, const Schema& input);

/// The names of the fields `text` reads, each once, from parsing alone (the planner's
/// projection pushdown); empty when the text does not parse.
std::vector<std::string> expressionFields(std::string_view text);

}  // namespace weir
