// The palette and inspector models (app/catalog_model.h, app/inspector_model.h) and the
// expression highlighter: what the workbench generates from the engine's catalog, how a
// node's params are listed with kinds, defaults, values and errors, expression checking with
// the engine's error position, and completion from the input schema.

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "catalog_model.h"
#include "expression_highlighter.h"
#include "inspector_model.h"
#include "job_document.h"

class TestAppInspector : public QObject {
  Q_OBJECT
  std::unique_ptr<QTemporaryDir> dir_;
  QString sample_;

  QVariantMap row(InspectorModel* m, const QString& path) {
    int r = m->rowOf(path);
    if (r < 0) qWarning("no row %s", qPrintable(path));
    return m->get(r);
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("WeirTest");
    QCoreApplication::setApplicationName("test_app_inspector");
  }

  void init() {
    dir_ = std::make_unique<QTemporaryDir>();
    sample_ = dir_->filePath("bid-stats.weir.json");
    QVERIFY(QFile::copy(QStringLiteral(WEIR_SOURCE_DIR "/samples/bid-stats.weir.json"), sample_));
  }

  void catalogModelListsEveryOperatorByCategory() {
    CatalogModel m;
    const auto& ops = weir::Catalog::builtin().operators();
    QCOMPARE(m.rowCount(), static_cast<int>(ops.size()));
    // Sources first, then transforms, then sinks.
    QStringList categories;
    for (int i = 0; i < m.rowCount(); ++i) categories << m.index(i).data(CatalogModel::CategoryRole).toString();
    QStringList sorted = categories;
    std::stable_sort(sorted.begin(), sorted.end(), [](const QString& a, const QString& b) {
      auto rank = [](const QString& c) { return c == "source" ? 0 : c == "transform" ? 1 : 2; };
      return rank(a) < rank(b);
    });
    QCOMPARE(categories, sorted);
    QVariantMap window = m.get("window");
    QCOMPARE(window.value("title").toString(), QString("Window"));
    QCOMPARE(window.value("categoryTitle").toString(), QString("Transforms"));
    QCOMPARE(window.value("outputs").toStringList(), (QStringList{"out", "late"}));
    QVERIFY(window.value("params").toStringList().contains("aggregates"));
    QVERIFY(!window.value("doc").toString().isEmpty());
    QCOMPARE(m.get("join").value("inputs").toStringList(), (QStringList{"left", "right"}));
    // The filter narrows by type, title or doc.
    QSignalSpy count(&m, &CatalogModel::countChanged);
    m.setFilter("sink");
    QVERIFY(m.rowCount() >= 4);
    for (const QString& t : m.types()) QVERIFY2(t.startsWith("sink.") || m.get(t).value("doc").toString().contains("sink", Qt::CaseInsensitive), qPrintable(t));
    m.setFilter("Nexmark");
    QCOMPARE(m.types(), QStringList{"source.generator"});
    QCOMPARE(count.count(), 2);
  }

  void inspectorFollowsTheSelection() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(sample_));
    InspectorModel* m = d.inspector();
    QVERIFY(!m->active());
    QVERIFY(m->jobMode());  // nothing selected: the job's own settings
    QCOMPARE(m->get(0).value("path").toString(), QString("checkpoint"));
    d.selectNode("bids");
    QVERIFY(!m->jobMode());
    QVERIFY(m->active());
    QCOMPARE(m->nodeId(), QString("bids"));
    QCOMPARE(m->type(), QString("source.file"));
    QCOMPARE(m->title(), QString("File source"));
    QVERIFY(m->rowOf("path") >= 0);
    // Object params are flattened: watermark, then its members one level deeper.
    int wm = m->rowOf("watermark");
    QVERIFY(wm >= 0);
    QCOMPARE(m->get(wm).value("kind").toString(), QString("object"));
    QCOMPARE(m->get(wm + 1).value("depth").toInt(), 1);
    QVERIFY(m->get(wm + 1).value("path").toString().startsWith("watermark."));
    QCOMPARE(m->outputSchema().size(), 5);
    QCOMPARE(m->inputSchema().size(), 0);
    d.selectNodes({"bids", "pricey"});
    QVERIFY(!m->active());  // several selected: nothing to inspect
    d.selectNode("pricey");
    QCOMPARE(m->type(), QString("filter"));
    QCOMPARE(m->inputSchema().size(), 5);
    d.removeNodes({"pricey"});
    QVERIFY(!m->active());
  }

  void rowsCarryKindDefaultValueAndEffectiveValue() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(sample_));
    d.selectNode("bids");
    InspectorModel* m = d.inspector();
    QCOMPARE(m->resolvedParallelism(), 2);
    QCOMPARE(m->parallelism(), 0);
    QVariantMap format = row(m, "format");
    QCOMPARE(format.value("kind").toString(), QString("enum"));
    QCOMPARE(format.value("enumValues").toStringList(), (QStringList{"csv", "jsonl"}));
    QCOMPARE(format.value("valueText").toString(), QString("csv"));
    QVERIFY(format.value("isSet").toBool());
    QVariantMap follow = row(m, "follow");
    QCOMPARE(follow.value("kind").toString(), QString("bool"));
    QVERIFY(!follow.value("isSet").toBool());
    QCOMPARE(follow.value("defaultText").toString(), QString("false"));
    QCOMPARE(follow.value("effective").toBool(), false);  // filled in by validation
    QVariantMap ooo = row(m, "watermark.max_out_of_orderness_ms");
    QCOMPARE(ooo.value("kind").toString(), QString("int"));
    QCOMPARE(ooo.value("minimum").toDouble(), 0.0);
    QVERIFY(qIsNaN(ooo.value("maximum").toDouble()));
    QCOMPARE(ooo.value("effective").toInt(), 0);
    QVariantMap schema = row(m, "schema");
    QCOMPARE(schema.value("kind").toString(), QString("schema"));
    QCOMPARE(schema.value("items").toList().size(), 5);
    QCOMPARE(schema.value("childSpecs").toList().size(), 2);
    QCOMPARE(schema.value("items").toList().at(2).toMap().value("name").toString(), QString("price"));
    QVariantMap ts = row(m, "timestamp");
    QCOMPARE(ts.value("kind").toString(), QString("field"));
    QCOMPARE(ts.value("fieldCandidates").toStringList(),
             (QStringList{"auction", "bidder", "price", "channel", "date_time"}));
  }

  void errorsLandOnTheirRows() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(sample_));
    d.addNode("window", 100, 400);
    QVERIFY(d.connectPorts("bids", "out", "window", "in").isEmpty());
    d.setParam("window", "window", QVariantMap{{"type", "tumbling"}, {"size_ms", 0}});
    d.setParam("window", "aggregates", QVariantList{QVariantMap{{"name", "n"}, {"fn", "median"}}});
    d.selectNode("window");
    InspectorModel* m = d.inspector();
    QCOMPARE(row(m, "window.size_ms").value("error").toString(), QString("must be at least 1, not 0"));
    QVariantMap aggs = row(m, "aggregates");
    QVERIFY2(aggs.value("error").toString().startsWith("[0].fn: 'median' is not one of"), qPrintable(aggs.value("error").toString()));
    QVariantList itemErrors = aggs.value("itemErrors").toList();
    QCOMPARE(itemErrors.size(), 1);
    QVERIFY(itemErrors[0].toMap().value("fn").toString().startsWith("'median' is not one of"));
    QVERIFY(row(m, "key").value("error").toString().isEmpty());
    QVERIFY(!m->problems().isEmpty());
    // Only what no row shows: here the unconnected output.
    QCOMPARE(m->otherProblems(), QStringList{"output port 'out' is not connected (end the branch with a sink, e.g. sink.discard)"});
    d.setParam("window", "colour", "red");
    QCOMPARE(m->otherProblems().size(), 2);
    QCOMPARE(m->otherProblems().at(0), QString("colour: unknown param"));
    d.undo();
    // Fixing it clears the rows (the model refreshes on validation).
    QSignalSpy refreshed(m, &InspectorModel::refreshed);
    d.setParam("window", "window.size_ms", 1000);
    d.setParam("window", "aggregates[0].fn", "count");
    QVERIFY(refreshed.count() >= 2);
    QVERIFY(row(m, "window.size_ms").value("error").toString().isEmpty());
    QVERIFY(row(m, "aggregates").value("error").toString().isEmpty());
  }

  void selectingAProblemFocusesItsParam() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(sample_));
    d.setParam("euros", "fields[1].expr", "lower(chanel)");
    QCOMPARE(d.problemCount(), 1);
    d.selectProblem(0);
    QCOMPARE(d.inspector()->nodeId(), QString("euros"));
    QCOMPARE(d.inspector()->focusPath(), QString("fields[1].expr"));
    QVERIFY(d.inspector()->get(d.inspector()->rowOf("fields")).value("error").toString().contains("chanel"));
  }

  void expressionsAreCheckedAgainstTheInputSchema() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(sample_));
    d.selectNode("pricey");
    InspectorModel* m = d.inspector();
    QVariantMap ok = m->checkExpression("where", "price > 10 AND channel IS NOT NULL");
    QVERIFY(ok.value("ok").toBool());
    QCOMPARE(ok.value("type").toString(), QString("bool"));
    QVariantMap bad = m->checkExpression("where", "price > 1 AND prize < 3");
    QVERIFY(!bad.value("ok").toBool());
    QCOMPARE(bad.value("offset").toInt(), 14);
    QCOMPARE(bad.value("length").toInt(), 5);  // the word "prize"
    QVERIFY(bad.value("message").toString().startsWith("unknown field 'prize'"));
    QVariantMap syntax = m->checkExpression("where", "price >");
    QVERIFY(!syntax.value("ok").toBool());
    QCOMPARE(syntax.value("offset").toInt(), 7);
    // Map fields check against the map's input too.
    d.selectNode("euros");
    QCOMPARE(m->checkExpression("fields[0].expr", "price * 2").value("type").toString(), QString("int64"));
    // Non-ASCII text: the offset counts characters, not bytes.
    d.selectNode("pricey");
    QVariantMap utf = m->checkExpression("where", "channel = 'é' AND nope");
    QCOMPARE(utf.value("offset").toInt(), 18);
  }

  void expressionBeforeTheInputIsKnown() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(sample_));
    d.addNode("filter", 0, 400);  // not connected: no input schema
    d.selectNode("filter");
    QVariantMap r = d.inspector()->checkExpression("where", "anything > 3");
    QVERIFY(r.value("ok").toBool());  // unknown fields cannot be judged yet
    QVERIFY(!r.value("schemaKnown").toBool());
    QVERIFY(!d.inspector()->checkExpression("where", "anything >").value("ok").toBool());  // syntax can
    // Connected but with its own params wrong, the input schema is still offered.
    QVERIFY(d.connectPorts("bids", "out", "filter", "in").isEmpty());
    QCOMPARE(d.inspector()->fieldNames("where").size(), 5);
    QVERIFY(d.inspector()->checkExpression("where", "price > 3").value("schemaKnown").toBool());
  }

  void completionOffersFieldsFunctionsAndKeywords() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(sample_));
    d.selectNode("pricey");
    InspectorModel* m = d.inspector();
    QVariantMap c = m->completions("where", "price > 3 AND ch", 16);
    QCOMPARE(c.value("start").toInt(), 14);
    QCOMPARE(c.value("prefix").toString(), QString("ch"));
    QVariantList cands = c.value("candidates").toList();
    QVERIFY(!cands.isEmpty());
    QCOMPARE(cands[0].toMap().value("text").toString(), QString("channel"));
    QCOMPARE(cands[0].toMap().value("kind").toString(), QString("field"));
    QCOMPARE(cands[0].toMap().value("detail").toString(), QString("string"));
    QVariantList lo = m->completions("where", "lo", 2).value("candidates").toList();
    QCOMPARE(lo.size(), 1);
    QCOMPARE(lo[0].toMap().value("text").toString(), QString("lower("));
    QVariantList kw = m->completions("where", "price IS NO", 11).value("candidates").toList();
    QCOMPARE(kw[0].toMap().value("text").toString(), QString("NOT"));
    // In the middle of the text, only the word before the cursor counts.
    QCOMPARE(m->completions("where", "pr > 3", 2).value("prefix").toString(), QString("pr"));
    QCOMPARE(m->completions("where", "", 0).value("candidates").toList().size(), 5);  // every field
  }

  void aNodeOfAnUnknownType() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);
    QVERIFY(d.open(sample_));
    d.paste(R"({"weir": 1, "nodes": [{"id": "x", "type": "filterr", "params": {"where": "1"}}]})");
    d.selectNode("x");
    InspectorModel* m = d.inspector();
    QVERIFY(m->active());
    QCOMPARE(m->type(), QString("filterr"));
    QCOMPARE(m->title(), QString("Unknown operator"));
    QCOMPARE(m->rowCount(), 0);
    QCOMPARE(m->otherProblems(), QStringList{"type: unknown operator type 'filterr' (did you mean 'filter'?)"});
    QCOMPARE(d.nodes()->index(4).data(NodeListModel::InputsRole).toStringList(), QStringList());
    QCOMPARE(d.nodes()->index(4).data(NodeListModel::CategoryRole).toString(), QString("unknown"));
  }

  /// An optional object param (a join's window) is marked so its members hide while it is
  /// absent; a required one (a window's window) never hides its members.
  void optionalObjectsHideTheirMembers() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);
    QVERIFY(d.open(sample_));
    d.addNode("join", 100, 400);
    d.addNode("window", 100, 600);
    d.selectNode("join");
    InspectorModel* m = d.inspector();
    QVERIFY(row(m, "window.size_ms").value("parentOptional").toBool());
    QVERIFY(!row(m, "window.size_ms").value("parentSet").toBool());
    QVERIFY(!row(m, "window").value("isRequired").toBool());
    QVERIFY(!row(m, "lower_ms").value("parentOptional").toBool());
    QVERIFY(row(m, "window").value("switchable").toBool());
    d.setParam("join", "window", QVariantMap{{"type", "tumbling"}, {"size_ms", 100}});
    QVERIFY(row(m, "window.size_ms").value("parentSet").toBool());
    d.selectNode("window");
    QVERIFY(!row(m, "window.size_ms").value("parentOptional").toBool());
    QVERIFY(row(m, "window").value("isRequired").toBool());
    QVERIFY(!row(m, "window").value("switchable").toBool());
    // A source's watermark has defaults: its members apply (and show) unwritten.
    d.selectNode("bids");
    QVERIFY(!row(m, "watermark").value("switchable").toBool());
    QVERIFY(!row(m, "watermark.max_out_of_orderness_ms").value("parentOptional").toBool());
  }

  // A window's members that its shape does not use are not offered.
  void paramsOfAnotherWindowShapeDoNotApply() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);
    QVERIFY(d.open(sample_));
    d.addNode("window", 100, 600);
    d.selectNode("window");
    InspectorModel* m = d.inspector();
    // No shape chosen yet: every member applies.
    for (const char* p : {"window.size_ms", "window.slide_ms", "window.gap_ms"})
      QVERIFY2(row(m, p).value("applies").toBool(), p);
    d.setParam("window", "window.type", "tumbling");
    QVERIFY(row(m, "window.size_ms").value("applies").toBool());
    QVERIFY(!row(m, "window.slide_ms").value("applies").toBool());
    QVERIFY(!row(m, "window.gap_ms").value("applies").toBool());
    QVERIFY(row(m, "window.time").value("applies").toBool());
    d.setParam("window", "window.type", "sliding");
    QVERIFY(row(m, "window.slide_ms").value("applies").toBool());
    QVERIFY(!row(m, "window.gap_ms").value("applies").toBool());
    d.setParam("window", "window.type", "session");
    QVERIFY(!row(m, "window.size_ms").value("applies").toBool());
    QVERIFY(row(m, "window.gap_ms").value("applies").toBool());
    QVERIFY(row(m, "allowed_lateness_ms").value("applies").toBool());
  }

  void jobSettingsAreRowsToo() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(sample_));
    InspectorModel* m = d.inspector();
    QVERIFY(m->jobMode());
    QVariantMap checkpoint = row(m, "checkpoint");
    QCOMPARE(checkpoint.value("kind").toString(), QString("object"));
    QVERIFY(!checkpoint.value("isSet").toBool());  // off in the sample
    QVERIFY(!row(m, "checkpoint.interval_ms").value("parentSet").toBool());
    // Turning checkpoints on without an interval is a problem on that row.
    QVERIFY(d.setJobParam("checkpoint", QVariantMap()));
    QVERIFY(row(m, "checkpoint.interval_ms").value("parentSet").toBool());
    QCOMPARE(row(m, "checkpoint.interval_ms").value("error").toString(), QString("missing required field"));
    QCOMPARE(row(m, "checkpoint.mode").value("effectiveText").toString(), QString("exactly_once"));
    QVERIFY(d.setJobParam("checkpoint.interval_ms", 500.0));
    // The fields are right now: the job is valid, checkpointed every 500 ms.
    QVERIFY(d.valid());
    QVERIFY(row(m, "checkpoint.interval_ms").value("error").toString().isEmpty());
    QVERIFY(d.toText().contains(R"("checkpoint": {"interval_ms": 500})"));
    QVERIFY(d.setJobParam("restart.strategy", "fixed_delay"));
    QCOMPARE(row(m, "restart.max_attempts").value("effective").toInt(), 3);
    QVERIFY(!d.setJobParam("restart.nope", 1));  // not a setting
    d.undo();
    d.undo();
    QVERIFY(d.setJobParam("checkpoint", QVariant()));  // off again
    QVERIFY(!d.toText().contains("checkpoint"));
  }

  void highlighterTokens() {
    QVariantList t = ExpressionHighlighter::tokens("lower(name) = 'a''b' AND x > 3.5");
    auto kind = [&](int i) { return t[i].toList()[2].toString(); };
    QCOMPARE(kind(0), QString("function"));
    QCOMPARE(kind(2), QString("field"));
    QCOMPARE(kind(5), QString("string"));
    QCOMPARE(t[5].toList()[1].toInt(), 6);  // 'a''b' is one string
    QCOMPARE(kind(6), QString("keyword"));
    QCOMPARE(kind(9), QString("number"));
    QCOMPARE(ExpressionHighlighter::tokens("lower").at(0).toList()[2].toString(), QString("field"));  // no call
  }
};

QTEST_MAIN(TestAppInspector)
#include "test_app_inspector.moc"
