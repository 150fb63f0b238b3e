// weir-workbench: the Qt Quick workbench (DESIGN.md §2). For now a window that shows a job
// file's graph and its problems; the workbench issue makes it the editor and live view.

#include <QCommandLineParser>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QTimer>

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
  cli.process(app);

  QQmlApplicationEngine engine;
  engine.addImportPath("qrc:/");
  engine.setInitialProperties({{"jobPath", cli.positionalArguments().value(0)}});
  QObject::connect(&engine, &QQmlApplicationEngine::objectCreationFailed, &app,
                   [] { QCoreApplication::exit(1); }, Qt::QueuedConnection);
  engine.load(QUrl("qrc:/Weir/Workbench/qml/Main.qml"));
  if (cli.isSet(screenshot)) {
    const QString file = cli.value(screenshot);
    QTimer::singleShot(800, &app, [&engine, file] {
      auto* window = engine.rootObjects().isEmpty() ? nullptr : qobject_cast<QQuickWindow*>(engine.rootObjects().first());
      const bool saved = window && window->grabWindow().save(file);
      QCoreApplication::exit(saved ? 0 : 1);
    });
  }
  return app.exec();
}
