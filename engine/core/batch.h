#pragma once
// RecordBatch: many records of one schema, stored column by column (core/column.h).
//
// Besides its fields, each record carries
//   - an event timestamp (ms since the epoch, or kNoTimestamp), assigned by a source with
//     a `timestamp` param and kept through operators that do not change it, as Flink's
//     StreamRecord does; stored only when the batch has event time (hasEventTime()).
//   - a RowKind, for update streams (the `aggregate` operator's changelog); stored only
//     when some record is not an Insert.
// A batch is immutable once built: operators build new batches (sharing unchanged
// columns) rather than editing. Moving a batch is cheap; copying shares its columns.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/column.h"
#include "core/schema.h"

namespace weir {

/// Changelog kind of a record, as Flink's RowKind.
enum class RowKind : std::uint8_t { Insert = 0, UpdateBefore = 1, UpdateAfter = 2, Delete = 3 };
std::string_view rowKindName(RowKind k);  // "+I", "-U", "+U", "-D"

class RecordBatch {
 public:
  RecordBatch() = default;
  RecordBatch(SchemaPtr schema, std::vector<ColumnPtr> columns, std::size_t rows,
              std::vector<std::int64_t> eventTime = {}, std::vector<RowKind> kinds = {});

  const Schema& schema() const { return *schema_; }
  const SchemaPtr& schemaPtr() const { return schema_; }
  std::size_t numRows() const { return rows_; }
  std::size_t numColumns() const { return columns_.size(); }
  bool empty() const { return rows_ == 0; }

  const Column& column(std::size_t i) const { return *columns_[i]; }
  const ColumnPtr& columnPtr(std::size_t i) const { return columns_[i]; }
  const std::vector<ColumnPtr>& columns() const { return columns_; }

  bool hasEventTime() const { return !eventTime_.empty(); }
  std::int64_t eventTime(std::size_t row) const { return eventTime_.empty() ? kNoTimestamp : eventTime_[row]; }
  std::span<const std::int64_t> eventTimes() const { return eventTime_; }

  bool hasKinds() const { return !kinds_.empty(); }
  RowKind kind(std::size_t row) const { return kinds_.empty() ? RowKind::Insert : kinds_[row]; }
  std::span<const RowKind> kinds() const { return kinds_; }

  /// The given rows, in that order (filter, partitioning).
  RecordBatch select(std::span<const std::uint32_t> rows) const;
  /// Same rows and per-record metadata, other columns (projection, map).
  RecordBatch withColumns(SchemaPtr schema, std::vector<ColumnPtr> columns) const;
  /// Same rows and columns with these event timestamps (one per row).
  RecordBatch withEventTime(std::vector<std::int64_t> eventTime) const;

  /// Bytes of the column data (metrics: bytes in/out).
  std::size_t byteSize() const;

 private:
  SchemaPtr schema_;
  std::vector<ColumnPtr> columns_;
  std::size_t rows_ = 0;
  std::vector<std::int64_t> eventTime_;
  std::vector<RowKind> kinds_;
};

/// Builds a batch row by row (sources, aggregates, tests).
class BatchBuilder {
 public:
  explicit BatchBuilder(SchemaPtr schema, std::size_t reserveRows = 0);

  Column& column(std::size_t i) { return *columns_[i]; }
  /// Call once per row after appending one value to every column.
  void endRow(std::int64_t eventTime = kNoTimestamp, RowKind kind = RowKind::Insert);
  /// Appends a whole row of values (slow path).
  void appendRow(std::span<const Value> values, std::int64_t eventTime = kNoTimestamp,
                 RowKind kind = RowKind::Insert);
  /// Drops values appended to some columns since the last endRow (a row that failed to parse).
  void abandonRow();
  std::size_t numRows() const { return rows_; }
  const SchemaPtr& schemaPtr() const { return schema_; }
  /// The batch built so far; the builder starts over empty.
  RecordBatch finish();

 private:
  void reset();

  SchemaPtr schema_;
  std::size_t reserve_;
  std::vector<std::shared_ptr<Column>> columns_;
  std::size_t rows_ = 0;
  bool anyEventTime_ = false;
  bool anyKind_ = false;
  std::vector<std::int64_t> eventTime_;
  std::vector<RowKind> kinds_;
};

}  // namespace weir
