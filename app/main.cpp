// weir-workbench: the Qt Quick workbench (DESIGN.md §2). For now a window that shows a job
// file's graph and its problems; the workbench issue makes it the editor and live view.

#include <QCommandLineParser>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQuickStyle>

int main(int argc, char** argv) {
  QGuiApplication app(argc, argv);
  QGuiApplication::setApplicationName("Weir Workbench");
  QGuiApplication::setOrganizationName("Weir");
  QQuickStyle::setStyle("Fusion");

  QCommandLineParser cli;
  cli.setApplicationDescription("Design, run and watch Weir stream-processing jobs.");
  cli.addHelpOption();
  cli.addPositionalArgument("job", "A *.weir.json job file to open.");
  cli.process(app);

  QQmlApplicationEngine engine;
  engine.addImportPath("qrc:/");
  engine.setInitialProperties({{"jobPath", cli.positionalArguments().value(0)}});
  QObject::connect(&engine, &QQmlApplicationEngine::objectCreationFailed, &app,
                   [] { QCoreApplication::exit(1); }, Qt::QueuedConnection);
  engine.load(QUrl("qrc:/Weir/Workbench/qml/Main.qml"));
  return app.exec();
}
