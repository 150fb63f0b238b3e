#include "net/codec.h"

#include <bit>
#include <cassert>
#include <cstring>

namespace weir::net {

static_assert(std::endian::native == std::endian::little,
              "the wire format is little-endian and columns are copied as they are in memory");

namespace {

constexpr std::uint8_t kHasEventTime = 1;
constexpr std::uint8_t kHasKinds = 2;
constexpr std::uint8_t kInlineSchema = 4;
constexpr std::uint8_t kBatchFlags = kHasEventTime | kHasKinds | kInlineSchema;
constexpr std::uint8_t kColumnHasNulls = 1;

// ---- encoding ------------------------------------------------------------------------

std::size_t schemaSize(const Schema& s) {
  std::size_t n = 2;
  for (const auto& f : s.fields()) n += 1 + 2 + f.name.size();
  return n;
}

std::size_t columnSize(const Column& c, std::size_t rows) {
  std::size_t n = 2 + (c.nullCount() ? rows : 0);
  switch (c.type()) {
    case Type::Int64:
    case Type::Timestamp:
    case Type::Double: n += rows * 8; break;
    case Type::Bool: n += rows; break;
    case Type::String: n += (rows + 1) * 4 + 4 + (c.offsets()[rows] - c.offsets()[0]); break;
  }
  return n;
}

std::size_t batchSize(const RecordBatch& b, bool inlineSchema) {
  std::size_t n = 1 + 1 + 4 + 4 + 2;  // kind, flags, schema id, rows, columns
  if (inlineSchema) n += schemaSize(b.schema());
  if (b.hasEventTime()) n += b.numRows() * 8;
  if (b.hasKinds()) n += b.numRows();
  for (const auto& c : b.columns()) n += columnSize(*c, b.numRows());
  return n;
}

class Writer {
 public:
  explicit Writer(std::uint8_t* p) : p_(p) {}
  void u8(std::uint8_t v) { *p_++ = v; }
  void u16(std::uint16_t v) { raw(&v, 2); }
  void u32(std::uint32_t v) { raw(&v, 4); }
  void i64(std::int64_t v) { raw(&v, 8); }
  void raw(const void* src, std::size_t n) {
    if (n) std::memcpy(p_, src, n);
    p_ += n;
  }
  std::uint8_t* pos() const { return p_; }

 private:
  std::uint8_t* p_;
};

void writeColumn(Writer& w, const Column& c, std::size_t rows) {
  assert(c.size() == rows);
  w.u8(static_cast<std::uint8_t>(c.type()));
  w.u8(c.nullCount() ? kColumnHasNulls : 0);
  if (c.nullCount()) w.raw(c.validity().data(), rows);
  switch (c.type()) {
    case Type::Int64:
    case Type::Timestamp: w.raw(c.ints().data(), rows * 8); break;
    case Type::Double: w.raw(c.doubles().data(), rows * 8); break;
    case Type::Bool: w.raw(c.bools().data(), rows); break;
    case Type::String: {
      const auto offsets = c.offsets();
      const std::uint32_t base = offsets[0];
      if (base == 0) {
        w.raw(offsets.data(), (rows + 1) * 4);
      } else {  // not produced by Column today, but keep the wire form starting at 0
        for (std::size_t i = 0; i <= rows; ++i) w.u32(offsets[i] - base);
      }
      const std::uint32_t len = offsets[rows] - base;
      w.u32(len);
      w.raw(c.chars().data() + base, len);
      break;
    }
  }
}

// ---- decoding ------------------------------------------------------------------------

/// Bounds-checked cursor over the input; the first failure sticks (later reads are no-ops
/// returning zeros), so callers check ok() after a group of reads.
class Reader {
 public:
  Reader(std::span<const std::uint8_t> bytes, std::size_t base) : b_(bytes), base_(base) {}

  bool ok() const { return !failed_; }
  std::size_t remaining() const { return b_.size() - pos_; }
  std::size_t offset() const { return base_ + pos_; }
  std::size_t used() const { return pos_; }

  bool need(std::size_t n, const char* what) {
    if (failed_) return false;
    if (n > remaining()) return fail(std::string("truncated ") + what + ": needs " + std::to_string(n) +
                                     " bytes, " + std::to_string(remaining()) + " left");
    return true;
  }
  bool fail(std::string reason) {
    if (!failed_) {
      failed_ = true;
      error_ = CodecError{offset(), std::move(reason)};
    }
    return false;
  }
  const CodecError& error() const { return error_; }

  std::uint8_t u8(const char* what) {
    if (!need(1, what)) return 0;
    return b_[pos_++];
  }
  std::uint16_t u16(const char* what) { std::uint16_t v = 0; copy(&v, 2, what); return v; }
  std::uint32_t u32(const char* what) { std::uint32_t v = 0; copy(&v, 4, what); return v; }
  std::int64_t i64(const char* what) { std::int64_t v = 0; copy(&v, 8, what); return v; }
  bool copy(void* dst, std::size_t n, const char* what) {
    if (!need(n, what)) return false;
    if (n) std::memcpy(dst, b_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  /// A view of the next n bytes (checked), advancing past them.
  const std::uint8_t* take(std::size_t n, const char* what) {
    if (!need(n, what)) return nullptr;
    const std::uint8_t* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }

 private:
  std::span<const std::uint8_t> b_;
  std::size_t base_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  CodecError error_;
};

bool validType(std::uint8_t t) { return t <= static_cast<std::uint8_t>(Type::Timestamp); }

SchemaPtr readSchema(Reader& r) {
  const std::uint16_t n = r.u16("schema field count");
  if (!r.ok()) return nullptr;
  if (n > kMaxFields) {
    r.fail("schema has " + std::to_string(n) + " fields, limit " + std::to_string(kMaxFields));
    return nullptr;
  }
  // Each field takes at least 3 bytes: refuse before reserving for a count the bytes
  // cannot hold.
  if (!r.need(std::size_t{n} * 3, "schema fields")) return nullptr;
  std::vector<Field> fields;
  fields.reserve(n);
  for (std::uint16_t i = 0; i < n; ++i) {
    const std::size_t at = r.offset();
    const std::uint8_t t = r.u8("field type");
    const std::uint16_t len = r.u16("field name length");
    if (!r.ok()) return nullptr;
    if (!validType(t)) {
      r.fail("field " + std::to_string(i) + " has unknown type tag " + std::to_string(t));
      return nullptr;
    }
    if (len > kMaxFieldName) {
      r.fail("field " + std::to_string(i) + " name of " + std::to_string(len) + " bytes, limit " +
             std::to_string(kMaxFieldName));
      return nullptr;
    }
    const auto* name = r.take(len, "field name");
    if (!name) return nullptr;
    (void)at;
    fields.push_back(Field{std::string(reinterpret_cast<const char*>(name), len), static_cast<Type>(t)});
  }
  return makeSchema(std::move(fields));
}

bool checkBytes01(Reader& r, const std::uint8_t* p, std::size_t n, std::size_t at, const char* what) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] > 1) {
      r.fail(std::string(what) + " byte " + std::to_string(i) + " is " + std::to_string(p[i]) +
             " (0 or 1 expected) in the array at byte " + std::to_string(at));
      return false;
    }
  }
  return true;
}

ColumnPtr readColumn(Reader& r, Type expected, std::size_t index, std::size_t rows) {
  const std::uint8_t t = r.u8("column type");
  const std::uint8_t flags = r.u8("column flags");
  if (!r.ok()) return nullptr;
  if (t != static_cast<std::uint8_t>(expected)) {
    r.fail("column " + std::to_string(index) + " has type tag " + std::to_string(t) + ", schema says " +
           std::string(typeName(expected)));
    return nullptr;
  }
  if (flags & ~kColumnHasNulls) {
    r.fail("column " + std::to_string(index) + " has unknown flags " + std::to_string(flags));
    return nullptr;
  }
  const std::uint8_t* validity = nullptr;
  if (flags & kColumnHasNulls) {
    const std::size_t at = r.offset();
    validity = r.take(rows, "validity");
    if (!validity || !checkBytes01(r, validity, rows, at, "validity")) return nullptr;
  }
  auto col = std::make_shared<Column>(expected);
  auto setValidity = [&] {
    if (!validity) return;
    if (rows) std::memcpy(col->mutableValidity(), validity, rows);
    col->recountNulls();
  };
  switch (expected) {
    case Type::Int64:
    case Type::Timestamp: {
      if (!r.need(rows * 8, "int64 values")) return nullptr;
      r.copy(col->resizeInts(rows), rows * 8, "int64 values");
      setValidity();
      break;
    }
    case Type::Double: {
      if (!r.need(rows * 8, "double values")) return nullptr;
      r.copy(col->resizeDoubles(rows), rows * 8, "double values");
      setValidity();
      break;
    }
    case Type::Bool: {
      const std::size_t at = r.offset();
      const auto* p = r.take(rows, "bool values");
      if (!p || !checkBytes01(r, p, rows, at, "bool")) return nullptr;
      std::uint8_t* dst = col->resizeBools(rows);
      if (rows) std::memcpy(dst, p, rows);
      setValidity();
      break;
    }
    case Type::String: {
      const std::size_t offsetsAt = r.offset();
      const auto* po = r.take((rows + 1) * 4, "string offsets");
      const std::uint32_t len = r.u32("string bytes length");
      if (!r.ok()) return nullptr;
      const std::size_t charsAt = r.offset();
      const auto* chars = r.take(len, "string bytes");
      if (!chars) return nullptr;
      // Offsets: start at 0, never decrease, end at the byte length.
      std::uint32_t prev = 0;
      for (std::size_t i = 0; i <= rows; ++i) {
        std::uint32_t o;
        std::memcpy(&o, po + i * 4, 4);
        if ((i == 0 && o != 0) || o < prev || o > len) {
          r.fail("string offset " + std::to_string(i) + " of column " + std::to_string(index) + " is " +
                 std::to_string(o) + " (previous " + std::to_string(prev) + ", bytes " + std::to_string(len) +
                 ") in the array at byte " + std::to_string(offsetsAt));
          return nullptr;
        }
        prev = o;
      }
      if (prev != len) {
        r.fail("string offsets of column " + std::to_string(index) + " end at " + std::to_string(prev) +
               " but " + std::to_string(len) + " bytes follow at byte " + std::to_string(charsAt));
        return nullptr;
      }
      col->reserve(rows);
      const char* cp = reinterpret_cast<const char*>(chars);
      std::uint32_t start = 0;
      for (std::size_t i = 0; i < rows; ++i) {
        std::uint32_t end;
        std::memcpy(&end, po + (i + 1) * 4, 4);
        if (validity && !validity[i]) col->appendNull();
        else col->appendString(std::string_view(cp + start, end - start));
        start = end;
      }
      break;
    }
  }
  return col;
}

Decoded<StreamElement> readBatch(Reader& r, SchemaDecoder& schemas) {
  const std::size_t flagsAt = r.offset();
  const std::uint8_t flags = r.u8("batch flags");
  const std::uint32_t schemaId = r.u32("schema id");
  if (!r.ok()) return r.error();
  if (flags & ~kBatchFlags) return CodecError{flagsAt, "unknown batch flags " + std::to_string(flags)};
  SchemaPtr schema;
  if (flags & kInlineSchema) {
    const std::size_t at = r.offset();
    schema = readSchema(r);
    if (!schema) return r.error();
    if (!schemas.define(schemaId, schema))
      return CodecError{at, "schema id " + std::to_string(schemaId) + " defined out of order"};
  } else {
    const SchemaPtr* s = schemas.find(schemaId);
    if (!s) return CodecError{flagsAt + 1, "unknown schema id " + std::to_string(schemaId)};
    schema = *s;
  }
  const std::size_t rowsAt = r.offset();
  const std::uint32_t rows = r.u32("row count");
  const std::uint16_t ncols = r.u16("column count");
  if (!r.ok()) return r.error();
  if (rows > kMaxRows)
    return CodecError{rowsAt, std::to_string(rows) + " rows, limit " + std::to_string(kMaxRows)};
  if (ncols != schema->size())
    return CodecError{rowsAt + 4, std::to_string(ncols) + " columns, schema has " + std::to_string(schema->size())};

  std::vector<std::int64_t> eventTime;
  if (flags & kHasEventTime) {
    if (!r.need(std::size_t{rows} * 8, "event times")) return r.error();
    eventTime.resize(rows);
    r.copy(eventTime.data(), std::size_t{rows} * 8, "event times");
  }
  std::vector<RowKind> kinds;
  if (flags & kHasKinds) {
    const std::size_t at = r.offset();
    const auto* p = r.take(rows, "row kinds");
    if (!p) return r.error();
    for (std::size_t i = 0; i < rows; ++i)
      if (p[i] > static_cast<std::uint8_t>(RowKind::Delete))
        return CodecError{at + i, "row kind " + std::to_string(p[i]) + " of row " + std::to_string(i)};
    kinds.resize(rows);
    if (rows) std::memcpy(kinds.data(), p, rows);
  }
  std::vector<ColumnPtr> columns;
  columns.reserve(ncols);
  for (std::size_t i = 0; i < ncols; ++i) {
    auto c = readColumn(r, schema->field(i).type, i, rows);
    if (!c) return r.error();
    columns.push_back(std::move(c));
  }
  return StreamElement(RecordBatch(std::move(schema), std::move(columns), rows, std::move(eventTime),
                                   std::move(kinds)));
}

}  // namespace

std::string CodecError::toString() const { return "at byte " + std::to_string(offset) + ": " + reason; }

std::optional<std::pair<std::uint32_t, bool>> SchemaEncoder::idOf(const SchemaPtr& schema) {
  for (std::size_t i = 0; i < known_.size(); ++i)
    if (known_[i] == schema) return std::pair{static_cast<std::uint32_t>(i), false};
  for (std::size_t i = 0; i < known_.size(); ++i)
    if (*known_[i] == *schema) return std::pair{static_cast<std::uint32_t>(i), false};
  if (known_.size() >= kMaxSchemas) return std::nullopt;
  known_.push_back(schema);
  return std::pair{static_cast<std::uint32_t>(known_.size() - 1), true};
}

const SchemaPtr* SchemaDecoder::find(std::uint32_t id) const {
  return id < known_.size() ? &known_[id] : nullptr;
}

bool SchemaDecoder::define(std::uint32_t id, SchemaPtr schema) {
  if (id != known_.size() || id >= kMaxSchemas) return false;
  known_.push_back(std::move(schema));
  return true;
}

std::size_t encodedSize(const StreamElement& element, bool inlineSchema) {
  switch (element.index()) {
    case 0: return batchSize(std::get<RecordBatch>(element), inlineSchema);
    case 1: return 1 + 8;
    case 2: return 1 + 1;
    case 3: return 1 + 16;
    default: return 1;
  }
}

void encodeElement(const StreamElement& element, std::uint32_t schemaId, bool inlineSchema,
                   std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  const std::size_t size = encodedSize(element, inlineSchema);
  out.resize(start + size);
  Writer w(out.data() + start);
  if (const auto* b = std::get_if<RecordBatch>(&element)) {
    w.u8(static_cast<std::uint8_t>(ElementKind::Batch));
    std::uint8_t flags = 0;
    if (b->hasEventTime()) flags |= kHasEventTime;
    if (b->hasKinds()) flags |= kHasKinds;
    if (inlineSchema) flags |= kInlineSchema;
    w.u8(flags);
    w.u32(schemaId);
    if (inlineSchema) {
      const auto& fields = b->schema().fields();
      w.u16(static_cast<std::uint16_t>(fields.size()));
      for (const auto& f : fields) {
        w.u8(static_cast<std::uint8_t>(f.type));
        w.u16(static_cast<std::uint16_t>(f.name.size()));
        w.raw(f.name.data(), f.name.size());
      }
    }
    const std::size_t rows = b->numRows();
    w.u32(static_cast<std::uint32_t>(rows));
    w.u16(static_cast<std::uint16_t>(b->numColumns()));
    if (b->hasEventTime()) w.raw(b->eventTimes().data(), rows * 8);
    if (b->hasKinds()) w.raw(b->kinds().data(), rows);
    for (const auto& c : b->columns()) writeColumn(w, *c, rows);
  } else if (const auto* wm = std::get_if<Watermark>(&element)) {
    w.u8(static_cast<std::uint8_t>(ElementKind::Watermark));
    w.i64(wm->timestamp);
  } else if (const auto* st = std::get_if<WatermarkStatus>(&element)) {
    w.u8(static_cast<std::uint8_t>(ElementKind::WatermarkStatus));
    w.u8(st->idle ? 1 : 0);
  } else if (const auto* cb = std::get_if<CheckpointBarrier>(&element)) {
    w.u8(static_cast<std::uint8_t>(ElementKind::CheckpointBarrier));
    w.i64(cb->id);
    w.i64(cb->timestamp);
  } else if (std::holds_alternative<EndOfData>(element)) {
    w.u8(static_cast<std::uint8_t>(ElementKind::EndOfData));
  } else {
    w.u8(static_cast<std::uint8_t>(ElementKind::EndOfPartition));
  }
  assert(w.pos() == out.data() + start + size);
}

std::vector<std::uint8_t> encodeStandalone(const StreamElement& element) {
  std::vector<std::uint8_t> out;
  encodeElement(element, 0, true, out);
  return out;
}

Decoded<std::pair<StreamElement, std::size_t>> decodeElement(std::span<const std::uint8_t> bytes,
                                                              SchemaDecoder& schemas,
                                                              std::size_t baseOffset) {
  Reader r(bytes, baseOffset);
  const std::size_t kindAt = r.offset();
  const std::uint8_t kind = r.u8("element kind");
  if (!r.ok()) return r.error();
  auto done = [&](StreamElement e) -> Decoded<std::pair<StreamElement, std::size_t>> {
    if (!r.ok()) return r.error();
    return std::pair{std::move(e), r.used()};
  };
  switch (static_cast<ElementKind>(kind)) {
    case ElementKind::Batch: {
      auto b = readBatch(r, schemas);
      if (!b) return b.error();
      return done(std::move(b.value()));
    }
    case ElementKind::Watermark: return done(Watermark{r.i64("watermark")});
    case ElementKind::WatermarkStatus: {
      const std::size_t at = r.offset();
      const std::uint8_t idle = r.u8("watermark status");
      if (r.ok() && idle > 1) return CodecError{at, "watermark status " + std::to_string(idle)};
      return done(WatermarkStatus{idle == 1});
    }
    case ElementKind::CheckpointBarrier: {
      const std::int64_t id = r.i64("barrier id");
      const std::int64_t ts = r.i64("barrier timestamp");
      return done(CheckpointBarrier{id, ts});
    }
    case ElementKind::EndOfPartition: return done(EndOfPartition{});
    case ElementKind::EndOfData: return done(EndOfData{});
  }
  return CodecError{kindAt, "unknown element kind " + std::to_string(kind)};
}

void encodeDataPayloadHeader(std::vector<std::uint8_t>& out, std::uint32_t count) {
  const std::size_t at = out.size();
  out.resize(at + 4);
  std::memcpy(out.data() + at, &count, 4);
}

Decoded<std::vector<StreamElement>> decodeDataPayload(std::span<const std::uint8_t> payload,
                                                      SchemaDecoder& schemas) {
  if (payload.size() < 4) return CodecError{0, "truncated element count"};
  std::uint32_t count;
  std::memcpy(&count, payload.data(), 4);
  if (count == 0) return CodecError{0, "data frame without elements"};
  // Every element takes at least one byte.
  if (count > payload.size() - 4)
    return CodecError{0, std::to_string(count) + " elements cannot fit in " + std::to_string(payload.size() - 4) +
                             " bytes"};
  std::vector<StreamElement> out;
  out.reserve(count);
  std::size_t pos = 4;
  for (std::uint32_t i = 0; i < count; ++i) {
    auto e = decodeElement(payload.subspan(pos), schemas, pos);
    if (!e) return e.error();
    pos += e.value().second;
    out.push_back(std::move(e.value().first));
  }
  if (pos != payload.size())
    return CodecError{pos, std::to_string(payload.size() - pos) + " bytes after the last element"};
  return out;
}

bool sameElement(const StreamElement& a, const StreamElement& b) {
  if (a.index() != b.index()) return false;
  if (const auto* w = std::get_if<Watermark>(&a)) return *w == std::get<Watermark>(b);
  if (const auto* s = std::get_if<WatermarkStatus>(&a)) return *s == std::get<WatermarkStatus>(b);
  if (const auto* c = std::get_if<CheckpointBarrier>(&a)) return *c == std::get<CheckpointBarrier>(b);
  if (std::holds_alternative<EndOfPartition>(a) || std::holds_alternative<EndOfData>(a)) return true;
  const auto* x = std::get_if<RecordBatch>(&a);
  const auto* y = std::get_if<RecordBatch>(&b);
  if (x->schema() != y->schema() || x->numRows() != y->numRows()) return false;
  if (x->hasEventTime() != y->hasEventTime() || x->hasKinds() != y->hasKinds()) return false;
  for (std::size_t r = 0; r < x->numRows(); ++r) {
    if (x->eventTime(r) != y->eventTime(r) || x->kind(r) != y->kind(r)) return false;
    for (std::size_t c = 0; c < x->numColumns(); ++c) {
      const Column& p = x->column(c);
      const Column& q = y->column(c);
      if (p.isNull(r) != q.isNull(r)) return false;
      if (p.isNull(r)) continue;
      switch (p.type()) {
        case Type::Int64:
        case Type::Timestamp:
          if (p.int64(r) != q.int64(r)) return false;
          break;
        case Type::Double:  // bitwise: NaN and -0.0 must survive the trip as they were
          if (std::memcmp(&p.doubles()[r], &q.doubles()[r], 8) != 0) return false;
          break;
        case Type::Bool:
          if (p.boolean(r) != q.boolean(r)) return false;
          break;
        case Type::String:
          if (p.str(r) != q.str(r)) return false;
          break;
      }
    }
  }
  return true;
}

}  // namespace weir::net
