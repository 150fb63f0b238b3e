// The workbench's graph document (app/job_document.h): edits, undo/redo round trips,
// connection refusals with their reasons, validation mapped onto nodes, edges and params,
// copy/paste, rename, auto-layout, selection and validation off the UI thread.
//
// Most cases start from this graph (samples/bid-stats.weir.json):
//
//   bids (source.file) --> pricey (filter) --> euros (map) --> out (sink.file)

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QStandardPaths>
#include <QTest>

#include <QJSEngine>

#include "graph_layout.h"
#include "json_util.h"
#include "job_document.h"

namespace {

const QString kSourceSample = QStringLiteral(WEIR_SOURCE_DIR "/samples/bid-stats.weir.json");
// Each test edits a fresh copy in its own folder: a document with unsaved edits leaves an
// autosave next to its file when it goes away, and that must not land in samples/.
QString kSample;

QStringList ids(JobDocument& d) {
  QStringList l;
  for (const auto& n : d.job().nodes) l << QString::fromStdString(n.id);
  return l;
}

QStringList edgeTexts(JobDocument& d) {
  QStringList l;
  for (const auto& e : d.job().edges)
    l << QString::fromStdString(e.from + "." + e.fromPort + "->" + e.to + "." + e.toPort);
  return l;
}

}  // namespace

class TestAppGraph : public QObject {
  Q_OBJECT
  std::unique_ptr<QTemporaryDir> dir_;

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("WeirTest");
    QCoreApplication::setApplicationName("test_app_graph");
  }

  void init() {
    dir_ = std::make_unique<QTemporaryDir>();
    QVERIFY(dir_->isValid());
    kSample = dir_->filePath("bid-stats.weir.json");
    QVERIFY(QFile::copy(kSourceSample, kSample));
    QDir().mkpath(dir_->filePath("data"));
  }

  void opensASampleAsModels() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY2(d.open(kSample), qPrintable(d.lastError()));
    QCOMPARE(d.name(), QString("bid-stats"));
    QCOMPARE(d.nodes()->rowCount(), 4);
    QCOMPARE(d.edges()->rowCount(), 3);
    QVERIFY(d.valid());
    QCOMPARE(d.problems()->rowCount(), 0);
    QVERIFY(!d.dirty());
    QModelIndex pricey = d.nodes()->index(1);
    QCOMPARE(pricey.data(NodeListModel::NodeIdRole).toString(), QString("pricey"));
    QCOMPARE(pricey.data(NodeListModel::PosXRole).toDouble(), 280.0);
    QCOMPARE(pricey.data(NodeListModel::InputsRole).toStringList(), QStringList{"in"});
    QCOMPARE(pricey.data(NodeListModel::SummaryRole).toString(), QString("price > 1000 AND channel IS NOT NULL"));
    QVERIFY(pricey.data(NodeListModel::SchemaRole).toString().startsWith("auction:int64"));
    // Edge ends sit on the ports: out of bids (right edge), into pricey (left edge).
    QModelIndex e0 = d.edges()->index(0);
    QCOMPARE(e0.data(EdgeListModel::X1Role).toDouble(), 40.0 + wb::NodeGeometry::width);
    QCOMPARE(e0.data(EdgeListModel::X2Role).toDouble(), 280.0);
    QCOMPARE(e0.data(EdgeListModel::Y2Role).toDouble(), 80.0 + wb::NodeGeometry::headerHeight + wb::NodeGeometry::portRowHeight / 2);
    QVERIFY(e0.data(EdgeListModel::SchemaRole).toString().contains("date_time:timestamp"));
    QCOMPARE(e0.data(EdgeListModel::PartitionRole).toString(), QString("forward"));
  }

  void addNodeMakesUniqueIdsAndUndoes() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    QSignalSpy inserted(d.nodes(), &QAbstractItemModel::rowsInserted);
    QCOMPARE(d.addNode("filter", 100, 300), QString("filter"));
    QCOMPARE(d.addNode("filter", 100, 400), QString("filter_2"));
    QCOMPARE(d.addNode("sink.stdout", 100, 500), QString("sink_stdout"));
    QCOMPARE(d.addNode("no.such", 0, 0), QString());
    QCOMPARE(inserted.count(), 3);
    QCOMPARE(d.selectedNodes(), QStringList{"sink_stdout"});
    QCOMPARE(d.currentNode(), QString("sink_stdout"));
    QVERIFY(d.dirty());
    // A new filter has no `where` and no input: validation says so at the node.
    QStringList problems = d.nodeProblems("filter");
    QVERIFY2(problems.contains("where: missing required param"), qPrintable(problems.join("\n")));
    QCOMPARE(d.undoText(), QString("Add sink_stdout"));
    d.undo();
    d.undo();
    d.undo();
    QCOMPARE(ids(d), (QStringList{"bids", "pricey", "euros", "out"}));
    QVERIFY(!d.dirty());
    QVERIFY(d.valid());
    d.redo();
    QCOMPARE(ids(d).last(), QString("filter"));
    QCOMPARE(d.nodeRect("filter").topLeft(), QPointF(100, 300));
  }

  // A node added where another is (from the keyboard, at the view's centre) goes beside it.
  void freeSpotAvoidsCards() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);
    QCOMPARE(d.freeSpot(100, 100), QPointF(100, 100));  // an empty job: where asked
    const QString a = d.addNode("filter", 100, 100);
    const QPointF p = d.freeSpot(100, 100);
    QVERIFY(p != QPointF(100, 100));
    const QString b = d.addNode("filter", p.x(), p.y());
    QVERIFY(!d.nodeRect(a).intersects(d.nodeRect(b)));
    const QPointF q = d.freeSpot(100, 100);
    const QString c = d.addNode("filter", q.x(), q.y());
    QVERIFY(!d.nodeRect(c).intersects(d.nodeRect(a)));
    QVERIFY(!d.nodeRect(c).intersects(d.nodeRect(b)));
  }

  // Cards show the params that matter at a glance: a window's shape and sizes, a
  // generator's count (or that it never ends) and rate.
  void cardsShowKeyParams() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);
    const QString g = d.addNode("source.generator", 0, 0);
    QVERIFY(d.setParam(g, "table", "bid"));
    auto summaryOf = [&](const QString& id) { return d.nodes()->index(d.nodeRow(id)).data(NodeListModel::SummaryRole).toString(); };
    QCOMPARE(summaryOf(g), QString("bid, unbounded"));
    QVERIFY(d.setParam(g, "rate", 60000));
    QCOMPARE(summaryOf(g), QString("bid, unbounded, 60k/s"));
    QVERIFY(d.setParam(g, "events", 12000));
    QCOMPARE(summaryOf(g), QString("bid, 12,000 events, 60k/s"));
    const QString w = d.addNode("window", 300, 0);
    QVERIFY(d.setParamJson(w, "window", R"({"type": "sliding", "size_ms": 10000, "slide_ms": 2000})"));
    QVERIFY(d.setParamJson(w, "key", R"(["auction"])"));
    QVERIFY(d.setParamJson(w, "aggregates", R"([{"name": "n", "fn": "count"}])"));
    QCOMPARE(summaryOf(w), QString("sliding 10 s every 2.0 s by auction: n"));
    QVERIFY(d.setParamJson(w, "window", R"({"type": "tumbling", "size_ms": 60000})"));
    QCOMPARE(summaryOf(w), QString("tumbling 60 s by auction: n"));
  }

  void removeTakesEdgesAlongAndUndoRestoresOrder() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    const QString before = d.toText();
    d.removeNodes({"pricey"});
    QCOMPARE(ids(d), (QStringList{"bids", "euros", "out"}));
    QCOMPARE(edgeTexts(d), QStringList{"euros.out->out.in"});
    QVERIFY(!d.valid());  // bids.out and euros.in are unconnected now
    d.undo();
    QCOMPARE(d.toText(), before);
    QVERIFY(d.valid());
    // Removing the selection: nodes and the selected edge, one undo step.
    d.selectNodes({"out"});
    d.removeSelected();
    QCOMPARE(d.nodes()->rowCount(), 3);
    d.selectEdge(d.edgeId(0));
    QCOMPARE(d.selectedEdge(), d.edgeId(0));
    d.removeSelected();
    QCOMPARE(edgeTexts(d), QStringList{"pricey.out->euros.in"});
    d.undo();
    d.undo();
    QCOMPARE(d.toText(), before);
  }

  void moveKeepsPositionsInUi() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    QSignalSpy edgeChanged(d.edges(), &QAbstractItemModel::dataChanged);
    d.moveNodes({"bids", "pricey"}, 10, -20);
    QCOMPARE(d.nodeRect("bids").topLeft(), QPointF(50, 60));
    QCOMPARE(d.nodeRect("pricey").topLeft(), QPointF(290, 60));
    QVERIFY(d.job().node("bids")->ui == nlohmann::json({{"x", 50}, {"y", 60}}));
    QVERIFY(edgeChanged.count() >= 2);  // edges follow their nodes
    QCOMPARE(d.edges()->index(0).data(EdgeListModel::X1Role).toDouble(), 50.0 + wb::NodeGeometry::width);
    QCOMPARE(d.undoText(), QString("Move 2 nodes"));
    d.undo();
    QCOMPARE(d.nodeRect("bids").topLeft(), QPointF(40, 80));
    d.setNodePosition("out", 700, 300);
    QCOMPARE(d.nodeRect("out").topLeft(), QPointF(700, 300));
  }

  void connectionsAreRefusedWithReasons() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    QCOMPARE(d.connectionRefusal("bids", "out", "nope", "in"), QString("there is no node 'nope'"));
    QCOMPARE(d.connectionRefusal("out", "out", "pricey", "in"),
             QString("'out' is a sink: it has no output ports"));
    QCOMPARE(d.connectionRefusal("bids", "out", "bids", "in"),
             QString("'bids' is a source: it has no input ports"));
    QCOMPARE(d.connectionRefusal("bids", "late", "pricey", "in"),
             QString("'bids' has no output port 'late' (its outputs: out)"));
    QCOMPARE(d.connectionRefusal("bids", "out", "pricey", "left"),
             QString("'pricey' has no input port 'left' (its inputs: in)"));
    QCOMPARE(d.connectionRefusal("bids", "out", "pricey", "in"), QString("that edge already exists"));
    QCOMPARE(d.connectionRefusal("bids", "out", "euros", "in"),
             QString("input 'in' of 'euros' already has an edge from 'pricey' (only a union's input takes several)"));
    // A cycle: euros -> pricey would close pricey -> euros.
    d.addNode("union", 400, 300);
    QVERIFY(d.connectPorts("euros", "out", "union", "in").isEmpty());
    QCOMPARE(d.connectionRefusal("union", "out", "euros", "in").left(14), QString("input 'in' of "));
    // Schemas: a union whose inputs differ (bids has 5 fields, euros' output has 5 others).
    QString why = d.connectionRefusal("bids", "out", "union", "in");
    QCOMPARE(why, QString("the schemas do not fit: schema differs from the one from 'euros': "
                          "field 2 is bidder:int64, not channel:string"));
    QCOMPARE(d.connectPorts("bids", "out", "union", "in"), why);  // refused: nothing added
    QCOMPARE(d.edges()->rowCount(), 4);
    d.disconnectEdge(d.edgeId(0));  // bids -> pricey
    QCOMPARE(d.connectionRefusal("union", "out", "pricey", "in"),
             QString("the edge would make a cycle: union -> pricey -> euros -> union"));
    QCOMPARE(d.connectionRefusal("pricey", "out", "pricey", "in"),
             QString("an edge from 'pricey' to itself would make a cycle"));
    // Refusals do not touch the undo stack.
    QCOMPARE(d.undoText(), QString("Disconnect bids from pricey"));
  }

  void unionOfEqualSchemasConnects() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    d.addNode("filter", 280, 300);
    QVERIFY(d.setParam("filter", "where", "price < 10"));
    QVERIFY(d.connectPorts("bids", "out", "filter", "in").isEmpty());
    d.addNode("union", 520, 300);
    QVERIFY(d.connectPorts("pricey", "out", "union", "in").isEmpty());
    QVERIFY(d.connectPorts("filter", "out", "union", "in").isEmpty());
    QCOMPARE(d.edges()->rowCount(), 6);
  }

  void validationMapsOntoNodesEdgesAndParams() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    QSignalSpy validated(&d, &JobDocument::validated);
    QVERIFY(d.setParam("pricey", "where", "prize > 1000"));
    QCOMPARE(validated.count(), 1);
    QCOMPARE(d.problemTexts(), QStringList{"pricey: where: at 0: unknown field 'prize' (fields: auction, bidder, price, channel, date_time)"});
    QModelIndex pricey = d.nodes()->index(1);
    QCOMPARE(pricey.data(NodeListModel::ProblemCountRole).toInt(), 1);
    QCOMPARE(pricey.data(NodeListModel::ProblemRole).toString(),
             QString("where: at 0: unknown field 'prize' (fields: auction, bidder, price, channel, date_time)"));
    // A filter passes its input on even with a broken condition: the nodes downstream are
    // checked (all problems at once) and know their schema; nothing cascades from it.
    QCOMPARE(d.nodes()->index(2).data(NodeListModel::ProblemCountRole).toInt(), 0);
    QVERIFY(d.nodes()->index(2).data(NodeListModel::SchemaRole).toString().startsWith("auction:int64, channel:string"));
    QModelIndex p0 = d.problems()->index(0);
    QCOMPARE(p0.data(ProblemListModel::NodeRole).toString(), QString("pricey"));
    QCOMPARE(p0.data(ProblemListModel::PathRole).toString(), QString("where"));
    QVERIFY(p0.data(ProblemListModel::NodeExistsRole).toBool());
    // Selecting the problem selects its node and points the inspector at the param.
    QSignalSpy selected(&d, &JobDocument::problemSelected);
    d.selectProblem(0);
    QCOMPARE(d.selectedNodes(), QStringList{"pricey"});
    QCOMPARE(selected.count(), 1);
    QCOMPARE(selected.at(0).at(1).toString(), QString("where"));
    d.undo();
    QVERIFY(d.valid());
    QCOMPARE(d.problems()->rowCount(), 0);
  }

  void edgeProblemsMapOntoEdges() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    d.addNode("union", 520, 300);
    QVERIFY(d.connectPorts("euros", "out", "union", "in").isEmpty());
    // Add the mismatching edge behind the refusal's back, as a pasted job might.
    QStringList pasted = d.paste(R"({"weir": 1, "nodes": [{"id": "g", "type": "source.generator",
        "params": {"table": "bid"}}, {"id": "u", "type": "union"}, {"id": "s", "type": "sink.discard"}],
        "edges": [{"from": "g", "to": "u"}, {"from": "u", "to": "s"}]})");
    QCOMPARE(pasted, (QStringList{"g", "u", "s"}));
    QVERIFY(d.connectPorts("pricey", "out", "u", "in").startsWith("the schemas do not fit"));
    int row = -1;
    for (int i = 0; i < d.problems()->rowCount(); ++i)
      if (d.problems()->index(i).data(ProblemListModel::NodeRole).toString() == "union") row = i;
    QVERIFY(row >= 0);
    QCOMPARE(d.problems()->index(row).data(ProblemListModel::PathRole).toString(), QString());
    QVERIFY(d.problemTexts().contains("union: output port 'out' is not connected") ||
            d.problemTexts().join("\n").contains("union"));
  }

  void setParamByPathCoercesAndMerges() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    d.addNode("window", 500, 400);
    QVERIFY(d.setParam("window", "window.type", "tumbling"));
    QVERIFY(d.setParam("window", "window.size_ms", 1000.0));  // QML numbers are doubles
    QCOMPARE(d.paramsText("window"), QString(R"({"window":{"size_ms":1000,"type":"tumbling"}})"));
    QVERIFY(d.setParam("window", "window.size_ms", 2000.0));
    QVERIFY(d.setParam("window", "window.size_ms", 3000.0));
    QVERIFY(!d.setParam("window", "window.size_ms", 3000.0));  // no change, no command
    QCOMPARE(d.undoText(), QString("Set window.window.size_ms"));
    d.undo();  // the three size edits were one step
    QCOMPARE(d.paramsText("window"), QString(R"({"window":{"type":"tumbling"}})"));
    QVERIFY(d.setParam("window", "aggregates", QVariantList{QVariantMap{{"name", "n"}, {"fn", "count"}}}));
    QVERIFY(d.setParam("window", "aggregates[0].fn", "sum"));
    QCOMPARE(d.paramValue("window", "aggregates[0].fn").toString(), QString("sum"));
    QCOMPARE(d.addListItem("window", "aggregates"), QString("aggregates[1]"));
    QCOMPARE(d.paramValue("window", "aggregates[1]").toMap().value("fn").toString(), QString("count"));
    QVERIFY(d.resetParam("window", "aggregates[0]"));
    QCOMPARE(d.paramValue("window", "aggregates").toList().size(), 1);
    QVERIFY(d.setParamJson("window", "key", R"(["auction"])"));
    QCOMPARE(d.paramValue("window", "key").toStringList(), QStringList{"auction"});
    QVERIFY(!d.setParamJson("window", "key", "[oops"));
    QVERIFY(d.resetParam("window", "key"));
    QVERIFY(!d.paramValue("window", "key").isValid());
  }

  void edgePartition() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    const int e = d.edgeId(2);  // euros -> out: parallelism 2 -> 1, so rebalance
    QCOMPARE(d.edges()->index(2).data(EdgeListModel::PartitionRole).toString(), QString("rebalance"));
    QCOMPARE(d.setEdgePartition(e, "sideways"), QString("'sideways' is not one of auto, forward, rebalance, broadcast"));
    QCOMPARE(d.setEdgePartition(e, "forward"), QString());
    QCOMPARE(d.problemTexts(), QStringList{"out: edges[2].partition: forward needs equal parallelism, but 'euros' has 2 and 'out' has 1"});
    QCOMPARE(d.edgeInfo(e).value("asked").toString(), QString("forward"));
    QCOMPARE(d.setEdgePartition(e, "broadcast"), QString());
    QVERIFY(d.valid());
    QCOMPARE(d.edges()->index(2).data(EdgeListModel::PartitionRole).toString(), QString("broadcast"));
    QVERIFY(d.toText().contains(R"("partition": "broadcast")"));
    QCOMPARE(d.setEdgePartition(e, "auto"), QString());
    QVERIFY(!d.toText().contains("partition"));
  }

  void jobFieldEditsMerge() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);
    QVERIFY(d.open(kSample));
    d.setParallelism(3);
    d.setParallelism(4);  // a spin box stepping: one undo step
    QCOMPARE(d.parallelism(), 4);
    d.undo();
    QCOMPARE(d.parallelism(), 2);
    QVERIFY(!d.canUndo());
    d.setMode("batch");
    QCOMPARE(d.mode(), QString("batch"));
    d.undo();
    QCOMPARE(d.mode(), QString("streaming"));
  }

  void renameCarriesEdgesAndRefusesClashes() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    d.selectNode("pricey");
    QCOMPARE(d.renameNode("pricey", "euros"), QString("a node 'euros' already exists"));
    QCOMPARE(d.renameNode("pricey", "  "), QString("a node id cannot be empty"));
    QCOMPARE(d.renameNode("pricey", "expensive"), QString());
    QCOMPARE(edgeTexts(d), (QStringList{"bids.out->expensive.in", "expensive.out->euros.in", "euros.out->out.in"}));
    QCOMPARE(d.selectedNodes(), QStringList{"expensive"});
    QVERIFY(d.valid());
    d.undo();
    QCOMPARE(edgeTexts(d), (QStringList{"bids.out->pricey.in", "pricey.out->euros.in", "euros.out->out.in"}));
    QVERIFY(d.valid());
  }

  void copyPasteRenamesOnClash() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    d.selectNodes({"pricey", "euros"});
    QString text = d.copySelection();
    QVERIFY(text.contains("\"pricey\""));
    QStringList pasted = d.paste(text);
    QCOMPARE(pasted, (QStringList{"pricey_2", "euros_2"}));
    QCOMPARE(d.selectedNodes(), pasted);
    QCOMPARE(edgeTexts(d).last(), QString("pricey_2.out->euros_2.in"));  // the edge between them
    QCOMPARE(d.nodeRect("pricey_2").topLeft(), QPointF(320, 120));      // 40 right and down
    QStringList again = d.paste(text, 1000, 1000);
    QCOMPARE(again, (QStringList{"pricey_3", "euros_3"}));
    QCOMPARE(d.nodeRect("pricey_3").topLeft(), QPointF(1000, 1000));
    d.undo();
    d.undo();
    QCOMPARE(d.nodes()->rowCount(), 4);
    // Cut is copy + remove.
    d.selectNodes({"out"});
    QVERIFY(!d.cutSelection().isEmpty());
    QCOMPARE(d.nodes()->rowCount(), 3);
    QCOMPARE(d.paste(), QStringList{"out"});  // from the clipboard; no clash any more
  }

  void selectionByRectAndToggle() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    d.selectInRect(QRectF(0, 0, 300, 200));  // bids and pricey
    QCOMPARE(d.selectedNodes(), (QStringList{"bids", "pricey"}));
    d.selectNode("pricey", JobDocument::Toggle);
    QCOMPARE(d.selectedNodes(), QStringList{"bids"});
    d.selectNode("out", JobDocument::Add);
    QCOMPARE(d.selectedNodes(), (QStringList{"bids", "out"}));
    QCOMPARE(d.currentNode(), QString());
    QVERIFY(d.nodes()->index(0).data(NodeListModel::SelectedRole).toBool());
    QVERIFY(d.edges()->index(0).data(EdgeListModel::FromSelectedRole).toBool());
    d.selectAll();
    QCOMPARE(d.selectedNodes().size(), 4);
    d.clearSelection();
    QVERIFY(d.selectedNodes().isEmpty());
    // Selection survives no removal: undoing an add drops the added node from it.
    d.addNode("filter", 0, 0);
    d.undo();
    QVERIFY(d.selectedNodes().isEmpty());
  }

  void portHitTest() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    QPointF out = d.portPosition("bids", "out", false);
    QVariantMap hit = d.portAt(out.x() + 3, out.y() - 2);
    QCOMPARE(hit.value("node").toString(), QString("bids"));
    QCOMPARE(hit.value("port").toString(), QString("out"));
    QCOMPARE(hit.value("input").toBool(), false);
    QPointF in = d.portPosition("pricey", "in", true);
    QCOMPARE(d.portAt(in.x(), in.y()).value("input").toBool(), true);
    QVERIFY(d.portAt(10, 10).isEmpty());
  }

  void autoLayoutIsLayeredAndUndoable() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    d.addNode("sink.discard", 900, 900);
    QVERIFY(d.connectPorts("pricey", "out", "sink_discard", "in").isEmpty());
    d.autoLayout();
    const double col = wb::NodeGeometry::width + wb::kLayoutColumnGap;
    QCOMPARE(d.nodeRect("bids").left(), 40.0);
    QCOMPARE(d.nodeRect("pricey").left(), 40.0 + col);
    QCOMPARE(d.nodeRect("euros").left(), 40.0 + 2 * col);
    QCOMPARE(d.nodeRect("sink_discard").left(), 40.0 + 2 * col);  // longest path: 2
    QCOMPARE(d.nodeRect("out").left(), 40.0 + 3 * col);
    QVERIFY(d.nodeRect("sink_discard").top() != d.nodeRect("euros").top());
    QCOMPARE(d.undoText(), QString("Auto-layout"));
    d.undo();
    QCOMPARE(d.nodeRect("sink_discard").topLeft(), QPointF(900, 900));
  }

  void everyEditRoundTripsThroughUndo() {
    // A script of edits; undoing all of them gives the file back, redoing all gives the
    // edited job back, byte for byte.
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    const QString original = d.toText();
    d.addNode("window", 300, 300);
    d.setParam("window", "window.type", "sliding");
    d.connectPorts("bids", "out", "window", "in");
    d.renameNode("euros", "converted");
    d.moveNodes({"bids", "window"}, 5, 5);
    d.selectNodes({"window"});
    d.paste(d.copySelection());
    d.autoLayout();
    d.removeNodes({"pricey"});
    d.setName("renamed");
    d.setParallelism(3);
    d.setNodeParallelism("out", 2);
    const QString edited = d.toText();
    while (d.canUndo()) d.undo();
    QCOMPARE(d.toText(), original);
    QVERIFY(!d.dirty());
    while (d.canRedo()) d.redo();
    QCOMPARE(d.toText(), edited);
    QCOMPARE(d.name(), QString("renamed"));
  }

  void validationOffTheUiThreadDropsStaleResults() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(kSample));
    d.setValidationMode(JobDocument::Asynchronous);
    QSignalSpy validated(&d, &JobDocument::validated);
    d.setParam("pricey", "where", "prize > 1");
    d.setParam("pricey", "where", "price > 2");
    d.setParam("pricey", "where", "pryce > 3");
    QVERIFY(d.validating());
    QTRY_VERIFY(!d.validating());
    // Only results for the latest job were applied.
    QVERIFY(validated.count() >= 1);
    QCOMPARE(d.problemTexts().size(), 1);
    QVERIFY2(d.problemTexts().first().contains("pryce"), qPrintable(d.problemTexts().join("\n")));
  }

  void javascriptValuesBecomeJson() {
    // What QML passes for a QVariant parameter: numbers, strings, and QJSValue for objects
    // and arrays (an empty object must stay an object).
    QJSEngine js;
    QCOMPARE(QString::fromStdString(wb::toJson(QVariant::fromValue(js.evaluate("({})"))).dump()), QString("{}"));
    QCOMPARE(QString::fromStdString(wb::toJson(QVariant::fromValue(js.evaluate("([])"))).dump()), QString("[]"));
    QCOMPARE(QString::fromStdString(wb::toJson(QVariant::fromValue(js.evaluate("({a: [1, 'x', true], b: {c: 2.5}})"))).dump()),
             QString(R"({"a":[1,"x",true],"b":{"c":2.5}})"));
    QVERIFY(wb::toJson(QVariant::fromValue(js.evaluate("undefined"))).is_null());
    QVERIFY(wb::toJson(QVariant()).is_null());
    QCOMPARE(QString::fromStdString(wb::coerceToKind(wb::toJson(1000.0), weir::ParamKind::Int).dump()), QString("1000"));
    QCOMPARE(QString::fromStdString(wb::coerceToKind(wb::toJson(QString("12")), weir::ParamKind::Int).dump()), QString("12"));
  }

  void validationOf200NodesIsFast() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QString text = R"({"weir": 1, "name": "big", "nodes": [)";
    QStringList nodes, edges;
    for (int c = 0; c < 50; ++c) {
      QString p = QString("c%1_").arg(c);
      nodes << QString(R"({"id": "%1src", "type": "source.generator", "params": {"table": "bid", "events": 10}})").arg(p)
            << QString(R"({"id": "%1f", "type": "filter", "params": {"where": "price > 1000 AND channel IS NOT NULL"}})").arg(p)
            << QString(R"({"id": "%1m", "type": "map", "params": {"fields": [{"name": "a", "expr": "auction * 2"}]}})").arg(p)
            << QString(R"({"id": "%1o", "type": "sink.discard"})").arg(p);
      edges << QString(R"({"from": "%1src", "to": "%1f"})").arg(p) << QString(R"({"from": "%1f", "to": "%1m"})").arg(p)
            << QString(R"({"from": "%1m", "to": "%1o"})").arg(p);
    }
    text += nodes.join(",") + R"(], "edges": [)" + edges.join(",") + "]}";
    QStringList pasted = d.paste(text);
    QCOMPARE(pasted.size(), 200);
    QVERIFY2(d.valid(), qPrintable(d.problemTexts().join("\n")));
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < 20; ++i) d.moveNodes({"c0_f"}, 1, 1);
    const double perEdit = static_cast<double>(t.elapsed()) / 20.0;
    qInfo("validation of 200 nodes: %.2f ms; one edit with validation: %.2f ms", d.validationMs(), perEdit);
    QVERIFY(d.validationMs() < 50);
  }
};

QTEST_MAIN(TestAppGraph)
#include "test_app_graph.moc"
