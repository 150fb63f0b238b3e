#include "runtime/io/jsonl.h"

#include <charconv>
#include <cstring>

#include "core/text.h"

namespace weir {
namespace {

constexpr std::size_t kMaxTextInReason = 80;

inline bool isWs(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline const char* skipWs(const char* p, const char* e) {
  while (p < e && isWs(*p)) ++p;
  return p;
}

inline bool isNumberChar(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/// p is just after an opening quote: returns the closing quote, or nullptr.
inline const char* scanString(const char* p, const char* e, bool& escaped) {
  for (;;) {
    while (p < e && *p != '"' && *p != '\\') ++p;
    if (p >= e) return nullptr;
    if (*p == '"') return p;
    escaped = true;
    p += 2;
  }
}

/// p is at '{' or '[': returns just after the matching bracket, or nullptr.
const char* skipNested(const char* p, const char* e) {
  int depth = 0;
  while (p < e) {
    const char c = *p;
    if (c == '"') {
      bool esc = false;
      const char* q = scanString(p + 1, e, esc);
      if (!q) return nullptr;
      p = q + 1;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return p + 1;
    }
    ++p;
  }
  return nullptr;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool readHex4(std::string_view s, std::size_t at, std::uint32_t& out) {
  if (at + 4 > s.size()) return false;
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const int h = hexValue(s[at + i]);
    if (h < 0) return false;
    v = v * 16 + static_cast<std::uint32_t>(h);
  }
  out = v;
  return true;
}

void appendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string shortText(std::string_view text) {
  if (text.size() <= kMaxTextInReason) return std::string(text);
  return std::string(text.substr(0, kMaxTextInReason)) + "...";
}

}  // namespace

bool unescapeJsonString(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= in.size()) return false;
    switch (in[i]) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        std::uint32_t cp;
        if (!readHex4(in, i + 1, cp)) return false;
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00) {
          std::uint32_t lo;
          if (i + 2 < in.size() && in[i + 1] == '\\' && in[i + 2] == 'u' &&
              readHex4(in, i + 3, lo) && lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          } else {
            cp = 0xFFFD;  // a lone surrogate
          }
        } else if (cp >= 0xDC00 && cp < 0xE000) {
          cp = 0xFFFD;
        }
        appendUtf8(out, cp);
        break;
      }
      default: return false;
    }
  }
  return true;
}

void appendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + from, i - from);
    from = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + from, s.size() - from);
  out.push_back('"');
}

// ---------------------------------------------------------------------------------------
// Reading

JsonlReader::JsonlReader(SchemaPtr schema, FileSplit split, ReaderOptions options,
                         DeadLetterHandler onBad, std::optional<ReadPosition> resume)
    : RecordReader(std::move(schema), std::move(split), options, std::move(onBad), resume),
      slots_(schema_->size()) {}

int JsonlReader::fieldIndex(std::string_view key) {
  const auto& fields = schema_->fields();
  const int n = static_cast<int>(fields.size());
  if (hint_ < n && fields[static_cast<std::size_t>(hint_)].name == key) return hint_++;
  for (int i = 0; i < n; ++i) {
    if (fields[static_cast<std::size_t>(i)].name == key) {
      hint_ = i + 1;
      return i;
    }
  }
  return -1;
}

bool JsonlReader::parseObject(const char* p, const char* e) {
  const char* const begin = p;
  auto malformed = [&](const char* at, const char* what) {
    reason_ = "malformed JSON at column " + std::to_string(at - begin + 1) + ": " + what;
    return false;
  };
  for (Slot& s : slots_) s = Slot{};
  hint_ = 0;
  if (*p != '{') {
    reason_ = "not a JSON object";
    return false;
  }
  p = skipWs(p + 1, e);
  if (p < e && *p == '}') {
    ++p;
  } else {
    for (;;) {
      if (p == e || *p != '"') return malformed(p, "expected a key in double quotes");
      bool esc = false;
      const char* q = scanString(p + 1, e, esc);
      if (!q) return malformed(p, "unterminated string");
      std::string_view key(p + 1, static_cast<std::size_t>(q - p - 1));
      if (esc) {
        if (!unescapeJsonString(key, key_)) return malformed(p, "invalid escape in a key");
        key = key_;
      }
      const int idx = fieldIndex(key);
      if (idx >= 0 && slots_[static_cast<std::size_t>(idx)].kind != Kind::Missing) {
        reason_ = "key '" + std::string(key) + "' appears twice";
        return false;
      }
      p = skipWs(q + 1, e);
      if (p == e || *p != ':') return malformed(p, "expected ':' after a key");
      p = skipWs(p + 1, e);
      if (p == e) return malformed(p, "expected a value");
      Slot s;
      switch (*p) {
        case '"': {
          bool sesc = false;
          const char* c = scanString(p + 1, e, sesc);
          if (!c) return malformed(p, "unterminated string");
          s.kind = Kind::String;
          s.escaped = sesc;
          s.text = std::string_view(p + 1, static_cast<std::size_t>(c - p - 1));
          p = c + 1;
          break;
        }
        case 't':
          if (e - p < 4 || std::memcmp(p, "true", 4) != 0) return malformed(p, "unknown literal");
          s.kind = Kind::True;
          p += 4;
          break;
        case 'f':
          if (e - p < 5 || std::memcmp(p, "false", 5) != 0) return malformed(p, "unknown literal");
          s.kind = Kind::False;
          p += 5;
          break;
        case 'n':
          if (e - p < 4 || std::memcmp(p, "null", 4) != 0) return malformed(p, "unknown literal");
          s.kind = Kind::Null;
          p += 4;
          break;
        case '{':
        case '[': {
          const char* c = skipNested(p, e);
          if (!c) return malformed(p, "unterminated object or array");
          s.kind = *p == '{' ? Kind::Object : Kind::Array;
          s.text = std::string_view(p, static_cast<std::size_t>(c - p));
          p = c;
          break;
        }
        default: {
          if (*p != '-' && (*p < '0' || *p > '9')) return malformed(p, "unexpected character");
          const char* c = p + 1;
          while (c < e && isNumberChar(*c)) ++c;
          s.kind = Kind::Number;
          s.text = std::string_view(p, static_cast<std::size_t>(c - p));
          p = c;
        }
      }
      if (idx >= 0) slots_[static_cast<std::size_t>(idx)] = s;
      p = skipWs(p, e);
      if (p < e && *p == ',') {
        p = skipWs(p + 1, e);
        continue;
      }
      if (p < e && *p == '}') {
        ++p;
        break;
      }
      return malformed(p, "expected ',' or '}'");
    }
  }
  p = skipWs(p, e);
  if (p != e) return malformed(p, "text after the object");
  return true;
}

bool JsonlReader::convert(std::size_t field, const Slot& s, BatchBuilder& out) {
  Column& col = out.column(field);
  if (s.kind == Kind::Missing || s.kind == Kind::Null) {
    col.appendNull();
    return true;
  }
  const Type t = col.type();
  std::string_view text = s.text;
  if (s.kind == Kind::String && s.escaped) {
    if (!unescapeJsonString(text, unescaped_)) {
      reason_ = "field '" + schema_->field(field).name + "': invalid escape in a string";
      return false;
    }
    text = unescaped_;
  }
  switch (t) {
    case Type::String:
      if (s.kind == Kind::String) {
        col.appendString(text);
        return true;
      }
      break;
    case Type::Bool:
      if (s.kind == Kind::True || s.kind == Kind::False) {
        col.appendBool(s.kind == Kind::True);
        return true;
      }
      break;
    case Type::Int64:
    case Type::Timestamp:
      if (s.kind == Kind::Number) {
        std::int64_t v = 0;
        auto r = std::from_chars(text.data(), text.data() + text.size(), v);
        if (r.ec == std::errc() && r.ptr == text.data() + text.size()) {
          col.appendInt64(v);
          return true;
        }
        reason_ = "field '" + schema_->field(field).name + "': " + shortText(text) +
                  (t == Type::Int64 ? " is not an int64" : " is not a timestamp (integer milliseconds)");
        return false;
      }
      if (t == Type::Timestamp && s.kind == Kind::String) {
        if (auto v = parseTimestamp(text)) {
          col.appendInt64(*v);
          return true;
        }
        reason_ = "field '" + schema_->field(field).name + "': '" + shortText(text) +
                  "' is not a timestamp (integer milliseconds or ISO-8601)";
        return false;
      }
      break;
    case Type::Double:
      if (s.kind == Kind::Number) {
        if (auto v = parseDouble(text)) {
          col.appendDouble(*v);
          return true;
        }
        reason_ = "field '" + schema_->field(field).name + "': " + shortText(text) +
                  " is not a double";
        return false;
      }
      if (s.kind == Kind::String && (text == "nan" || text == "inf" || text == "-inf")) {
        col.appendDouble(*parseDouble(text));
        return true;
      }
      break;
  }
  static constexpr std::string_view kKindNames[] = {"nothing", "null",   "a bool",   "a bool",
                                                    "a number", "a string", "an object", "an array"};
  static constexpr std::string_view kExpected[] = {
      "an int64 (a JSON integer)", "a double (a JSON number)", "a string", "a bool (true/false)",
      "a timestamp (a JSON integer or an ISO-8601 string)"};
  reason_ = "field '" + schema_->field(field).name + "': expected ";
  reason_ += kExpected[static_cast<int>(t)];
  reason_ += ", found ";
  reason_ += kKindNames[static_cast<int>(s.kind)];
  return false;
}

RecordReader::Parse JsonlReader::parse(const char* p, const char* limit, bool final,
                                       BatchBuilder& out, Record& rec) {
  const LineEnd line = findLineEnd(p, limit, final);
  if (line.needMore || (!line.found && !final)) return Parse::NeedMore;
  const char* end = line.end;
  rec.consumed = static_cast<std::size_t>(line.next - p);
  rec.newlines = line.found ? 1 : 0;
  rec.length = static_cast<std::size_t>(end - p);
  const char* s = skipWs(p, end);
  if (s == end) return Parse::Skip;
  if (!parseObject(s, end)) return Parse::Bad;
  for (std::size_t i = 0; i < slots_.size(); ++i)
    if (!convert(i, slots_[i], out)) return Parse::Bad;
  return Parse::Row;
}

// ---------------------------------------------------------------------------------------
// Writing

JsonlWriter::JsonlWriter(const std::filesystem::path& path, SchemaPtr schema,
                         WriterOptions options)
    : RecordWriter(path, std::move(schema), options) {
  for (const Field& f : schema_->fields()) {
    std::string k;
    appendJsonString(k, f.name);
    k.push_back(':');
    keys_.push_back(std::move(k));
  }
}

void JsonlWriter::write(const RecordBatch& batch) {
  if (batch.empty()) return;
  begin(batch);
  const bool withOp = opts_.opColumn == OpColumn::Always ||
                      (opts_.opColumn != OpColumn::Never && batch.hasKinds());
  if (opts_.opColumn == OpColumn::Never && batch.hasKinds()) {
    for (RowKind k : batch.kinds()) {
      if (k != RowKind::Insert)
        throw JobError(path().string() + ": the input is a changelog but `op` is turned off");
    }
  }
  const std::size_t cols = batch.numColumns();
  std::string& b = out_.buffer();
  char num[32];
  for (std::size_t r = 0; r < batch.numRows(); ++r) {
    b.push_back('{');
    bool first = true;
    if (withOp) {
      b += "\"op\":\"";
      b.append(rowKindName(batch.kind(r)));
      b.push_back('"');
      first = false;
    }
    for (std::size_t c = 0; c < cols; ++c) {
      if (!first) b.push_back(',');
      first = false;
      b.append(keys_[c]);
      const Column& col = batch.column(c);
      if (col.isNull(r)) {
        b += "null";
        continue;
      }
      switch (col.type()) {
        case Type::Int64: {
          auto res = std::to_chars(num, num + sizeof num, col.int64(r));
          b.append(num, res.ptr);
          break;
        }
        case Type::Timestamp:
          b.push_back('"');
          appendTimestamp(b, col.int64(r));
          b.push_back('"');
          break;
        case Type::Double: {
          const double v = col.dbl(r);
          if (v != v || v - v != 0) {  // NaN or an infinity
            b.push_back('"');
            appendDouble(b, v);
            b.push_back('"');
          } else {
            appendDouble(b, v);
          }
          break;
        }
        case Type::Bool: b += col.boolean(r) ? "true" : "false"; break;
        case Type::String: appendJsonString(b, col.str(r)); break;
      }
    }
    b += "}\n";
    out_.maybeFlush();
  }
  rows_ += static_cast<std::int64_t>(batch.numRows());
}

}  // namespace weir
