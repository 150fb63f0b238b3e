// Runs tests/qml/tst_*.qml (QtQuickTest) against the workbench's QML module.
//
// Written out rather than QUICK_TEST_MAIN_WITH_SETUP so that the static QML module's plugin
// is imported, "qrc:/" is an import path, and the tests get a scratch folder with a copy of
// a sample (the singleton TestEnv in module WeirTest).

#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QProcess>
#include <QQmlEngine>
#include <QQuickStyle>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQml/qqml.h>
#include <QtQuickTest/quicktest.h>

Q_IMPORT_QML_PLUGIN(Weir_WorkbenchPlugin)

class TestEnv : public QObject {
  Q_OBJECT
  Q_PROPERTY(QString dir READ dir CONSTANT)
 public:
  QString dir() const { return dir_.path(); }
  /// A fresh copy of samples/bid-stats.weir.json (and its data folder) in the scratch folder.
  Q_INVOKABLE QString freshSample(const QString& name) const {
    const QString to = dir_.filePath(name);
    QFile::remove(to);
    QFile::remove(dir_.filePath("." + name + ".autosave"));
    QFile::copy(QStringLiteral(WEIR_SOURCE_DIR "/samples/bid-stats.weir.json"), to);
    QFile::setPermissions(to, QFile::ReadOwner | QFile::WriteOwner);
    return to;
  }
  /// A fresh copy of samples/`sample` named `name` in the scratch folder.
  Q_INVOKABLE QString freshCopy(const QString& sample, const QString& name) const {
    const QString to = dir_.filePath(name);
    QFile::remove(to);
    QFile::remove(dir_.filePath("." + name + ".autosave"));
    QFile::copy(QStringLiteral(WEIR_SOURCE_DIR "/samples/") + sample, to);
    QFile::setPermissions(to, QFile::ReadOwner | QFile::WriteOwner);
    return to;
  }
  /// The same, with the sample's input (data/bids.csv) beside it, so that it can run.
  Q_INVOKABLE QString freshRunnableSample(const QString& name) const {
    QDir(dir_.path()).mkpath("data");
    QFile::remove(dir_.filePath("data/bids.csv"));
    QFile::copy(QStringLiteral(WEIR_SOURCE_DIR "/samples/data/bids.csv"), dir_.filePath("data/bids.csv"));
    return freshSample(name);
  }
  /// The sorted lines of what `weir run JOB --set NODE.path=OUT` (the in-process runtime) writes.
  Q_INVOKABLE QStringList runInProcess(const QString& job, const QString& node, const QString& out) const {
    QProcess p;
    p.start(QStringLiteral(WEIR_BIN_DIR "/weir"), {"run", job, "--quiet", "--set", node + ".path=" + out});
    if (!p.waitForFinished(60000) || p.exitCode() != 0) return {"weir run failed: " + QString::fromUtf8(p.readAllStandardError())};
    return sortedLines(out);
  }
  Q_INVOKABLE QStringList sortedLines(const QString& path) const {
    QStringList lines = readFile(path).split('\n', Qt::SkipEmptyParts);
    lines.sort();
    return lines;
  }
  Q_INVOKABLE QString readFile(const QString& path) const {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
  }
  Q_INVOKABLE bool exists(const QString& path) const { return QFile::exists(path); }
  /// Writes `text` to `name` in the scratch folder; returns its path.
  Q_INVOKABLE QString writeFile(const QString& name, const QString& text) const {
    const QString to = dir_.filePath(name);
    QFile f(to);
    if (f.open(QIODevice::WriteOnly | QIODevice::Truncate)) f.write(text.toUtf8());
    return to;
  }

 private:
  QTemporaryDir dir_;
};

class Setup : public QObject {
  Q_OBJECT
 public slots:
  void qmlEngineAvailable(QQmlEngine* engine) {
    engine->addImportPath("qrc:/");
    qmlRegisterSingletonInstance("WeirTest", 1, 0, "TestEnv", &env_);
  }

 private:
  TestEnv env_;
};

int main(int argc, char** argv) {
  QGuiApplication app(argc, argv);
  QGuiApplication::setOrganizationName("WeirTest");
  QGuiApplication::setApplicationName("test_app_qml");
  QStandardPaths::setTestModeEnabled(true);
  QQuickStyle::setStyle("Fusion");
  Setup setup;
  return quick_test_main_with_setup(argc, argv, "workbench", QUICK_TEST_SOURCE_DIR, &setup);
}

#include "quicktest_main.moc"
