// Hostile input against real daemons on loopback (issue 18; docs/security.md): no single
// request, message or record may take a daemon down, fail an unrelated job or go
// unanswered.
//
//   weir-jobmanager <-- HTTP: hostile requests (every one gets a 4xx with a JSON error)
//        ^   ^------- RPC: raw peers that handshake, then send malformed messages
//        |
//   weir-taskmanager (4 slots) <-- data port: HELLO with a name that is not UTF-8
//        runs "bystander" (an unbounded generator) for the whole suite: it must stay
//        RUNNING, and both daemons alive, after every test
//
//   deepJsonIsRefused          a job with an unknown field 70,000 objects deep, and one
//                              with a node `ui` 100,000 arrays deep: 400 naming "line 1,
//                              column 333: JSON nested deeper than 64 levels"; `weir
//                              validate` says the same and exits 2 (no crash)
//   deepControlMessages        a registered peer sends `metrics` and `tap_sample` 200,000
//                              levels deep: the JobManager closes that connection only
//   registerWithBadFields      50 registers with "slots": "abc" (and other bad fields):
//                              each is answered `refused` naming the field and closed; the
//                              JobManager's descriptors do not grow with them
//   lostTaskManagersAreForgotten  100 TaskManagers register and disconnect: the JobManager
//                              lists the newest 64 LOST ones, no more
//   garbageAfterHandshake      CONTROL frames that are not JSON, a JSON array, a DATA frame:
//                              that connection closes, nothing else
//   invalidUtf8RecordFailsOnlyItsJob  on_bad_record "fail" meets "1,\xff\xfe": that job
//                              FAILS naming the bad record; the TaskManager stays up and
//                              registered, the bystander runs on
//   badHttpRequestsGet4xx      bad % escapes, 1e400, invalid UTF-8 in body and query,
//                              parallelism 2147483647, an oversize body (413), huge headers
//                              (431), malformed HTTP (400): each a 4xx whose body is JSON
//                              with an "error" saying what was wrong
//   nonUtf8FileNameIsRefused   a glob matching a file named "in-\xff\xfe.csv": 400 naming
//                              the split's path
//   undeployableJobIsRefusedAtSubmission  a 9 MiB name (a legal body): 413 naming the
//                              16 MiB control message limit, before it can reach a TaskManager
//   lineEndsAndQuotesInTheCluster  CR-only CSV, and an unterminated quote in 1,000 rows:
//                              rows read = rows written + dead letters, exactly
//   plantedSymlinkIsRefused    a link planted at out.jsonl.inprogress: the job FAILS naming
//                              it; the file it points to is untouched
//   lockedMetadataLosesNoWrite another process holds the metadata's write lock while a job
//                              runs: it FINISHES, and afterwards its run is recorded FINISHED
//   acceptFailuresBackOff      a JobManager limited to 64 descriptors, 100 connections: it
//                              logs "accept failed: Too many open files" and answers again
//                              once they are closed
//   weakSecretFileWarns        a one-character secret in a world-readable file: the
//                              JobManager starts, with both warnings on stderr
//   helloWithInvalidUtf8       on the data port: a REJECT naming the field, the connection
//                              closed, and a log line
//   jobManagerMemoryStaysBounded  last: the JobManager's resident memory after all of the
//                              above is under 256 MB (docs/security.md)
//
// Every wait polls with a generous deadline; no timing assertions.

#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "cluster/http_client.h"
#include "net/frame.h"
#include "process_harness.h"

using nlohmann::json;
using weir::test::freePort;
using weir::test::waitUntil;
namespace net = weir::net;

namespace {

// WEIR_TEST_BIN_DIR: the daemons of another build (to see these tests fail on one without
// the fixes, e.g. the main checkout's build/bin).
const QString kBin = qEnvironmentVariable("WEIR_TEST_BIN_DIR", QStringLiteral(WEIR_BIN_DIR));

/// `depth` nested objects {"a":{"a":...1...}} as text (built as text: the test must not
/// recurse through them either).
std::string deepObject(int depth) {
  std::string s;
  s.reserve(static_cast<std::size_t>(depth) * 6 + 1);
  for (int i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  s.append(static_cast<std::size_t>(depth), '}');
  return s;
}

std::string deepArray(int depth) { return std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']'); }

int connectTo(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Reads until the peer closes or `ms` pass; what arrived, and whether it closed.
std::pair<std::string, bool> readUntilClosed(int fd, int ms) {
  std::string got;
  QElapsedTimer t;
  t.start();
  while (t.elapsed() < ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[65536];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return {got, true};
    got.append(buf, static_cast<std::size_t>(n));
  }
  return {got, false};
}

/// A raw peer of a daemon's control or data port: the real handshake (net/frame.h), then
/// whatever frames the test writes.
class RawPeer {
 public:
  explicit RawPeer(int port) : fd_(connectTo(port)) {}
  ~RawPeer() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;

  bool connected() const { return fd_ >= 0; }

  void sendFrame(net::FrameType type, const std::string& payload) {
    const auto f = net::makeFrame(type, {}, std::span<const std::uint8_t>(
                                               reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()));
    std::size_t off = 0;
    while (off < f.size()) {
      const ssize_t n = ::send(fd_, f.data() + off, f.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }

  /// The next frame within `ms`: its type and payload; nullopt when the peer closed or
  /// nothing came.
  std::optional<std::pair<net::FrameType, std::string>> readFrame(int ms = 30000) {
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms) {
      if (buf_.size() >= net::kFrameHeaderSize) {
        net::FrameHeader h;
        std::array<std::uint8_t, net::kFrameHeaderSize> hb;
        std::memcpy(hb.data(), buf_.data(), hb.size());
        if (net::checkFrameHeader(hb, net::kHardMaxPayload, 0, h)) return std::nullopt;
        if (buf_.size() >= net::kFrameHeaderSize + h.length) {
          std::string payload = buf_.substr(net::kFrameHeaderSize, h.length);
          buf_.erase(0, net::kFrameHeaderSize + h.length);
          return std::pair{h.type, payload};
        }
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char b[65536];
      const ssize_t n = ::read(fd_, b, sizeof b);
      if (n <= 0) return std::nullopt;
      buf_.append(b, static_cast<std::size_t>(n));
    }
    return std::nullopt;
  }

  /// HELLO, CHALLENGE, AUTH, WELCOME with an empty secret; "" when welcomed.
  std::string handshake(const std::string& name) {
    const net::Hello hello{net::kProtocolVersion, "weir", name, net::randomNonce()};
    const auto h = net::encodeHello(hello);
    sendFrame(net::FrameType::Hello, std::string(h.begin(), h.end()));
    auto ch = readFrame();
    if (!ch) return "no CHALLENGE";
    if (ch->first == net::FrameType::Reject) return "REJECT: " + ch->second;
    std::string err;
    auto c = net::parseChallenge(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(ch->second.data()),
                                                               ch->second.size()),
                                 err);
    if (!c) return "bad CHALLENGE: " + err;
    const auto a = net::encodeAuth({net::clientProof("", "weir", hello.nonce, c->nonce)});
    sendFrame(net::FrameType::Auth, std::string(a.begin(), a.end()));
    auto w = readFrame();
    if (!w || w->first != net::FrameType::Welcome) return "no WELCOME";
    return "";
  }

  void sendControl(const std::string& text) { sendFrame(net::FrameType::Control, text); }

  /// The next CONTROL message as JSON (null when the peer closed or sent something else).
  json receiveControl(int ms = 30000) {
    for (;;) {
      auto f = readFrame(ms);
      if (!f) return nullptr;
      if (f->first == net::FrameType::Ping) continue;
      if (f->first != net::FrameType::Control) return nullptr;
      return json::parse(f->second, nullptr, false);
    }
  }

  /// Whether the daemon closes the connection within `ms` (frames before that are skipped).
  bool closedByPeer(int ms = 30000) { return readUntilClosed(fd_, ms).second; }

 private:
  int fd_;
  std::string buf_;
};

int openDescriptors(qint64 pid) {
  int n = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    ++n;
  return n;
}

}  // namespace

class TestHostile : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  QProcess jm_, tm_;
  int apiPort_ = 0, rpcPort_ = 0;
  std::string url_;
  std::string bystander_;
  QByteArray tmLog_;

  weir::cluster::HttpResponse request(const std::string& method, const std::string& target,
                                      const std::string& body = "") {
    return weir::cluster::httpRequest(url_, method, target, body);
  }
  json get(const std::string& target) { return json::parse(request("GET", target).body, nullptr, false); }
  std::string status(const std::string& id) { return get("/v1/jobs/" + id).value("status", ""); }
  /// GET /v1/taskmanagers' list (a value: a range-for over get(...)["x"] would dangle).
  json taskManagers() { return get("/v1/taskmanagers").value("taskmanagers", json::array()); }

  /// POSTs a job whose relative paths resolve in <tmp>/<folder>; the job id ("" if refused).
  std::string submit(const json& job, const std::string& folder) {
    const std::string base = (tmp_.path() + "/" + QString::fromStdString(folder)).toStdString();
    std::filesystem::create_directories(base);
    const auto r = request("POST", "/v1/jobs?base_dir=" + weir::cluster::urlEncode(base), job.dump());
    if (r.status != 201) qWarning() << r.status << r.body.c_str();
    return json::parse(r.body, nullptr, false).value("id", "");
  }

  /// Both daemons alive, the TaskManager registered, the bystander still running.
  void checkUnharmed() {
    QVERIFY2(weir::test::pidAlive(static_cast<pid_t>(jm_.processId())), "the JobManager died");
    QVERIFY2(weir::test::pidAlive(static_cast<pid_t>(tm_.processId())), "the TaskManager died");
    const json o = get("/v1/overview");
    QVERIFY2(o.value("taskmanagers", 0) >= 1, o.dump().c_str());
    const json j = get("/v1/jobs/" + bystander_);
    QCOMPARE(j.value("status", ""), std::string("RUNNING"));
    for (const auto& t : taskManagers())
      if (t.value("name", "") == "real") QCOMPARE(t.value("state", ""), std::string("REGISTERED"));
  }

  /// A job reading `file` (CSV, with header, fields id int64 and price double) into
  /// out.jsonl, parallelism 1.
  json csvJob(const std::string& name, const std::string& onBadRecord) {
    return {{"weir", 1},
            {"name", name},
            {"on_bad_record", onBadRecord},
            {"dead_letter", "dead.jsonl"},
            {"nodes",
             {{{"id", "src"},
               {"type", "source.file"},
               {"params",
                {{"path", "in.csv"}, {"format", "csv"}, {"header", true},
                 {"schema", {{{"name", "id"}, {"type", "int64"}}, {{"name", "price"}, {"type", "double"}}}}}}},
              {{"id", "out"}, {"type", "sink.file"}, {"params", {{"path", "out.jsonl"}, {"format", "jsonl"}}}}}},
            {"edges", {{{"from", "src"}, {"to", "out"}}}}};
  }

  std::size_t linesOf(const std::string& folder, const QString& pattern) {
    return static_cast<std::size_t>(weir::test::sortedFileLines(tmp_.path() + "/" + QString::fromStdString(folder), pattern).size());
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    apiPort_ = freePort();
    rpcPort_ = freePort();
    url_ = "http://127.0.0.1:" + std::to_string(apiPort_);
    // The daemons die with the test, even when it crashes.
    for (QProcess* p : {&jm_, &tm_}) p->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    jm_.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    // No heartbeat timeout within the suite: a raw peer's connection closes only for what it sent.
    jm_.start(kBin + "/weir-jobmanager", {"--rpc-port", QString::number(rpcPort_), "--api-port",
                                          QString::number(apiPort_), "--data-dir", tmp_.path() + "/data",
                                          "--heartbeat-timeout-ms", "3600000"});
    QVERIFY(jm_.waitForStarted());
    tm_.setProcessChannelMode(QProcess::SeparateChannels);
    tm_.start(kBin + "/weir-taskmanager",
              {"--jobmanager", QString("127.0.0.1:%1").arg(rpcPort_), "--slots", "4", "--name", "real"});
    QVERIFY(tm_.waitForStarted());
    QVERIFY2(waitUntil([&] {
               try {
                 return get("/v1/overview").value("taskmanagers", 0) == 1;
               } catch (const std::exception&) {
                 return false;
               }
             }),
             "the TaskManager did not register");
    const json bystander = {
        {"weir", 1},
        {"name", "bystander"},
        {"nodes",
         {{{"id", "gen"}, {"type", "source.generator"}, {"params", {{"table", "bid"}, {"events", 0}, {"rate", 200}}}},
          {{"id", "out"}, {"type", "sink.discard"}, {"params", json::object()}}}},
        {"edges", {{{"from", "gen"}, {"to", "out"}}}}};
    bystander_ = submit(bystander, "bystander");
    QVERIFY(!bystander_.empty());
    QVERIFY2(waitUntil([&] { return status(bystander_) == "RUNNING"; }), "the bystander did not start");
  }

  void cleanupTestCase() {
    for (QProcess* p : {&tm_, &jm_}) {
      if (p->state() == QProcess::NotRunning) continue;
      p->kill();
      p->waitForFinished(10000);
    }
  }

  void deepJsonIsRefused() {
    const std::string deepField = "{\"weir\": 1, \"x\": " + deepObject(70000) + "}";
    auto r = request("POST", "/v1/jobs", deepField);
    QCOMPARE(r.status, 400);
    json b = json::parse(r.body, nullptr, false);
    QVERIFY2(b.dump().find("line 1, column 333: JSON nested deeper than 64 levels") != std::string::npos, r.body.c_str());

    json job = csvJob("deep-ui", "skip");
    job["nodes"][0]["ui"] = "PLACEHOLDER";
    std::string text = job.dump();
    text.replace(text.find("\"PLACEHOLDER\""), 13, deepArray(100000));
    r = request("POST", "/v1/jobs", text);
    QCOMPARE(r.status, 400);
    QVERIFY2(r.body.find("JSON nested deeper than 64 levels") != std::string::npos, r.body.c_str());

    // 64 levels are fine (the limit is inclusive): refused for what the job lacks, not its depth.
    r = request("POST", "/v1/jobs", "{\"weir\": 1, \"x\": " + deepObject(63) + "}");
    QCOMPARE(r.status, 400);
    QVERIFY2(r.body.find("nested deeper") == std::string::npos, r.body.c_str());
    QVERIFY2(r.body.find("x: unknown field") != std::string::npos, r.body.c_str());

    // The CLI reads job files through the same parse.
    const QString file = weir::test::writeJobFile(tmp_.path(), "deep-cli", deepField);
    QProcess p;
    p.start(kBin + "/weir", {"validate", file});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 2);  // refused, as any invalid job
    QVERIFY2(p.readAllStandardError().contains("JSON nested deeper than 64 levels"), "weir validate did not say why");
    checkUnharmed();
  }

  void deepControlMessages() {
    for (const std::string type : {"metrics", "tap_sample"}) {
      RawPeer peer(rpcPort_);
      QVERIFY(peer.connected());
      QCOMPARE(peer.handshake("deep-" + type), std::string());
      peer.sendControl(json{{"type", "register"}, {"name", "deep-" + type}, {"slots", 1}}.dump());
      QCOMPARE(peer.receiveControl().value("type", ""), std::string("registered"));
      const std::string deep =
          type == "metrics"
              ? "{\"type\":\"metrics\",\"job\":\"" + bystander_ + "\",\"subtasks\":[{\"chain\":0,\"subtask\":0,\"x\":" +
                    deepObject(200000) + "}]}"
              : "{\"type\":\"tap_sample\",\"job\":\"" + bystander_ + "\",\"edge\":0,\"sample\":" + deepObject(200000) + "}";
      peer.sendControl(deep);
      QVERIFY2(peer.closedByPeer(), "the JobManager kept the connection");
      checkUnharmed();
    }
  }

  void registerWithBadFields() {
    const int before = openDescriptors(jm_.processId());
    const std::vector<std::pair<json, std::string>> bad = {
        {{{"type", "register"}, {"name", "x"}, {"slots", "abc"}}, "slots must be a whole number from 1 to 1024"},
        {{{"type", "register"}, {"name", 7}, {"slots", 1}}, "name must be a string of 1 to 256 bytes"},
        {{{"type", "register"}, {"name", std::string(10000, 'n')}, {"slots", 1}}, "name must be a string of 1 to 256 bytes"},
        {{{"type", "register"}, {"name", "y"}, {"slots", 1}, {"data_port", "http"}}, "data_port must be a whole number"},
        {{{"type", "register"}, {"name", "z"}, {"slots", 1}, {"plugin_hashes", {1, 2}}}, "plugin_hashes must hold"},
    };
    for (int i = 0; i < 50; ++i) {
      const auto& [msg, why] = bad[static_cast<std::size_t>(i) % bad.size()];
      RawPeer peer(rpcPort_);
      QCOMPARE(peer.handshake("bad-register"), std::string());
      peer.sendControl(msg.dump());
      const json answer = peer.receiveControl();
      QCOMPARE(answer.value("type", ""), std::string("refused"));
      QVERIFY2(answer.value("reason", "").find(why) != std::string::npos, answer.dump().c_str());
      QVERIFY2(peer.closedByPeer(), "the JobManager kept a refused connection open");
    }
    // The JobManager closed its side of all 50 (a few descriptors may come and go meanwhile).
    QVERIFY2(waitUntil([&] { return openDescriptors(jm_.processId()) <= before + 5; }, 30000),
             qPrintable(QString("descriptors %1 -> %2").arg(before).arg(openDescriptors(jm_.processId()))));
    checkUnharmed();
  }

  void lostTaskManagersAreForgotten() {
    // 100 TaskManagers register and go away: the JobManager remembers the newest 64 LOST.
    for (int i = 0; i < 100; ++i) {
      RawPeer peer(rpcPort_);
      QCOMPARE(peer.handshake("gone"), std::string());
      peer.sendControl(json{{"type", "register"}, {"name", "gone-" + std::to_string(i)}, {"slots", 1}}.dump());
      QCOMPARE(peer.receiveControl().value("type", ""), std::string("registered"));
    }
    std::size_t lost = 0, gone = 0;
    bool newest = false;
    QVERIFY(waitUntil([&] {
      lost = gone = 0;
      newest = false;
      for (const auto& t : taskManagers()) {
        const std::string name = t.value("name", "");
        if (name.rfind("gone-", 0) == 0) ++gone;
        if (t.value("state", "") == "LOST") ++lost;
        if (name == "gone-99" && t.value("state", "") == "LOST") newest = true;
      }
      return newest && gone <= 64;
    }, 60000));
    QCOMPARE(lost, std::size_t(64));
    checkUnharmed();
  }

  void garbageAfterHandshake() {
    for (const std::string junk : {std::string("not json"), std::string("[1,2,3]"), std::string("{\"no\":\"type\"}"),
                                   std::string("{\"type\":\"heartbeat\"")}) {
      RawPeer peer(rpcPort_);
      QCOMPARE(peer.handshake("junk"), std::string());
      peer.sendControl(junk);
      QVERIFY2(peer.closedByPeer(), junk.c_str());
    }
    RawPeer peer(rpcPort_);
    QCOMPARE(peer.handshake("data-on-control"), std::string());
    peer.sendFrame(net::FrameType::Data, std::string(64, '\x01'));
    QVERIFY(peer.closedByPeer());
    // A registered peer whose later message has fields of the wrong kind.
    RawPeer wrong(rpcPort_);
    QCOMPARE(wrong.handshake("wrong-kinds"), std::string());
    wrong.sendControl(json{{"type", "register"}, {"name", "wrong-kinds"}, {"slots", 1}}.dump());
    QCOMPARE(wrong.receiveControl().value("type", ""), std::string("registered"));
    wrong.sendControl(json{{"type", "subtask_state"}, {"job", 5}, {"chain", "a"}}.dump());
    QVERIFY(wrong.closedByPeer());
    checkUnharmed();
  }

  void invalidUtf8RecordFailsOnlyItsJob() {
    std::filesystem::create_directories((tmp_.path() + "/utf8").toStdString());
    std::ofstream((tmp_.path() + "/utf8/in.csv").toStdString(), std::ios::binary) << "id,price\n1,\xff\xfe\n";
    const std::string id = submit(csvJob("utf8", "fail"), "utf8");
    QVERIFY(!id.empty());
    QVERIFY2(waitUntil([&] { return status(id) == "FAILED"; }), "the job did not fail");
    const json ex = get("/v1/jobs/" + id + "/exceptions");
    QVERIFY2(!ex["exceptions"].empty(), ex.dump().c_str());
    const std::string message = ex["exceptions"][0].value("message", "");
    QVERIFY2(message.find("bad record") != std::string::npos, message.c_str());
    QVERIFY2(message.find("\xEF\xBF\xBD") != std::string::npos, message.c_str());  // U+FFFD for the bad bytes
    QVERIFY2(message.find("lost") == std::string::npos, message.c_str());
    checkUnharmed();
  }

  void badHttpRequestsGet4xx() {
    struct Case {
      std::string method, target, body;
      int status;
      std::string says;
    };
    const std::string badUtf8Job = "{\"weir\": 1, \"name\": \"\xff\xfe\"}";
    const std::vector<Case> cases = {
        {"GET", "/v1/jobs?name=%zz", "", 400, "bad percent escape '%zz'"},
        {"GET", "/v1/jobs?name=%f", "", 400, "bad percent escape"},
        {"GET", "/v1/jobs?name=%ff%fe", "", 400, "query parameter 'name' is not UTF-8"},
        {"GET", "/v1/logs?lines=1e400", "", 400, "lines must be a whole number"},
        {"POST", "/v1/jobs?parallelism=1e400", csvJob("p", "skip").dump(), 400, "parallelism must be a whole number from 1 to 128"},
        {"POST", "/v1/jobs", "{\"weir\": 1, \"name\": \"p\", \"parallelism\": 1e400, \"nodes\": []}", 400,
         "number overflow parsing '1e400'"},
        {"POST", "/v1/jobs", badUtf8Job, 400, "ill-formed UTF-8"},
        {"POST", "/v1/jobs", "\xff\xfe\xfd", 400, "submitted job"},
        {"GET", "/v1/jobs/\xff\xfe", "", 404, "no job"},
    };
    for (const Case& c : cases) {
      const auto r = request(c.method, c.target, c.body);
      const json b = json::parse(r.body, nullptr, false);
      QVERIFY2(r.status == c.status, qPrintable(QString::fromStdString(c.target + " -> " + std::to_string(r.status) + " " + r.body)));
      QVERIFY2(b.is_object() && b.contains("error"), r.body.c_str());
      QVERIFY2(b.dump().find(c.says) != std::string::npos, qPrintable(QString::fromStdString(c.target + ": " + r.body)));
    }
    json wide = csvJob("wide", "skip");
    wide["parallelism"] = 2147483647;
    auto r = request("POST", "/v1/jobs", wide.dump());
    QCOMPARE(r.status, 400);
    QVERIFY2(r.body.find("parallelism: 2147483647 is more than the 128 subtasks a node may have") != std::string::npos,
             r.body.c_str());

    // What Beast cannot read: answered, then closed.
    struct Raw {
      std::string bytes;
      std::string statusLine;
      std::string says;
    };
    const std::vector<Raw> raws = {
        {"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 17000000\r\n\r\n", "HTTP/1.1 413", "request body larger than 16777216 bytes"},
        {"GET /v1/overview HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", "HTTP/1.1 431",
         "request line and headers larger than 16384 bytes"},
        {"THIS IS NOT HTTP\r\n\r\n", "HTTP/1.1 400", "malformed HTTP request"},
        {"GET /v1/overview HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", "HTTP/1.1 400", "malformed HTTP request"},
    };
    for (const Raw& raw : raws) {
      const int fd = connectTo(apiPort_);
      QVERIFY(fd >= 0);
      QVERIFY(::send(fd, raw.bytes.data(), raw.bytes.size(), MSG_NOSIGNAL) > 0);
      const auto [got, closed] = readUntilClosed(fd, 30000);
      ::close(fd);
      QVERIFY2(got.rfind(raw.statusLine, 0) == 0, got.c_str());
      const auto body = got.find("\r\n\r\n");
      QVERIFY(body != std::string::npos);
      const json b = json::parse(got.substr(body + 4), nullptr, false);
      QVERIFY2(b.value("error", "").find(raw.says) != std::string::npos, got.c_str());
      QVERIFY(closed);
    }
    checkUnharmed();
  }

  void nonUtf8FileNameIsRefused() {
    // A glob matches a file whose name is not UTF-8: refused at submission, naming where.
    const std::string dir = (tmp_.path() + "/glob").toStdString();
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/in-\xff\xfe.csv") << "id,price\n1,1.5\n";
    json job = csvJob("glob", "skip");
    job["nodes"][0]["params"]["path"] = "in-*.csv";
    const auto r = request("POST", "/v1/jobs?base_dir=" + weir::cluster::urlEncode(dir), job.dump());
    QCOMPARE(r.status, 400);
    QVERIFY2(r.body.find("node src: params._splits[0].path is not UTF-8") != std::string::npos, r.body.c_str());
    checkUnharmed();
  }

  void undeployableJobIsRefusedAtSubmission() {
    // Under the 16 MiB body limit, but its deploy message would not fit a control frame.
    // The name travels twice: as the plan's name and in its default dead-letter path.
    json big = csvJob(std::string(9u << 20, 'n'), "skip");
    big.erase("dead_letter");
    auto r = request("POST", "/v1/jobs", big.dump());
    QCOMPARE(r.status, 413);
    QVERIFY2(r.body.find("more than the 16777216 a control message may carry") != std::string::npos,
             r.body.substr(0, 300).c_str());
    checkUnharmed();
  }

  void lineEndsAndQuotesInTheCluster() {
    // CR-only line ends: three rows, nothing malformed.
    std::filesystem::create_directories((tmp_.path() + "/cr").toStdString());
    std::ofstream((tmp_.path() + "/cr/in.csv").toStdString(), std::ios::binary) << "id,price\r1,1.5\r2,2.5\r3,3.5\r";
    std::string id = submit(csvJob("cr", "skip"), "cr");
    QVERIFY(!id.empty());
    QVERIFY2(waitUntil([&] { return status(id) == "FINISHED"; }), "the CR job did not finish");
    QCOMPARE(linesOf("cr", "out.jsonl"), std::size_t(3));

    // An unterminated quote on row 5 of 1,000: one dead letter, 999 rows written.
    std::filesystem::create_directories((tmp_.path() + "/quote").toStdString());
    {
      std::ofstream in((tmp_.path() + "/quote/in.csv").toStdString(), std::ios::binary);
      in << "id,price\n";
      for (int i = 1; i <= 1000; ++i) in << i << (i == 5 ? ",\"1.5\n" : ",1.5\n");
    }
    id = submit(csvJob("quote", "skip"), "quote");
    QVERIFY(!id.empty());
    QVERIFY2(waitUntil([&] { return status(id) == "FINISHED"; }), "the quote job did not finish");
    const std::size_t written = linesOf("quote", "out.jsonl");
    const std::size_t dead = linesOf("quote", "dead*.jsonl");
    QCOMPARE(written, std::size_t(999));
    QCOMPARE(dead, std::size_t(1));
    checkUnharmed();
  }

  void plantedSymlinkIsRefused() {
    const std::string dir = (tmp_.path() + "/link").toStdString();
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/in.csv") << "id,price\n1,1.5\n";
    std::ofstream(dir + "/victim.txt") << "precious\n";
    std::filesystem::create_symlink(dir + "/victim.txt", dir + "/out.jsonl.inprogress");
    const std::string id = submit(csvJob("link", "skip"), "link");
    QVERIFY(!id.empty());
    QVERIFY2(waitUntil([&] { return status(id) == "FAILED"; }), "the job did not fail");
    const json ex = get("/v1/jobs/" + id + "/exceptions");
    QVERIFY2(ex.dump().find("out.jsonl.inprogress: is a symbolic link; refusing to write through it") != std::string::npos,
             ex.dump().c_str());
    std::ifstream victim(dir + "/victim.txt");
    std::string content((std::istreambuf_iterator<char>(victim)), std::istreambuf_iterator<char>());
    QCOMPARE(content, std::string("precious\n"));
    QVERIFY(!std::filesystem::exists(dir + "/out.jsonl"));
    checkUnharmed();
  }

  void lockedMetadataLosesNoWrite() {
    // Another process holds the metadata's write lock while a job runs from start to end:
    // the JobManager goes on serving, and once the lock is gone every write is recorded.
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open((tmp_.path() + "/data/metadata.sqlite").toUtf8().constData(), &db), SQLITE_OK);
    QCOMPARE(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    const json job = {{"weir", 1},
                      {"name", "locked-meta"},
                      {"nodes",
                       {{{"id", "gen"}, {"type", "source.generator"}, {"params", {{"table", "bid"}, {"events", 100}}}},
                        {{"id", "out"}, {"type", "sink.discard"}, {"params", json::object()}}}},
                      {"edges", {{{"from", "gen"}, {"to", "out"}}}}};
    const std::string id = submit(job, "locked-meta");
    QVERIFY(!id.empty());
    const bool finished = waitUntil([&] { return status(id) == "FINISHED"; });
    QTest::qWait(3000);  // longer than a write's busy timeout (2 s): the writer must retry
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    QVERIFY2(finished, "the job did not finish while the metadata was locked");
    json run;
    QVERIFY2(waitUntil([&] {
               const json runs = get("/v1/jobs?name=locked-meta").value("jobs", json::array());
               if (runs.empty()) return false;
               run = runs[0];
               return run.value("status", "") == "FINISHED";
             }, 60000),
             run.dump().c_str());
    QCOMPARE(run.value("id", ""), id);
    QVERIFY(run["ended_ms"].is_number_integer());
    checkUnharmed();
  }

  void acceptFailuresBackOff() {
    // A JobManager with 64 descriptors, then 100 connections to its API port: accept fails
    // with EMFILE. It logs that (once per run of failures) instead of spinning silently, and
    // answers again once the connections are gone.
    QProcess p;
    p.setChildProcessModifier([] {
      const rlimit lim{64, 64};
      ::setrlimit(RLIMIT_NOFILE, &lim);
    });
    const QString ports = tmp_.path() + "/emfile.ports";
    p.start(kBin + "/weir-jobmanager", {"--rpc-port", "0", "--api-port", "0", "--data-dir", tmp_.path() + "/emfile",
                                        "--ports-file", ports});
    QVERIFY(p.waitForStarted());
    QVERIFY(waitUntil([&] { return QFile::exists(ports); }, 30000));
    std::ifstream pin(ports.toStdString());
    const int api = json::parse(pin).value("api_port", 0);
    std::vector<int> fds;
    for (int i = 0; i < 100; ++i)
      if (const int fd = connectTo(api); fd >= 0) fds.push_back(fd);
    QByteArray err;
    const bool logged = waitUntil([&] {
      err += p.readAllStandardError();
      return err.contains("API port: accept failed: Too many open files");
    }, 30000);
    for (int fd : fds) ::close(fd);
    const std::string url = "http://127.0.0.1:" + std::to_string(api);
    const bool answers = waitUntil([&] {
      try {
        return weir::cluster::httpRequest(url, "GET", "/v1/overview").status == 200;
      } catch (const std::exception&) {
        return false;
      }
    }, 60000);
    p.kill();
    p.waitForFinished(10000);
    QVERIFY2(logged, err.constData());
    QVERIFY(answers);
  }

  void weakSecretFileWarns() {
    const QString file = tmp_.path() + "/weak.secret";
    std::ofstream(file.toStdString()) << "x\n";
    QFile::setPermissions(file, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther);
    QProcess p;
    p.start(kBin + "/weir-jobmanager", {"--rpc-port", "0", "--api-port", "0", "--data-dir", tmp_.path() + "/weak",
                                        "--secret-file", file, "--ports-file", tmp_.path() + "/weak.ports"});
    QVERIFY(p.waitForStarted());
    QByteArray err;
    const bool warned = waitUntil([&] {
      err += p.readAllStandardError();
      return err.contains("is only 1 characters") && err.contains("readable by others (mode 0644)");
    }, 30000);
    p.kill();
    p.waitForFinished(10000);
    QVERIFY2(warned, err.constData());
  }

  void helloWithInvalidUtf8() {
    std::string dataAddress;
    for (const auto& t : taskManagers())
      if (t.value("name", "") == "real") dataAddress = t.value("data_address", "");
    const int port = std::stoi(dataAddress.substr(dataAddress.rfind(':') + 1));
    RawPeer peer(port);
    QVERIFY(peer.connected());
    const auto h = net::encodeHello({net::kProtocolVersion, "weir", "\xff\xfe-peer", net::randomNonce()});
    peer.sendFrame(net::FrameType::Hello, std::string(h.begin(), h.end()));
    const auto f = peer.readFrame();
    QVERIFY2(f && f->first == net::FrameType::Reject, "no REJECT");
    QVERIFY2(f->second.find("node name is not UTF-8") != std::string::npos, f->second.c_str());
    QVERIFY(peer.closedByPeer());
    QVERIFY2(waitUntil([&] {
               tmLog_ += tm_.readAllStandardError();
               return tmLog_.contains("node name is not UTF-8");
             }, 30000),
             "the TaskManager logged nothing");
    checkUnharmed();
  }

  /// Runs last: after everything above, the JobManager's resident memory is under the bound
  /// docs/security.md states.
  void jobManagerMemoryStaysBounded() {
    std::ifstream status("/proc/" + std::to_string(jm_.processId()) + "/status");
    std::string line;
    long rssKb = -1;
    while (std::getline(status, line))
      if (line.rfind("VmRSS:", 0) == 0) rssKb = std::stol(line.substr(6));
    qInfo() << "JobManager VmRSS after the suite:" << rssKb << "kB";
    QVERIFY(rssKb > 0);
    QVERIFY2(rssKb < 256 * 1024, qPrintable(QString("VmRSS %1 kB").arg(rssKb)));
    checkUnharmed();
  }
};

QTEST_GUILESS_MAIN(TestHostile)
#include "test_hostile.moc"
