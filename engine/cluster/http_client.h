#pragma once
// A small blocking HTTP/1.1 client for the JobManager's API (the `weir` CLI, tests).
// Beast stays in http_client.cpp.

#include <string>

namespace weir::cluster {

struct HttpResponse {
  int status = 0;
  std::string body;
};

/// `url` is "http://host:port" (a trailing slash is fine); `target` "/v1/jobs?x=y".
/// `token` non-empty: sent as "Authorization: Bearer TOKEN". Throws std::runtime_error
/// when the JobManager cannot be reached.
HttpResponse httpRequest(const std::string& url, const std::string& method, const std::string& target,
                         const std::string& body = "", const std::string& token = "");

/// Percent-encodes a query parameter value.
std::string urlEncode(const std::string& s);

}  // namespace weir::cluster
