#pragma once
// Reading the parts of an HTTP request the JobManager's API takes apart itself: the query
// string and the limits of the request as a whole (docs/api.md, "Errors"). Every refusal
// names what was wrong, as valid UTF-8, so that its answer always serializes.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

namespace weir::cluster {

/// The largest request body the API reads (POST /v1/jobs); larger: 413.
constexpr std::size_t kMaxRequestBody = 16u << 20;
/// The largest request line plus headers the API reads; larger: 431.
constexpr std::size_t kMaxRequestHeader = 16u << 10;

/// "a=1&b=x%20y" -> {a: "1", b: "x y"} ('+' is a space). nullopt with `error` set when an
/// escape is not '%' and two hex digits, or a decoded name or value is not UTF-8.
std::optional<std::map<std::string, std::string>> parseQuery(std::string_view qs, std::string& error);

/// The status that answers a request Beast could not read (`ec` from http::async_read):
/// 413 body too large, 431 header too large, 400 malformed; `message` says which. 0 when
/// there is nobody to answer (the peer closed, the read timed out).
int readErrorStatus(const boost::system::error_code& ec, std::string& message);

/// A whole number from a query value ("4"; no sign, spaces or exponent) within [lo, hi];
/// nullopt otherwise.
std::optional<int> queryInt(std::string_view v, int lo, int hi);

}  // namespace weir::cluster
