#include "core/text.h"

#include <algorithm>

#include <charconv>
#include <cmath>
#include <cstring>

namespace weir {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

void put2(char* p, unsigned v) { p[0] = static_cast<char>('0' + v / 10); p[1] = static_cast<char>('0' + v % 10); }

bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  out = v;
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

void appendTimestamp(std::string& out, std::int64_t ms) {
  const std::int64_t days = floorDiv(ms, 86'400'000);
  std::int64_t rem = ms % 86'400'000;  // not ms - days * 86'400'000: that overflows near INT64_MIN
  if (rem < 0) rem += 86'400'000;
  std::int64_t y;
  unsigned mo, d;
  civilFromDays(days, y, mo, d);
  char buf[40];
  char* p = buf;
  if (y < 0 || y > 9999) {
    auto r = std::to_chars(p, buf + 20, y);
    p = r.ptr;
  } else {
    unsigned yy = static_cast<unsigned>(y);
    p[0] = static_cast<char>('0' + yy / 1000);
    p[1] = static_cast<char>('0' + yy / 100 % 10);
    p[2] = static_cast<char>('0' + yy / 10 % 10);
    p[3] = static_cast<char>('0' + yy % 10);
    p += 4;
  }
  const unsigned h = static_cast<unsigned>(rem / 3'600'000);
  rem %= 3'600'000;
  const unsigned mi = static_cast<unsigned>(rem / 60'000);
  rem %= 60'000;
  const unsigned s = static_cast<unsigned>(rem / 1000);
  const unsigned milli = static_cast<unsigned>(rem % 1000);
  *p++ = '-'; put2(p, mo); p += 2;
  *p++ = '-'; put2(p, d); p += 2;
  *p++ = 'T'; put2(p, h); p += 2;
  *p++ = ':'; put2(p, mi); p += 2;
  *p++ = ':'; put2(p, s); p += 2;
  *p++ = '.';
  *p++ = static_cast<char>('0' + milli / 100);
  *p++ = static_cast<char>('0' + milli / 10 % 10);
  *p++ = static_cast<char>('0' + milli % 10);
  *p++ = 'Z';
  out.append(buf, p);
}

std::string formatTimestamp(std::int64_t ms) {
  std::string s;
  appendTimestamp(s, ms);
  return s;
}

std::optional<std::int64_t> parseTimestamp(std::string_view t) {
  if (t.empty()) return std::nullopt;
  // Plain integer milliseconds.
  if (auto v = parseInt64(t)) {
    // "2026" alone would be a year in ISO terms; we read pure digits as milliseconds.
    return v;
  }
  unsigned y, mo, d, h = 0, mi = 0, s = 0;
  if (!digits(t, 0, 4, y) || t.size() < 10 || t[4] != '-' || !digits(t, 5, 2, mo) || t[7] != '-' ||
      !digits(t, 8, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  std::size_t p = 10;
  std::int64_t millis = 0;
  if (p < t.size() && (t[p] == 'T' || t[p] == 't' || t[p] == ' ')) {
    ++p;
    if (!digits(t, p, 2, h) || p + 2 >= t.size() || t[p + 2] != ':' || !digits(t, p + 3, 2, mi))
      return std::nullopt;
    p += 5;
    if (p < t.size() && t[p] == ':') {
      if (!digits(t, p + 1, 2, s)) return std::nullopt;
      p += 3;
      if (p < t.size() && (t[p] == '.' || t[p] == ',')) {
        ++p;
        std::size_t n = 0;
        std::int64_t scale = 100;
        while (p < t.size() && t[p] >= '0' && t[p] <= '9') {
          if (n < 3) millis += (t[p] - '0') * scale, scale /= 10;
          ++p;
          if (++n > 9) return std::nullopt;
        }
        if (n == 0) return std::nullopt;
      }
    }
    if (h > 23 || mi > 59 || s > 60) return std::nullopt;
  }
  std::int64_t offsetMin = 0;
  if (p < t.size()) {
    if ((t[p] == 'Z' || t[p] == 'z') && p + 1 == t.size()) {
      ++p;
    } else if (t[p] == '+' || t[p] == '-') {
      const int sign = t[p] == '-' ? -1 : 1;
      unsigned oh, om = 0;
      if (!digits(t, p + 1, 2, oh)) return std::nullopt;
      std::size_t q = p + 3;
      if (q < t.size() && t[q] == ':') ++q;
      if (q < t.size()) {
        if (!digits(t, q, 2, om)) return std::nullopt;
        q += 2;
      }
      if (q != t.size() || oh > 23 || om > 59) return std::nullopt;
      offsetMin = sign * static_cast<std::int64_t>(oh * 60 + om);
      p = q;
    } else {
      return std::nullopt;
    }
  }
  if (p != t.size()) return std::nullopt;
  const std::int64_t days = daysFromCivil(y, mo, d);
  return ((days * 24 + h) * 60 + mi - offsetMin) * 60'000 + static_cast<std::int64_t>(s) * 1000 + millis;
}

void appendDouble(std::string& out, double v) {
  if (std::isnan(v)) { out += "nan"; return; }
  if (std::isinf(v)) { out += v < 0 ? "-inf" : "inf"; return; }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

std::string formatDouble(double v) {
  std::string s;
  appendDouble(s, v);
  return s;
}

std::optional<std::int64_t> parseInt64(std::string_view t) {
  if (t.empty()) return std::nullopt;
  std::size_t start = t[0] == '+' ? 1 : 0;
  std::int64_t v = 0;
  auto r = std::from_chars(t.data() + start, t.data() + t.size(), v);
  if (r.ec != std::errc() || r.ptr != t.data() + t.size() || start == t.size()) return std::nullopt;
  return v;
}

std::optional<double> parseDouble(std::string_view t) {
  if (t.empty()) return std::nullopt;
  std::size_t start = t[0] == '+' ? 1 : 0;
  if (iequals(t.substr(start), "nan")) return std::nan("");
  if (iequals(t.substr(start), "inf") || iequals(t.substr(start), "infinity")) return HUGE_VAL;
  if (iequals(t, "-inf") || iequals(t, "-infinity")) return -HUGE_VAL;
  double v = 0;
  auto r = std::from_chars(t.data() + start, t.data() + t.size(), v);
  if (r.ec != std::errc() || r.ptr != t.data() + t.size() || start == t.size()) return std::nullopt;
  return v;
}

std::optional<bool> parseBool(std::string_view t) {
  if (iequals(t, "true") || t == "1") return true;
  if (iequals(t, "false") || t == "0") return false;
  return std::nullopt;
}

std::size_t utf8SequenceLength(std::string_view s, std::size_t i) {
  // RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b >= 0xC2 && b <= 0xDF) n = 2;
  else if (b >= 0xE0 && b <= 0xEF) n = 3, lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
  else if (b >= 0xF0 && b <= 0xF4) n = 4, lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
  else return 0;
  if (i + n > s.size()) return 0;
  const auto second = static_cast<unsigned char>(s[i + 1]);
  if (second < lo || second > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

std::size_t utf8Length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string toValidUtf8(std::string_view s, std::size_t maxBytes, std::size_t* consumed) {
  std::string out;
  out.reserve(std::min(s.size(), maxBytes));
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t n = utf8SequenceLength(s, i);
    if (i + std::max<std::size_t>(n, 1) > maxBytes) break;
    if (n == 0) {
      out += "\uFFFD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  if (consumed) *consumed = i;
  return out;
}

}  // namespace weir
