// weir-bench-workbench: the workbench's own speed, on the offscreen platform (software
// renderer, like the tests):
//
//   start    time from the program's start to the first frame of the window with a sample
//            job open (the app's real QML, models and validation), N runs in fresh engines;
//   live     200 nodes (50 chains of 4) on the canvas with live figures on every node and
//            edge, a new WebSocket-style message each update: the cost of applying it (the
//            model and every binding it moves, on the UI thread) and the time to render the
//            frame that follows (sync + render + swap).
//
//   weir-bench-workbench [--starts N] [--updates N] [--interval-ms MS]
//
// Prints medians and maxima; timings on a shared machine are figures to read, not limits.

#include <QElapsedTimer>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QTemporaryDir>
#include <QtQml/QQmlExtensionPlugin>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "live_metrics.h"
#include "run_controller.h"

Q_IMPORT_QML_PLUGIN(Weir_WorkbenchPlugin)

using nlohmann::json;

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
double maximum(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

/// Waits for the window's next swapped frame; returns ms from `since` (or -1 on timeout).
double nextFrame(QQuickWindow* w, const QElapsedTimer& since, int timeoutMs = 5000) {
  double at = -1;
  QEventLoop loop;
  auto c = QObject::connect(w, &QQuickWindow::frameSwapped, &loop, [&] {
    at = since.nsecsElapsed() / 1e6;
    loop.quit();
  });
  QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
  loop.exec();
  QObject::disconnect(c);
  return at;
}

QQuickWindow* load(QQmlApplicationEngine& engine, const QString& job) {
  engine.addImportPath("qrc:/");
  engine.setInitialProperties({{"jobPath", job}, {"screenshotMode", true}});
  engine.load(QUrl("qrc:/Weir/Workbench/qml/Main.qml"));
  return engine.rootObjects().isEmpty() ? nullptr : qobject_cast<QQuickWindow*>(engine.rootObjects().first());
}

json twoHundredNodeJob() {
  json nodes = json::array(), edges = json::array();
  for (int c = 0; c < 50; ++c) {
    const std::string p = "c" + std::to_string(c) + "_";
    nodes.push_back({{"id", p + "src"}, {"type", "source.generator"}, {"params", {{"table", "bid"}, {"events", 10}}}});
    nodes.push_back({{"id", p + "f"}, {"type", "filter"}, {"params", {{"where", "price > 1000"}}}});
    nodes.push_back({{"id", p + "m"}, {"type", "map"}, {"params", {{"fields", {{{"name", "a"}, {"expr", "auction * 2"}}}}}}});
    nodes.push_back({{"id", p + "o"}, {"type", "sink.discard"}});
    edges.push_back({{"from", p + "src"}, {"to", p + "f"}});
    edges.push_back({{"from", p + "f"}, {"to", p + "m"}});
    edges.push_back({{"from", p + "m"}, {"to", p + "o"}});
  }
  return {{"weir", 1}, {"name", "two-hundred"}, {"parallelism", 2}, {"nodes", nodes}, {"edges", edges}};
}

/// A message of the WebSocket's form for `job`, every node with 2 subtasks, random figures.
json liveMessage(const json& job, std::mt19937& rng, std::int64_t nowMs) {
  std::uniform_real_distribution<double> rate(1000, 200000), ms(0, 1000);
  json subtasks = json::array(), vertices = json::array(), edges = json::array();
  for (const auto& n : job["nodes"]) {
    const std::string id = n["id"];
    double busyMax = 0, bpMax = 0, in = 0, out = 0;
    for (int s = 0; s < 2; ++s) {
      const double b = ms(rng), bp = ms(rng) / 2, r = rate(rng);
      busyMax = std::max(busyMax, b);
      bpMax = std::max(bpMax, bp);
      in += r;
      out += r;
      subtasks.push_back({{"node", id}, {"subtask", s}, {"taskmanager", "taskmanager-" + std::to_string(s + 1)},
                          {"records_in_per_s", r}, {"records_out_per_s", r}, {"busy_ms_per_s", b},
                          {"backpressured_ms_per_s", bp}, {"idle_ms_per_s", std::max(0.0, 1000 - b - bp)},
                          {"input_queue", 0.1}, {"output_queue", 0.2}, {"watermark", nowMs - 2000 - s * 100},
                          {"output_watermark", nowMs - 2000}, {"dead_letters", 0}, {"late_records", 0}});
    }
    vertices.push_back({{"node", id}, {"type", n["type"]}, {"parallelism", 2}, {"records_in", 0}, {"records_out", 0},
                        {"records_in_per_s", in}, {"records_out_per_s", out}, {"busy_ms_per_s_max", busyMax},
                        {"backpressured_ms_per_s_max", bpMax}, {"watermark", nowMs - 2100}, {"watermark_subtask", 1}});
  }
  for (const auto& e : job["edges"])
    edges.push_back({{"from", e["from"]}, {"from_port", "out"}, {"to", e["to"]}, {"to_port", "in"},
                     {"records_per_s", rate(rng)}});
  return {{"type", "metrics"}, {"status", "RUNNING"}, {"time_ms", nowMs},
          {"subtasks", subtasks}, {"edges", edges}, {"vertices", vertices}};
}

}  // namespace

int main(int argc, char** argv) {
  QElapsedTimer sinceStart;
  sinceStart.start();
  int starts = 5, updates = 20, intervalMs = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--starts") starts = std::atoi(argv[i + 1]);
    else if (a == "--updates") updates = std::atoi(argv[i + 1]);
    else if (a == "--interval-ms") intervalMs = std::atoi(argv[i + 1]);
  }
  qputenv("QT_QPA_PLATFORM", "offscreen");
  QGuiApplication app(argc, argv);
  QGuiApplication::setOrganizationName("WeirBench");
  QQuickStyle::setStyle("Fusion");
  const QString sample = QStringLiteral(WEIR_SOURCE_DIR "/samples/bid-stats.weir.json");

  // Start to interactive. The first run also pays for the process's own start (the
  // QGuiApplication above and loading Qt's libraries), reported apart.
  std::vector<double> startMs;
  double firstIncludingProcess = 0;
  for (int i = 0; i < starts; ++i) {
    QElapsedTimer t;
    t.start();
    QQmlApplicationEngine engine;
    QQuickWindow* w = load(engine, sample);
    if (!w) return 1;
    const double ms = nextFrame(w, t);
    if (i == 0) firstIncludingProcess = sinceStart.nsecsElapsed() / 1e6;
    startMs.push_back(ms);
  }
  std::printf("start to first frame (bid-stats, 1440x900): first %.0f ms from process start; "
              "median %.0f ms, max %.0f ms over %d fresh engines\n",
              firstIncludingProcess, median(startMs), maximum(startMs), starts);

  // 200 nodes with live figures.
  QTemporaryDir dir;
  const json job = twoHundredNodeJob();
  const QString path = dir.filePath("two-hundred.weir.json");
  std::ofstream(path.toStdString()) << job.dump(1);
  QQmlApplicationEngine engine;
  QQuickWindow* w = load(engine, path);
  if (!w) return 1;
  QElapsedTimer t;
  t.start();
  nextFrame(w, t);
  auto* run = w->property("runController").value<RunController*>();
  QObject* canvas = w->property("canvas").value<QObject*>();
  if (!run || !canvas) {
    std::fprintf(stderr, "no runController/canvas on the window\n");
    return 1;
  }
  canvas->setProperty("live", QVariant::fromValue(run->live()));
  std::mt19937 rng(7);
  // Every frame's sync start and swap, on the window's clock.
  QElapsedTimer clock;
  clock.start();
  double lastSync = 0;
  std::vector<std::pair<double, double>> frames;  // (sync start, swapped)
  QObject::connect(w, &QQuickWindow::beforeSynchronizing, w, [&] { lastSync = clock.nsecsElapsed() / 1e6; },
                   Qt::DirectConnection);
  QObject::connect(w, &QQuickWindow::frameSwapped, w, [&] { frames.push_back({lastSync, clock.nsecsElapsed() / 1e6}); },
                   Qt::DirectConnection);
  std::vector<double> modelMs, applyMs, latencyMs, renderMs, bareMs;
  {  // the model with nothing bound to it
    LiveMetrics bare;
    std::mt19937 r2(7);
    for (int i = 0; i < 20; ++i) {
      const json msg = liveMessage(job, r2, 1795557600000 + i * 1000);
      QElapsedTimer b;
      b.start();
      bare.applyMessage(msg);
      bareMs.push_back(b.nsecsElapsed() / 1e6);
    }
  }
  std::int64_t now = 1795557600000;
  for (int i = 0; i < updates; ++i) {
    const json msg = liveMessage(job, rng, now += intervalMs);
    const std::size_t before = frames.size();
    const double t0 = clock.nsecsElapsed() / 1e6;
    run->live()->applyMessage(msg);  // the model, then every binding that depends on it
    modelMs.push_back(clock.nsecsElapsed() / 1e6 - t0);
    QCoreApplication::processEvents();
    applyMs.push_back(clock.nsecsElapsed() / 1e6 - t0);
    QElapsedTimer wait;
    wait.start();
    while (frames.size() == before && wait.elapsed() < 5000) QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    if (frames.size() > before) {
      latencyMs.push_back(frames[before].second - t0);
      renderMs.push_back(frames[before].second - frames[before].first);
    }
    QThread::msleep(static_cast<unsigned long>(std::max(0.0, intervalMs - (clock.nsecsElapsed() / 1e6 - t0))));
  }
  std::printf("200 nodes + 150 edges with live figures, %d updates every %d ms:\n"
              "  applying a message, with the bindings it moves: median %.1f ms (max %.1f); with its signal's"
              " bindings %.1f ms; the model with nothing bound %.2f ms\n"
              "  from the message to its frame on screen: median %.1f ms (max %.1f); rendering that frame %.1f ms (max %.1f)\n",
              updates, intervalMs, median(applyMs), maximum(applyMs), median(modelMs), median(bareMs), median(latencyMs),
              maximum(latencyMs), median(renderMs), maximum(renderMs));
  return 0;
}
