#pragma once
// TLS settings: the three PEM files a daemon is started with (--tls-cert, --tls-key,
// --tls-ca; docs/operations.md, "TLS").
//
// With them, every listener of that daemon requires TLS, and daemons verify each other's
// certificate against the CA in both directions (mutual TLS). The cluster's HMAC secret
// handshake (net/frame.h) still runs, inside TLS. API clients verify the JobManager's
// certificate (and its host name or address) against a CA file of their own.
//
// Asio-free: the SSL contexts and streams built from these live in net/tls_stream.h,
// which only .cpp files include.

#include <string>

namespace weir::net {

struct TlsFiles {
  std::string cert;  // this node's certificate (PEM; a chain, leaf first, is fine)
  std::string key;   // its private key (PEM, unencrypted)
  std::string ca;    // the certificate(s) a peer's certificate must chain to (PEM)

  /// Any of the three set: TLS is wanted (check() then says whether it can work).
  bool enabled() const { return !cert.empty() || !key.empty() || !ca.empty(); }
};

/// "" when TLS is off or the files make a usable configuration (all three given,
/// readable, the key matching the certificate); otherwise why not, naming the flag and
/// the file. Daemons call it at startup and exit 2 on a problem.
std::string checkTlsFiles(const TlsFiles& files);

}  // namespace weir::net
