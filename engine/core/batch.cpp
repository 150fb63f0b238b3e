#include "core/batch.h"

#include <cassert>

namespace weir {

std::string_view rowKindName(RowKind k) {
  switch (k) {
    case RowKind::Insert: return "+I";
    case RowKind::UpdateBefore: return "-U";
    case RowKind::UpdateAfter: return "+U";
    case RowKind::Delete: return "-D";
  }
  return "?";
}

RecordBatch::RecordBatch(SchemaPtr schema, std::vector<ColumnPtr> columns, std::size_t rows,
                         std::vector<std::int64_t> eventTime, std::vector<RowKind> kinds)
    : schema_(std::move(schema)), columns_(std::move(columns)), rows_(rows),
      eventTime_(std::move(eventTime)), kinds_(std::move(kinds)) {
  assert(schema_ && schema_->size() == columns_.size());
  assert(eventTime_.empty() || eventTime_.size() == rows_);
  assert(kinds_.empty() || kinds_.size() == rows_);
}

RecordBatch RecordBatch::select(std::span<const std::uint32_t> rows) const {
  std::vector<ColumnPtr> cols;
  cols.reserve(columns_.size());
  for (const auto& c : columns_) cols.push_back(c->gather(rows));
  std::vector<std::int64_t> et;
  if (!eventTime_.empty()) {
    et.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) et[i] = eventTime_[rows[i]];
  }
  std::vector<RowKind> kinds;
  if (!kinds_.empty()) {
    kinds.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) kinds[i] = kinds_[rows[i]];
  }
  return RecordBatch(schema_, std::move(cols), rows.size(), std::move(et), std::move(kinds));
}

RecordBatch RecordBatch::withColumns(SchemaPtr schema, std::vector<ColumnPtr> columns) const {
  return RecordBatch(std::move(schema), std::move(columns), rows_, eventTime_, kinds_);
}

RecordBatch RecordBatch::withEventTime(std::vector<std::int64_t> eventTime) const {
  return RecordBatch(schema_, columns_, rows_, std::move(eventTime), kinds_);
}

std::size_t RecordBatch::byteSize() const {
  std::size_t n = eventTime_.size() * 8 + kinds_.size();
  for (const auto& c : columns_) n += c->byteSize();
  return n;
}

BatchBuilder::BatchBuilder(SchemaPtr schema, std::size_t reserveRows)
    : schema_(std::move(schema)), reserve_(reserveRows) {
  reset();
}

void BatchBuilder::reset() {
  columns_.clear();
  for (const auto& f : schema_->fields()) {
    auto c = std::make_shared<Column>(f.type);
    if (reserve_) c->reserve(reserve_);
    columns_.push_back(std::move(c));
  }
  rows_ = 0;
  anyEventTime_ = anyKind_ = false;
  eventTime_.clear();
  kinds_.clear();
}

void BatchBuilder::endRow(std::int64_t eventTime, RowKind kind) {
  if (eventTime != kNoTimestamp && !anyEventTime_) {
    anyEventTime_ = true;
    eventTime_.assign(rows_, kNoTimestamp);
  }
  if (anyEventTime_) eventTime_.push_back(eventTime);
  if (kind != RowKind::Insert && !anyKind_) {
    anyKind_ = true;
    kinds_.assign(rows_, RowKind::Insert);
  }
  if (anyKind_) kinds_.push_back(kind);
  ++rows_;
}

void BatchBuilder::appendRow(std::span<const Value> values, std::int64_t eventTime, RowKind kind) {
  assert(values.size() == columns_.size());
  for (std::size_t i = 0; i < values.size(); ++i) columns_[i]->append(values[i]);
  endRow(eventTime, kind);
}

void BatchBuilder::abandonRow() {
  for (auto& c : columns_) c->truncate(rows_);
}

RecordBatch BatchBuilder::finish() {
  std::vector<ColumnPtr> cols(columns_.begin(), columns_.end());
  RecordBatch b(schema_, std::move(cols), rows_, std::move(eventTime_), std::move(kinds_));
  reset();
  return b;
}

}  // namespace weir
