// The workbench's files (app/job_document.h): open, save, save-as and reopen round trips with
// positions kept in `ui`, the dirty flag, recent files, the autosave side file and its
// recovery offer, and the prompt when another program changes the open file.

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "core/job.h"
#include "job_document.h"

namespace {

QString read(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

bool write(const QString& path, const QString& text) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
  return f.write(text.toUtf8()) == text.toUtf8().size();
}

}  // namespace

class TestAppFiles : public QObject {
  Q_OBJECT
  std::unique_ptr<QTemporaryDir> dir_;
  QString sample_;

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("WeirTest");
    QCoreApplication::setApplicationName("test_app_files");
  }

  void init() {
    dir_ = std::make_unique<QTemporaryDir>();
    sample_ = dir_->filePath("bid-stats.weir.json");
    QVERIFY(QFile::copy(QStringLiteral(WEIR_SOURCE_DIR "/samples/bid-stats.weir.json"), sample_));
    QFile::setPermissions(sample_, QFile::ReadOwner | QFile::WriteOwner);
    JobDocument().clearRecentFiles();
  }

  void savingAnUntouchedJobKeepsTheFile() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(sample_));
    QVERIFY(d.saveAs(dir_->filePath("copy.weir.json")));
    // The same job (the engine's writer may lay the text out differently from a hand).
    weir::Diagnostics diags;
    auto a = weir::loadJobFile(sample_.toStdString(), diags);
    auto b = weir::loadJobFile(dir_->filePath("copy.weir.json").toStdString(), diags);
    QVERIFY(a && b);
    QVERIFY(weir::jobToJson(*a) == weir::jobToJson(*b));
    QCOMPARE(d.path(), dir_->filePath("copy.weir.json"));
    QCOMPARE(d.fileName(), QString("copy.weir.json"));
  }

  void saveAndReopenRoundTrip() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(sample_));
    QSignalSpy dirty(&d, &JobDocument::dirtyChanged);
    d.addNode("sink.discard", 500, 300);
    QVERIFY(d.connectPorts("pricey", "out", "sink_discard", "in").isEmpty());
    d.setParam("pricey", "where", "price > 5000");
    d.moveNodes({"bids"}, 3, 4);
    d.setName("bid-stats-2");
    QVERIFY(d.dirty());
    QVERIFY(dirty.count() > 0);
    QVERIFY(d.save());
    QVERIFY(!d.dirty());
    QVERIFY(!QFile::exists(d.autosavePath()));
    const QString saved = d.toText();

    JobDocument again;

    again.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(again.open(sample_));
    QCOMPARE(again.toText(), saved);
    QCOMPARE(again.name(), QString("bid-stats-2"));
    QCOMPARE(again.nodeRect("bids").topLeft(), QPointF(43, 84));
    QCOMPARE(again.nodeRect("sink_discard").topLeft(), QPointF(500, 300));
    QCOMPARE(again.paramValue("pricey", "where").toString(), QString("price > 5000"));
    QCOMPARE(again.edges()->rowCount(), 4);
    QVERIFY(again.valid());
    // The saved text is a job file the engine reads the same.
    weir::Diagnostics diags;
    QVERIFY(weir::parseJob(read(sample_).toStdString(), "x", diags).has_value());
    // Undo back to the saved state is clean again; one more step is dirty.
    d.undo();
    QVERIFY(d.dirty());
    d.redo();
    QVERIFY(!d.dirty());
  }

  void nodesWithoutPositionsAreLaidOut() {
    const QString path = dir_->filePath("nopos.weir.json");
    QVERIFY(write(path, R"({"weir": 1, "name": "n", "nodes": [
      {"id": "g", "type": "source.generator", "params": {"table": "bid"}},
      {"id": "s", "type": "sink.discard"}], "edges": [{"from": "g", "to": "s"}]})"));
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(path));
    QVERIFY(!d.dirty());
    QVERIFY(d.nodeRect("s").left() > d.nodeRect("g").right());
    QVERIFY(d.save());
    QVERIFY(read(path).contains(R"("ui": {"x": 40, "y": 40})"));
  }

  void newJobAndSaveAs() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    d.newJob();
    QCOMPARE(d.path(), QString());
    QCOMPARE(d.name(), QString("untitled"));
    QVERIFY(!d.save());  // no path yet
    QVERIFY(!d.lastError().isEmpty());
    d.addNode("source.generator", 40, 40);
    d.setParam("source_generator", "table", "bid");
    d.addNode("sink.stdout", 300, 40);
    QVERIFY(d.connectPorts("source_generator", "out", "sink_stdout", "in").isEmpty());
    QVERIFY(d.valid());
    QVERIFY(d.saveAs(QUrl::fromLocalFile(dir_->filePath("fresh")).toString()));  // a file: URL, no suffix
    QCOMPARE(d.path(), dir_->filePath("fresh.weir.json"));
    JobDocument again;
    again.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(again.open(dir_->filePath("fresh.weir.json")));
    QVERIFY(again.valid());
    QCOMPARE(again.nodes()->rowCount(), 2);
  }

  void openFailuresLeaveTheDocumentAlone() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(sample_));
    QVERIFY(!d.open(dir_->filePath("missing.weir.json")));
    QVERIFY(d.lastError().startsWith("Cannot read"));
    const QString broken = dir_->filePath("broken.weir.json");
    QVERIFY(write(broken, "{\"weir\": 1,\n  \"nodes\": [}"));
    QVERIFY(!d.open(broken));
    QVERIFY2(d.lastError().contains("broken.weir.json:2:"), qPrintable(d.lastError()));
    QCOMPARE(d.path(), sample_);
    QCOMPARE(d.nodes()->rowCount(), 4);
  }

  void recentFiles() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.recentFiles().isEmpty());
    QSignalSpy changed(&d, &JobDocument::recentFilesChanged);
    QVERIFY(d.open(sample_));
    QVERIFY(d.saveAs(dir_->filePath("other.weir.json")));
    QCOMPARE(d.recentFiles(), (QStringList{dir_->filePath("other.weir.json"), sample_}));
    QVERIFY(d.open(sample_));
    QCOMPARE(d.recentFiles().first(), sample_);
    QCOMPARE(d.recentFiles().size(), 2);
    QVERIFY(changed.count() >= 3);
    JobDocument other;  // kept in QSettings
    QCOMPARE(other.recentFiles(), d.recentFiles());
  }

  void autosaveAndRecovery() {
    QString autosave;
    {
      JobDocument d;
      d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
      QVERIFY(d.open(sample_));
      d.setAutosaveDelay(10);
      autosave = d.autosavePath();
      QCOMPARE(autosave, dir_->filePath(".bid-stats.weir.json.autosave"));
      d.setParam("pricey", "where", "price > 1");
      QTRY_VERIFY(QFile::exists(autosave));  // the timer wrote it
      QVERIFY(read(autosave).contains("price > 1"));
      d.setParam("pricey", "where", "price > 2");
      // "Crash": the document goes away with unsaved edits; the autosave stays.
    }
    QVERIFY(QFile::exists(autosave));
    QVERIFY(read(autosave).contains("price > 2"));

    JobDocument d;

    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(sample_));
    QVERIFY(d.recoveryAvailable());
    QVERIFY(!d.dirty());
    QVERIFY(d.recover());
    QVERIFY(!d.recoveryAvailable());
    QVERIFY(d.dirty());
    QCOMPARE(d.paramValue("pricey", "where").toString(), QString("price > 2"));
    QCOMPARE(d.path(), sample_);
    QVERIFY(d.save());
    QVERIFY(!QFile::exists(autosave));
    QVERIFY(read(sample_).contains("price > 2"));

    // Declining the offer removes the autosave.
    QVERIFY(write(autosave, read(sample_).replace("price > 2", "price > 3")));
    JobDocument e;
    e.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(e.open(sample_));
    QVERIFY(e.recoveryAvailable());
    e.discardRecovery();
    QVERIFY(!QFile::exists(autosave));
    QCOMPARE(e.paramValue("pricey", "where").toString(), QString("price > 2"));
  }

  // Edits thrown away (the unsaved-changes question's Discard, then quit) leave no autosave
  // behind, so the next opening offers no recovery; an edit after the discard is kept again.
  void discardedEditsAreNotRecovered() {
    QString autosave;
    {
      JobDocument d;
      d.setValidationMode(JobDocument::Synchronous);
      QVERIFY(d.open(sample_));
      autosave = d.autosavePath();
      d.setParam("pricey", "where", "price > 5");
      QVERIFY(d.autosaveNow());
      QVERIFY(QFile::exists(autosave));
      d.discardChanges();
      QVERIFY(!QFile::exists(autosave));
      QVERIFY(d.dirty());  // the window closes next; the document still holds the edit
    }
    QVERIFY(!QFile::exists(autosave));
    {
      JobDocument d;
      d.setValidationMode(JobDocument::Synchronous);
      QVERIFY(d.open(sample_));
      QVERIFY(!d.recoveryAvailable());
      d.discardChanges();
      d.setParam("pricey", "where", "price > 6");  // a new edit after a discard is kept
    }
    QVERIFY(QFile::exists(autosave));
    QVERIFY(read(autosave).contains("price > 6"));
    QFile::remove(autosave);
  }

  void changedOnDiskIsNoticed() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVERIFY(d.open(sample_));
    QSignalSpy changed(&d, &JobDocument::changedOnDiskChanged);
    // Our own save is not a change.
    d.setParam("pricey", "where", "price > 7");
    QVERIFY(d.save());
    QTest::qWait(200);
    QVERIFY(!d.changedOnDisk());
    // Another program's is.
    QVERIFY(write(sample_, read(sample_).replace("price > 7", "price > 8")));
    QTRY_VERIFY(d.changedOnDisk());
    QCOMPARE(d.paramValue("pricey", "where").toString(), QString("price > 7"));
    QVERIFY(d.reload());
    QVERIFY(!d.changedOnDisk());
    QCOMPARE(d.paramValue("pricey", "where").toString(), QString("price > 8"));
    // Keeping one's own version makes the document dirty.
    QVERIFY(write(sample_, read(sample_).replace("price > 8", "price > 9")));
    QTRY_VERIFY(d.changedOnDisk());
    d.ignoreDiskChange();
    QVERIFY(!d.changedOnDisk());
    QVERIFY(d.dirty());
    QVERIFY(d.save());
    QVERIFY(read(sample_).contains("price > 8"));
  }

  void samplesGallery() {
    JobDocument d;
    d.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
    QVariantList samples = d.samples();
    QVERIFY(samples.size() >= 2);
    QStringList names;
    for (const QVariant& s : samples) names << s.toMap().value("name").toString();
    QVERIFY(names.contains("bid-stats"));
    QVERIFY(names.contains("nexmark-q1"));
    for (const QVariant& s : samples) {
      JobDocument one;
      one.setValidationMode(JobDocument::Synchronous);  // checks follow edits at once
      QVERIFY(one.open(s.toMap().value("path").toString()));
      QVERIFY2(one.valid(), qPrintable(one.problemTexts().join("\n")));
      one.undo();  // nothing to undo: no change, no autosave
    }
  }
};

QTEST_MAIN(TestAppFiles)
#include "test_app_files.moc"
