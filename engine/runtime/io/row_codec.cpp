#include "runtime/io/row_codec.h"

namespace weir {

void writeRows(const Schema& schema, const std::vector<RecordBatch>& batches, ByteWriter& out) {
  out.u32(static_cast<std::uint32_t>(schema.size()));
  for (std::size_t c = 0; c < schema.size(); ++c) {
    out.str(schema.field(c).name);
    out.u8(static_cast<std::uint8_t>(schema.field(c).type));
  }
  std::size_t rows = 0;
  for (const RecordBatch& b : batches) rows += b.numRows();
  out.u32(static_cast<std::uint32_t>(rows));
  for (const RecordBatch& b : batches) {
    for (std::size_t r = 0; r < b.numRows(); ++r) {
      out.u8(static_cast<std::uint8_t>(b.kind(r)));
      out.i64(b.eventTime(r));
      for (std::size_t c = 0; c < schema.size(); ++c) {
        const Column& col = b.column(c);
        if (col.isNull(r)) {
          out.u8(0);
          continue;
        }
        out.u8(1);
        switch (col.type()) {
          case Type::Int64:
          case Type::Timestamp: out.i64(col.int64(r)); break;
          case Type::Double: out.f64(col.dbl(r)); break;
          case Type::Bool: out.u8(col.boolean(r) ? 1 : 0); break;
          case Type::String: out.str(col.str(r)); break;
        }
      }
    }
  }
}

RecordBatch readRows(const SchemaPtr& schema, ByteReader& in) {
  const std::uint32_t fields = in.u32();
  if (fields != schema->size())
    in.fail("rows of " + std::to_string(fields) + " fields, the input has " + std::to_string(schema->size()));
  for (std::size_t c = 0; c < schema->size(); ++c) {
    const std::string name = in.str();
    const std::uint8_t type = in.u8();
    if (name != schema->field(c).name || type != static_cast<std::uint8_t>(schema->field(c).type))
      in.fail("field " + std::to_string(c + 1) + " was '" + name + "', the input has '" + schema->field(c).name +
              "' " + std::string(typeName(schema->field(c).type)));
  }
  const std::uint32_t rows = in.u32();
  // Every row takes at least 9 + fields bytes: refuse a count that cannot fit.
  if (rows > in.remaining() / (9 + fields)) in.fail(std::to_string(rows) + " rows do not fit");
  BatchBuilder b(schema, rows);
  for (std::uint32_t r = 0; r < rows; ++r) {
    const std::uint8_t kind = in.u8();
    if (kind > static_cast<std::uint8_t>(RowKind::Delete)) in.fail("a bad row kind " + std::to_string(kind));
    const std::int64_t eventTime = in.i64();
    for (std::size_t c = 0; c < schema->size(); ++c) {
      Column& col = b.column(c);
      const bool present = in.boolean();
      if (!present) {
        col.appendNull();
        continue;
      }
      switch (schema->field(c).type) {
        case Type::Int64:
        case Type::Timestamp: col.appendInt64(in.i64()); break;
        case Type::Double: col.appendDouble(in.f64()); break;
        case Type::Bool: col.appendBool(in.boolean()); break;
        case Type::String: col.appendString(in.bytes()); break;
      }
    }
    b.endRow(eventTime, static_cast<RowKind>(kind));
  }
  return b.finish();
}

}  // namespace weir
