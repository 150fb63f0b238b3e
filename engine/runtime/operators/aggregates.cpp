#include "runtime/operators/aggregates.h"

#include <bit>
#include <cstring>

#include "runtime/operator.h"
#include "runtime/state/state_codec.h"

namespace weir {

// encodeAcc and the values of count_distinct are native byte order; snapshots promise
// little-endian.
static_assert(std::endian::native == std::endian::little, "accumulator encoding assumes a little-endian machine");

namespace {

AggFn parseFn(const std::string& fn, bool hasField) {
  if (fn == "count") return hasField ? AggFn::Count : AggFn::CountRecords;
  if (fn == "sum") return AggFn::Sum;
  if (fn == "min") return AggFn::Min;
  if (fn == "max") return AggFn::Max;
  if (fn == "avg") return AggFn::Avg;
  if (fn == "first") return AggFn::First;
  if (fn == "last") return AggFn::Last;
  if (fn == "count_distinct") return AggFn::CountDistinct;
  throw JobError("aggregates: unknown function '" + fn + "'");
}

/// Compares row `row` of `c` with the value kept in `a` (same type): <0, 0, >0.
int compare(const Column& c, std::size_t row, const Acc& a) {
  switch (c.type()) {
    case Type::Int64:
    case Type::Timestamp:
    case Type::Bool: {
      const std::int64_t v = c.type() == Type::Bool ? (c.boolean(row) ? 1 : 0) : c.int64(row);
      return v < a.i ? -1 : v > a.i ? 1 : 0;
    }
    case Type::Double: {
      const double v = c.dbl(row);
      return v < a.d ? -1 : v > a.d ? 1 : 0;
    }
    case Type::String: {
      const int r = c.str(row).compare(a.str());
      return r < 0 ? -1 : r > 0 ? 1 : 0;
    }
  }
  return 0;
}

int compareAcc(Type t, const Acc& x, const Acc& y) {
  switch (t) {
    case Type::Int64:
    case Type::Timestamp:
    case Type::Bool: return x.i < y.i ? -1 : x.i > y.i ? 1 : 0;
    case Type::Double: return x.d < y.d ? -1 : x.d > y.d ? 1 : 0;
    case Type::String: return x.str() < y.str() ? -1 : x.str() == y.str() ? 0 : 1;
  }
  return 0;
}

void keep(const Column& c, std::size_t row, Acc& a) {
  switch (c.type()) {
    case Type::Int64:
    case Type::Timestamp: a.i = c.int64(row); break;
    case Type::Bool: a.i = c.boolean(row) ? 1 : 0; break;
    case Type::Double: a.d = c.dbl(row); break;
    case Type::String: a.setStr(c.str(row)); break;
  }
}

void keepAcc(const Acc& from, Acc& a) {
  a.i = from.i;
  a.d = from.d;
  if (from.s) a.setStr(*from.s);
  else a.s.reset();
  a.ts = from.ts;
}

std::string encodeValue(const Column& c, std::size_t row) {
  switch (c.type()) {
    case Type::Int64:
    case Type::Timestamp: {
      const std::int64_t v = c.int64(row);
      return std::string(reinterpret_cast<const char*>(&v), sizeof v);
    }
    case Type::Double: {
      const double v = c.dbl(row) == 0.0 ? 0.0 : c.dbl(row);
      return std::string(reinterpret_cast<const char*>(&v), sizeof v);
    }
    case Type::Bool: return c.boolean(row) ? "1" : "0";
    case Type::String: return std::string(c.str(row));
  }
  return {};
}

}  // namespace

std::vector<AggSpec> parseAggregates(const nlohmann::json& aggregates, const Schema& input) {
  std::vector<AggSpec> specs;
  for (const auto& a : aggregates) {
    AggSpec s;
    const bool hasField = a.contains("field") && a["field"].is_string();
    s.fn = parseFn(a.value("fn", ""), hasField);
    if (hasField) {
      s.field = input.indexOf(a["field"].get<std::string>());
      if (s.field < 0) throw JobError("aggregates: no field '" + a["field"].get<std::string>() + "'");
      s.inType = input.field(static_cast<std::size_t>(s.field)).type;
    } else if (s.fn != AggFn::CountRecords) {
      throw JobError("aggregates: " + a.value("fn", std::string()) + " needs a field");
    }
    switch (s.fn) {
      case AggFn::CountRecords:
      case AggFn::Count:
      case AggFn::CountDistinct: s.outType = Type::Int64; break;
      case AggFn::Avg: s.outType = Type::Double; break;
      default: s.outType = s.inType;
    }
    specs.push_back(s);
  }
  return specs;
}

void addRow(const AggSpec& spec, const RecordBatch& batch, std::size_t row, Acc& a) {
  if (spec.fn == AggFn::CountRecords) {
    ++a.n;
    return;
  }
  const Column& c = batch.column(static_cast<std::size_t>(spec.field));
  if (c.isNull(row)) return;
  switch (spec.fn) {
    case AggFn::CountRecords: break;
    case AggFn::Count: ++a.n; break;
    case AggFn::Sum:
    case AggFn::Avg:
      if (c.type() == Type::Double) a.d += c.dbl(row);
      else a.i = static_cast<std::int64_t>(static_cast<std::uint64_t>(a.i) + static_cast<std::uint64_t>(c.int64(row)));
      ++a.n;
      break;
    case AggFn::Min:
      if (a.n == 0 || compare(c, row, a) < 0) keep(c, row, a);
      ++a.n;
      break;
    case AggFn::Max:
      if (a.n == 0 || compare(c, row, a) > 0) keep(c, row, a);
      ++a.n;
      break;
    case AggFn::First:
    case AggFn::Last: {
      const std::int64_t t = batch.eventTime(row);
      const bool first = spec.fn == AggFn::First;
      bool take = a.n == 0;
      if (!take) {
        if (t != a.ts) take = first ? t < a.ts : t > a.ts;
        else take = first ? compare(c, row, a) < 0 : compare(c, row, a) > 0;
      }
      if (take) {
        keep(c, row, a);
        a.ts = t;
      }
      ++a.n;
      break;
    }
    case AggFn::CountDistinct:
      if (!a.distinct) a.distinct = std::make_unique<std::unordered_set<std::string>>();
      a.distinct->insert(encodeValue(c, row));
      break;
  }
}

void addBatch(const AggSpec& spec, const RecordBatch& batch, std::span<const std::uint32_t> rows,
              std::span<const std::uint32_t> accIndex, std::vector<Acc>& accs, std::size_t stride,
              std::size_t offset) {
  const std::size_t n = rows.size();
  Acc* base = accs.data() + offset;
  if (spec.fn == AggFn::CountRecords) {
    for (std::size_t k = 0; k < n; ++k) ++base[accIndex[k] * stride].n;
    return;
  }
  const Column& c = batch.column(static_cast<std::size_t>(spec.field));
  const bool intLike = c.type() == Type::Int64 || c.type() == Type::Timestamp;
  // Tight loops for the common int64 cases; everything else row by row.
  if (intLike && c.nullCount() == 0) {
    const auto v = c.ints();
    switch (spec.fn) {
      case AggFn::Count:
        for (std::size_t k = 0; k < n; ++k) ++base[accIndex[k] * stride].n;
        return;
      case AggFn::Sum:
      case AggFn::Avg:
        for (std::size_t k = 0; k < n; ++k) {
          Acc& a = base[accIndex[k] * stride];
          a.i = static_cast<std::int64_t>(static_cast<std::uint64_t>(a.i) + static_cast<std::uint64_t>(v[rows[k]]));
          ++a.n;
        }
        return;
      case AggFn::Max:
        for (std::size_t k = 0; k < n; ++k) {
          Acc& a = base[accIndex[k] * stride];
          const std::int64_t x = v[rows[k]];
          if (a.n == 0 || x > a.i) a.i = x;
          ++a.n;
        }
        return;
      case AggFn::Min:
        for (std::size_t k = 0; k < n; ++k) {
          Acc& a = base[accIndex[k] * stride];
          const std::int64_t x = v[rows[k]];
          if (a.n == 0 || x < a.i) a.i = x;
          ++a.n;
        }
        return;
      default: break;
    }
  }
  for (std::size_t k = 0; k < n; ++k) addRow(spec, batch, rows[k], base[accIndex[k] * stride]);
}

void mergeAcc(const AggSpec& spec, Acc& into, Acc& from) {
  switch (spec.fn) {
    case AggFn::CountRecords:
    case AggFn::Count: into.n += from.n; return;
    case AggFn::Sum:
    case AggFn::Avg:
      into.i = static_cast<std::int64_t>(static_cast<std::uint64_t>(into.i) + static_cast<std::uint64_t>(from.i));
      into.d += from.d;
      into.n += from.n;
      return;
    case AggFn::Min:
    case AggFn::Max:
      if (from.n > 0) {
        const int c = compareAcc(spec.inType, from, into);
        if (into.n == 0 || (spec.fn == AggFn::Min ? c < 0 : c > 0)) keepAcc(from, into);
      }
      into.n += from.n;
      return;
    case AggFn::First:
    case AggFn::Last:
      if (from.n > 0) {
        const bool first = spec.fn == AggFn::First;
        bool take = into.n == 0;
        if (!take) {
          if (from.ts != into.ts) take = first ? from.ts < into.ts : from.ts > into.ts;
          else take = first ? compareAcc(spec.inType, from, into) < 0 : compareAcc(spec.inType, from, into) > 0;
        }
        if (take) keepAcc(from, into);
      }
      into.n += from.n;
      return;
    case AggFn::CountDistinct:
      if (!from.distinct) return;
      if (!into.distinct) into.distinct = std::move(from.distinct);
      else into.distinct->merge(*from.distinct);
      return;
  }
}

namespace {

/// encodeAcc's output: native byte order, appended to a string (little-endian: asserted
/// above, so the two encodings are the same bytes).
class StringSink {
 public:
  explicit StringSink(std::string& out) : out_(out) {}
  void i64(std::int64_t v) { put(v); }
  void f64(double v) { put(v); }
  void u32(std::uint32_t v) { put(v); }
  void bytes(std::string_view b) {
    put(static_cast<std::uint32_t>(b.size()));
    out_.append(b);
  }

 private:
  template <class T>
  void put(T v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  std::string& out_;
};

/// decodeAcc's input: what encodeAcc wrote, trusted (the process wrote it itself).
class StringSource {
 public:
  explicit StringSource(std::string_view& in) : in_(in) {}
  std::int64_t i64() { return get<std::int64_t>(); }
  double f64() { return get<double>(); }
  std::uint32_t u32() { return get<std::uint32_t>(); }
  std::uint32_t count() { return u32(); }
  std::string_view bytes() {
    const auto len = u32();
    const std::string_view b = in_.substr(0, len);
    in_.remove_prefix(len);
    return b;
  }

 private:
  template <class T>
  T get() {
    T v;
    std::memcpy(&v, in_.data(), sizeof v);
    in_.remove_prefix(sizeof v);
    return v;
  }
  std::string_view& in_;
};

/// A snapshot's input: checked (ByteReader fails naming its place).
class CheckedSource {
 public:
  explicit CheckedSource(ByteReader& in) : in_(in) {}
  std::int64_t i64() { return in_.i64(); }
  double f64() { return in_.f64(); }
  std::uint32_t u32() { return in_.u32(); }
  std::uint32_t count() { return readCount(in_); }
  std::string_view bytes() { return in_.bytes(); }

 private:
  ByteReader& in_;
};

/// The kept value (min, max, first, last) by its type.
template <class W>
void putValue(W& out, Type t, const Acc& a) {
  switch (t) {
    case Type::Int64:
    case Type::Timestamp:
    case Type::Bool: out.i64(a.i); break;
    case Type::Double: out.f64(a.d); break;
    case Type::String: out.bytes(a.str()); break;
  }
}
template <class R>
void getValue(R& in, Type t, Acc& a) {
  switch (t) {
    case Type::Int64:
    case Type::Timestamp:
    case Type::Bool: a.i = in.i64(); break;
    case Type::Double: a.d = in.f64(); break;
    case Type::String: a.setStr(in.bytes()); break;
  }
}

template <class W>
void encodeTo(const AggSpec& spec, const Acc& a, W& out) {
  switch (spec.fn) {
    case AggFn::CountRecords:
    case AggFn::Count: out.i64(a.n); return;
    case AggFn::Sum:
    case AggFn::Avg:
      out.i64(a.n);
      if (spec.inType == Type::Double) out.f64(a.d);
      else out.i64(a.i);
      return;
    case AggFn::Min:
    case AggFn::Max:
    case AggFn::First:
    case AggFn::Last:
      out.i64(a.n);
      if (a.n == 0) return;
      if (spec.fn == AggFn::First || spec.fn == AggFn::Last) out.i64(a.ts);
      putValue(out, spec.inType, a);
      return;
    case AggFn::CountDistinct:
      out.u32(static_cast<std::uint32_t>(a.distinct ? a.distinct->size() : 0));
      if (a.distinct)
        for (const std::string& v : *a.distinct) out.bytes(v);
      return;
  }
}

template <class R>
void decodeFrom(const AggSpec& spec, R& in, Acc& a) {
  a.n = a.i = a.ts = 0;
  a.d = 0;
  a.s.reset();
  a.distinct.reset();
  switch (spec.fn) {
    case AggFn::CountRecords:
    case AggFn::Count: a.n = in.i64(); return;
    case AggFn::Sum:
    case AggFn::Avg:
      a.n = in.i64();
      if (spec.inType == Type::Double) a.d = in.f64();
      else a.i = in.i64();
      return;
    case AggFn::Min:
    case AggFn::Max:
    case AggFn::First:
    case AggFn::Last:
      a.n = in.i64();
      if (a.n == 0) return;
      if (spec.fn == AggFn::First || spec.fn == AggFn::Last) a.ts = in.i64();
      getValue(in, spec.inType, a);
      return;
    case AggFn::CountDistinct: {
      const auto count = in.count();
      if (count == 0) return;
      a.distinct = std::make_unique<std::unordered_set<std::string>>();
      a.distinct->reserve(count);
      for (std::uint32_t k = 0; k < count; ++k) a.distinct->emplace(in.bytes());
      return;
    }
  }
}

}  // namespace

void encodeAcc(const AggSpec& spec, const Acc& a, std::string& out) {
  StringSink sink(out);
  encodeTo(spec, a, sink);
}

void decodeAcc(const AggSpec& spec, std::string_view& in, Acc& a) {
  StringSource source(in);
  decodeFrom(spec, source, a);
}

void writeAcc(const AggSpec& spec, const Acc& a, ByteWriter& out) { encodeTo(spec, a, out); }

void readAcc(const AggSpec& spec, ByteReader& in, Acc& a) {
  CheckedSource source(in);
  decodeFrom(spec, source, a);
}

void writeAccs(std::span<const AggSpec> specs, const Acc* accs, ByteWriter& out) {
  for (std::size_t a = 0; a < specs.size(); ++a) writeAcc(specs[a], accs[a], out);
}

void readAccs(std::span<const AggSpec> specs, ByteReader& in, Acc* accs) {
  for (std::size_t a = 0; a < specs.size(); ++a) readAcc(specs[a], in, accs[a]);
}

void appendResult(const AggSpec& spec, const Acc& a, Column& out) {
  switch (spec.fn) {
    case AggFn::CountRecords:
    case AggFn::Count: out.appendInt64(a.n); return;
    case AggFn::CountDistinct:
      out.appendInt64(a.distinct ? static_cast<std::int64_t>(a.distinct->size()) : 0);
      return;
    case AggFn::Avg:
      if (a.n == 0) out.appendNull();
      else if (spec.inType == Type::Double) out.appendDouble(a.d / static_cast<double>(a.n));
      else out.appendDouble(static_cast<double>(a.i) / static_cast<double>(a.n));
      return;
    default: break;
  }
  if (a.n == 0) {
    out.appendNull();
    return;
  }
  switch (spec.outType) {
    case Type::Int64:
    case Type::Timestamp: out.appendInt64(a.i); break;
    case Type::Bool: out.appendBool(a.i != 0); break;
    case Type::Double: out.appendDouble(a.d); break;
    case Type::String: out.appendString(a.str()); break;
  }
}

Value resultValue(const AggSpec& spec, const Acc& a) {
  switch (spec.fn) {
    case AggFn::CountRecords:
    case AggFn::Count: return Value::int64(a.n);
    case AggFn::CountDistinct:
      return Value::int64(a.distinct ? static_cast<std::int64_t>(a.distinct->size()) : 0);
    case AggFn::Avg:
      if (a.n == 0) return Value::null(Type::Double);
      if (spec.inType == Type::Double) return Value::dbl(a.d / static_cast<double>(a.n));
      return Value::dbl(static_cast<double>(a.i) / static_cast<double>(a.n));
    default: break;
  }
  if (a.n == 0) return Value::null(spec.outType);
  switch (spec.outType) {
    case Type::Int64: return Value::int64(a.i);
    case Type::Timestamp: return Value::timestamp(a.i);
    case Type::Bool: return Value::boolean(a.i != 0);
    case Type::Double: return Value::dbl(a.d);
    case Type::String: return Value::string(a.str());
  }
  return Value::null(spec.outType);
}

}  // namespace weir
