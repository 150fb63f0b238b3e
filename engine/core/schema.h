#pragma once
// A schema is the ordered list of named, typed fields that flows on an edge.
// Schemas are immutable once built and shared between batches (SchemaPtr).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace weir {

struct Field {
  std::string name;
  Type type;
  bool operator==(const Field&) const = default;
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}

  const std::vector<Field>& fields() const { return fields_; }
  std::size_t size() const { return fields_.size(); }
  const Field& field(std::size_t i) const { return fields_[i]; }
  /// Index of the field with this exact name, or -1.
  int indexOf(std::string_view name) const;
  /// "auction:int64, price:int64"
  std::string toString() const;

  bool operator==(const Schema&) const = default;

 private:
  std::vector<Field> fields_;
};

using SchemaPtr = std::shared_ptr<const Schema>;

inline SchemaPtr makeSchema(std::vector<Field> fields) {
  return std::make_shared<const Schema>(std::move(fields));
}

}  // namespace weir
