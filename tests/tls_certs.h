#pragma once
// Certificates for the TLS tests, made at test time with the `openssl` command line tool
// (scripts/deps.sh installs it), as docs/operations.md ("TLS") tells an operator to:
//
//   ca.pem / ca.key          the cluster's CA
//   node.pem / node.key      signed by it, for 127.0.0.1 and localhost, usable as server
//                            and as client certificate (every daemon uses it)
//   other-ca.pem             another CA
//   rogue.pem / rogue.key    signed by the other CA (same names, wrong issuer)
//
// EC P-256 keys: made in milliseconds.

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QString>
#include <QStringList>

struct TestCertificates {
  QString dir;
  QString ca, node, nodeKey, otherCa, rogue, rogueKey;
  QString error;  // why make() failed

  /// Sets the TLS files of cluster options (LocalClusterOptions) to the node's and the CA.
  template <class Options>
  void applyTo(Options& o) const {
    o.tlsCert = node.toStdString();
    o.tlsKey = nodeKey.toStdString();
    o.tlsCa = ca.toStdString();
  }

  /// Makes everything in `folder` (created); false with `error` set when openssl fails.
  bool make(const QString& folder) {
    dir = folder;
    QDir().mkpath(dir);
    ca = path("ca.pem");
    node = path("node.pem");
    nodeKey = path("node.key");
    otherCa = path("other-ca.pem");
    rogue = path("rogue.pem");
    rogueKey = path("rogue.key");
    QFile ext(path("node.ext"));
    if (!ext.open(QIODevice::WriteOnly)) return fail("cannot write " + ext.fileName());
    ext.write("subjectAltName = IP:127.0.0.1, DNS:localhost\n"
              "extendedKeyUsage = serverAuth, clientAuth\n"
              "basicConstraints = CA:FALSE\n"
              "keyUsage = critical, digitalSignature\n");
    ext.close();
    return makeCa("ca", "weir test CA") && makeCert("node", "ca") && makeCa("other-ca", "another CA") &&
           makeCert("rogue", "other-ca");
  }

 private:
  QString path(const QString& name) const { return dir + "/" + name; }

  bool fail(const QString& why) {
    error = why;
    return false;
  }

  bool openssl(const QStringList& args) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start("openssl", args);
    if (!p.waitForStarted(10000)) return fail("the openssl command is missing (scripts/deps.sh installs it)");
    if (!p.waitForFinished(30000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
      return fail("openssl " + args.join(' ') + ": " + QString::fromUtf8(p.readAll()));
    return true;
  }

  bool makeCa(const QString& name, const QString& cn) {
    return openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                    path(name + ".key"), "-out", path(name + ".pem"), "-days", "2", "-subj", "/CN=" + cn, "-addext",
                    "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  }

  bool makeCert(const QString& name, const QString& caName) {
    return openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                    path(name + ".key"), "-out", path(name + ".csr"), "-subj", "/CN=weir " + name}) &&
           openssl({"x509", "-req", "-in", path(name + ".csr"), "-CA", path(caName + ".pem"), "-CAkey",
                    path(caName + ".key"), "-set_serial", name == "node" ? "1001" : "2002", "-days", "2", "-extfile",
                    path("node.ext"), "-out", path(name + ".pem")});
  }
};
