#include "cluster/http_util.h"

#include <boost/beast/http/error.hpp>

#include "core/text.h"

namespace weir::cluster {
namespace {

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percentDecode(std::string_view s, std::string& out, std::string& error) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      const int hi = i + 1 < s.size() ? hexDigit(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hexDigit(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        error = "bad percent escape '" + toValidUtf8(s.substr(i, 3)) + "' in the query: '%' must be followed by two hex digits";
        return false;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return true;
}

}  // namespace

std::optional<std::map<std::string, std::string>> parseQuery(std::string_view qs, std::string& error) {
  std::map<std::string, std::string> query;
  std::size_t start = 0;
  while (start <= qs.size()) {
    auto amp = qs.find('&', start);
    if (amp == std::string_view::npos) amp = qs.size();
    const std::string_view kv = qs.substr(start, amp - start);
    start = amp + 1;
    if (kv.empty()) continue;
    const auto eq = kv.find('=');
    std::string name, value;
    if (!percentDecode(kv.substr(0, eq), name, error) ||
        (eq != std::string_view::npos && !percentDecode(kv.substr(eq + 1), value, error)))
      return std::nullopt;
    for (const std::string* s : {&name, &value})
      if (toValidUtf8(*s) != *s) {
        error = "query parameter '" + toValidUtf8(name) + "' is not UTF-8";
        return std::nullopt;
      }
    query[name] = value;
  }
  return query;
}

int readErrorStatus(const boost::system::error_code& ec, std::string& message) {
  namespace http = boost::beast::http;
  if (ec == http::error::body_limit) {
    message = "request body larger than " + std::to_string(kMaxRequestBody) + " bytes";
    return 413;
  }
  if (ec == http::error::header_limit) {
    message = "request line and headers larger than " + std::to_string(kMaxRequestHeader) + " bytes";
    return 431;
  }
  if (ec.category() == http::make_error_code(http::error::end_of_stream).category() && ec != http::error::end_of_stream &&
      ec != http::error::partial_message && ec != http::error::need_more && ec != http::error::need_buffer) {
    message = "malformed HTTP request: " + ec.message();
    return 400;
  }
  return 0;
}

std::optional<int> queryInt(std::string_view v, int lo, int hi) {
  if (v.empty() || v.size() > 10) return std::nullopt;
  long long n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < lo || n > hi) return std::nullopt;
  return static_cast<int>(n);
}

}  // namespace weir::cluster
