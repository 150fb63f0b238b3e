// weir-workbench: the Qt Quick workbench (DESIGN.md §2): design jobs on a canvas with the
// engine's validation on every edit. The C++ models are in app/ (library weir_app, QML
// module Weir.Workbench); the UI is qml/Main.qml.
//
//   weir-workbench [JOB] [--screenshot FILE [--screenshot-delay MS]] [--select NODE] [--dark] [--run]
//                  [--tab NAME]
//
// --screenshot renders the window once, saves it as PNG and quits (with
// QT_QPA_PLATFORM=offscreen it needs no display): how docs/images/workbench.png is made.

#include <QCommandLineParser>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QTimer>
#include <QtQml/QQmlExtensionPlugin>

Q_IMPORT_QML_PLUGIN(Weir_WorkbenchPlugin)

int main(int argc, char** argv) {
  QGuiApplication app(argc, argv);
  QGuiApplication::setApplicationName("Weir Workbench");
  QGuiApplication::setOrganizationName("Weir");
  QQuickStyle::setStyle("Fusion");

  QCommandLineParser cli;
  cli.setApplicationDescription("Design, run and watch Weir stream-processing jobs.");
  cli.addHelpOption();
  cli.addPositionalArgument("job", "A *.weir.json job file to open.");
  QCommandLineOption screenshot("screenshot", "Render the window once, save it as PNG to <file>, and quit "
                                "(works with QT_QPA_PLATFORM=offscreen).", "file");
  cli.addOption(screenshot);
  QCommandLineOption select("select", "Select the node <id>, or the edge <from>to>, after opening (for screenshots).", "id");
  cli.addOption(select);
  QCommandLineOption dark("dark", "Use the dark theme.");
  cli.addOption(dark);
  QCommandLineOption run("run", "Run the job on the local cluster at once (as the Run button).");
  cli.addOption(run);
  QCommandLineOption preview("preview", "Preview the job's data at once (as Run › Preview Data).");
  cli.addOption(preview);
  QCommandLineOption tab("tab", "Show the tab <name> under the graph (problems, run, history, data, checkpoints).",
                         "name");
  cli.addOption(tab);
  QCommandLineOption delay("screenshot-delay", "Milliseconds to wait before --screenshot (default 800).", "ms", "800");
  cli.addOption(delay);
  cli.process(app);

  QQmlApplicationEngine engine;
  engine.addImportPath("qrc:/");
  engine.setInitialProperties({{"jobPath", cli.positionalArguments().value(0)},
                               {"screenshotMode", cli.isSet(screenshot)},
                               {"initialSelection", cli.value(select)},
                               {"forceDark", cli.isSet(dark)},
                               {"initialPreview", cli.isSet(preview)},
                               {"initialTab", cli.value(tab)}});
  QObject::connect(&engine, &QQmlApplicationEngine::objectCreationFailed, &app,
                   [] { QCoreApplication::exit(1); }, Qt::QueuedConnection);
  engine.load(QUrl("qrc:/Weir/Workbench/qml/Main.qml"));
  if (cli.isSet(run) && !engine.rootObjects().isEmpty())
    QMetaObject::invokeMethod(engine.rootObjects().first(), "runJob", Qt::QueuedConnection);
  if (cli.isSet(screenshot)) {
    const QString file = cli.value(screenshot);
    QTimer::singleShot(cli.value(delay).toInt(), &app, [&engine, file] {
      auto* window = engine.rootObjects().isEmpty() ? nullptr : qobject_cast<QQuickWindow*>(engine.rootObjects().first());
      const bool saved = window && window->grabWindow().save(file);
      QCoreApplication::exit(saved ? 0 : 1);
    });
  }
  return app.exec();
}
