// SPDX-License-Identifier: MIT
// outbox-console: the operator console. Everything but main() lives in ui/.
#include "eventbrowser.h"
#include "mainwindow.h"
#include "session.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QAction>
#include <QPalette>
#include <QStatusBar>
#include <QStyleFactory>
#include <QTableView>
#include <QTimer>

#include "eventmodel.h"

namespace {
const QCommandLineOption screenshot(QStringLiteral("screenshot"),
    QStringLiteral("Save a picture of the window to FILE once the outbox is shown, then quit "
                   "(packaging/screenshots.sh uses it)."),
    QStringLiteral("FILE"));
const QCommandLineOption event(QStringLiteral("event"),
    QStringLiteral("Find the event with this id once the outbox is open, and show it (Events > Copy link gives "
                   "such a command line)."),
    QStringLiteral("ID"));
const QCommandLineOption dark(QStringLiteral("dark"),
    QStringLiteral("Dark colours, whatever the desktop's theme (Qt's Fusion style with a dark palette)."));
const QCommandLineOption readOnly(QStringLiteral("read-only"),
    QStringLiteral("Open read-only: no action of the console changes the outbox (no retry, replay, delete, "
                   "cleanup, enqueue or relaying)."));

void describe(QCommandLineParser &parser)
{
    QCoreApplication::setOrganizationName(QStringLiteral("outbox-console"));
    QCoreApplication::setApplicationName(QStringLiteral("outbox-console"));
    QCoreApplication::setApplicationVersion(QStringLiteral(OUTBOX_VERSION));
    parser.setApplicationDescription(QStringLiteral("The operator console of a transactional outbox."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("FILE_OR_URL"),
        QStringLiteral("An outbox: a SQLite file, sqlite:///path or postgresql://user@host/db. "
                       "Without one, the demo outbox opens."));
    parser.addOption(screenshot);
    parser.addOption(readOnly);
    parser.addOption(dark);
    parser.addOption(event);
}
} // namespace

int main(int argc, char *argv[])
{
    // --help and --version need no display (the man page is made from --help at build time).
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg == "-h" || arg == "--help" || arg == "--help-all" || arg == "-v" || arg == "--version") {
            QCoreApplication app(argc, argv);
            QCommandLineParser parser;
            describe(parser);
            parser.process(app);
            return 0;
        }
    }
    QApplication app(argc, argv);
    QCommandLineParser parser;
    describe(parser);
    QApplication::setApplicationDisplayName(QStringLiteral("Outbox Console"));
    QApplication::setDesktopFileName(QStringLiteral("dev.outboxconsole.OutboxConsole"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/dev.outboxconsole.OutboxConsole.svg")));
    parser.process(app);
    if (parser.isSet(dark)) {
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QPalette p;
        const QColor window(0x2b, 0x2b, 0x2b), base(0x1e, 0x1e, 0x1e), text(0xe6, 0xe6, 0xe6);
        p.setColor(QPalette::Window, window);
        p.setColor(QPalette::WindowText, text);
        p.setColor(QPalette::Base, base);
        p.setColor(QPalette::AlternateBase, window);
        p.setColor(QPalette::Text, text);
        p.setColor(QPalette::Button, window);
        p.setColor(QPalette::ButtonText, text);
        p.setColor(QPalette::ToolTipBase, base);
        p.setColor(QPalette::ToolTipText, text);
        p.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9a, 0x9a));
        p.setColor(QPalette::Highlight, QColor(0x35, 0x84, 0xe4));
        p.setColor(QPalette::HighlightedText, Qt::white);
        p.setColor(QPalette::Link, QColor(0x8c, 0xb8, 0xf0));
        p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x80, 0x80, 0x80));
        p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x80, 0x80, 0x80));
        p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x80, 0x80, 0x80));
        QApplication::setPalette(p);
    }

    outbox::ui::MainWindow window;
    window.setReadOnly(parser.isSet(readOnly));
    if (parser.isSet(event))
        window.showEventOnOpen(parser.value(event).trimmed());
    window.show();
    if (parser.isSet(screenshot)) {
        // Once the rows are in: select the newest failed event, so the detail pane shows one, and save the window.
        const QString file = parser.value(screenshot);
        QObject::connect(
            &window, &outbox::ui::MainWindow::outboxOpened, &window, [&window, file](const QString &error) {
                if (!error.isEmpty())
                    QCoreApplication::exit(1);
                // Relay one batch to the local receiver first, so every panel has something to show.
                // (Not for a foreign outbox: its own relayer sends its events.)
                if (window.session()->formatName().isEmpty())
                    QTimer::singleShot(
                        1000, &window, [&window] { window.action(QStringLiteral("relayOnce"))->trigger(); });
                QTimer::singleShot(3000, &window, [&window, file] {
                    auto *model = window.eventBrowser()->model();
                    int pick = 0;
                    for (int row = 0; row < model->rowCount(); ++row) {
                        if (const auto *e = model->eventAt(row);
                            e && e->attempts > 0 && e->status != outbox::EventStatus::Sent) {
                            pick = row;
                            break;
                        }
                    }
                    window.eventBrowser()->table()->selectRow(pick);
                    QTimer::singleShot(1000, &window, [&window, file] {
                        window.statusBar()->clearMessage(); // it names the (throwaway) file
                        const bool saved = window.grab().save(file);
                        QCoreApplication::exit(saved ? 0 : 1);
                    });
                });
            });
    }
    const QStringList args = parser.positionalArguments();
    if (args.isEmpty())
        window.openDemo();
    else
        window.openLocation(args.first());
    return app.exec();
}
