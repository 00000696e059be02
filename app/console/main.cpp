// outbox-console: the operator console. Everything but main() lives in ui/.
#include "mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("outbox-console"));
    QApplication::setApplicationName(QStringLiteral("outbox-console"));
    QApplication::setApplicationDisplayName(QStringLiteral("Outbox Console"));
    QApplication::setApplicationVersion(QStringLiteral(OUTBOX_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("outbox-console"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/outbox-console.svg")));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("The operator console of a transactional outbox."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("FILE_OR_URL"),
                                 QStringLiteral("An outbox: a SQLite file, sqlite:///path or postgresql://user@host/db. "
                                                "Without one, the demo outbox opens."));
    parser.process(app);

    outbox::ui::MainWindow window;
    window.show();
    const QStringList args = parser.positionalArguments();
    if (args.isEmpty())
        window.openDemo();
    else
        window.openLocation(args.first());
    return app.exec();
}
