// SPDX-License-Identifier: MIT
#include "cli.h"

#include <QCoreApplication>

#include <cstdio>

int cmdInit(const QStringList &args);
int cmdEnqueue(const QStringList &args);
int cmdRelay(const QStringList &args);
int cmdList(const QStringList &args);
int cmdShow(const QStringList &args);
int cmdRetry(const QStringList &args);
int cmdReplay(const QStringList &args);
int cmdDelete(const QStringList &args);
int cmdCleanup(const QStringList &args);
int cmdStats(const QStringList &args);
int cmdRelayers(const QStringList &args);
int cmdReceive(const QStringList &args);
int cmdDemo(const QStringList &args);
int cmdRelease(const QStringList &args);
int cmdFailures(const QStringList &args);
int cmdFix(const QStringList &args);

namespace {

const char *const kUsage =
    "usage: outboxctl [--db URL] COMMAND [options]\n"
    "\n"
    "  URL: sqlite:///abs/path.db | sqlite:rel/path.db | postgresql://user:pass@host:port/db\n"
    "       | postgresql://user:pass@host1:port1,host2:port2/db?target_session_attrs=read-write (failover)\n"
    "       | mysql://user:pass@host:port/db (MySQL or MariaDB; also mariadb://)\n"
    "       (also $OUTBOX_DB; default: a SQLite file in the user's data directory)\n"
    "\n"
    "  The outboxes of romancy and edda (their outbox_events table) open too, as they are: every command\n"
    "  but init, enqueue and relay works on them.\n"
    "\n"
    "commands:\n"
    "  init        create or migrate the schema\n"
    "  enqueue     write an event (or --jsonl FILE: many, in one transaction); prints the id\n"
    "  relay       deliver events to --target URL (--once, --drain, or until stopped)\n"
    "  list        list events (--status, --type, --limit, --json)\n"
    "  show ID     one event with its attempts\n"
    "  retry       put failed events back to pending (IDs or --all-failed)\n"
    "  replay      enqueue copies of sent or failed events\n"
    "  fix ID      edit & retry: enqueue a corrected copy of a failed event (--data, --type, ...)\n"
    "  delete      delete events\n"
    "  cleanup     delete old events (--older-than 7d)\n"
    "  release     a romancy/edda outbox: rows left 'processing' back to pending (--older-than 10m)\n"
    "  failures    failed events grouped by type, HTTP status and cause\n"
    "  stats       counts by status (pending split: ready, retrying, parked), blocked keys, relayers\n"
    "  relayers    the relayers running on the outbox and the leases each holds\n"
    "  receive     a local CloudEvents endpoint for testing (--port N)\n"
    "  demo        enqueue a few events and relay them to a local receiver\n"
    "\n"
    "'outboxctl COMMAND --help' describes a command. Exit codes: 0 done, 1 failed at run time, 2 bad usage or input.\n";

} // namespace

// stderr carries outboxctl's own lines, one per event or error. Warnings that Qt and the database drivers
// print on their own (a dropped server connection produces several) are dropped unless OUTBOX_DEBUG is set;
// the engine's logging categories still follow QT_LOGGING_RULES.
void messageFilter(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    static const bool debug = qEnvironmentVariableIsSet("OUTBOX_DEBUG");
    const bool ours = context.category && qstrncmp(context.category, "outbox.", 7) == 0;
    if (!debug && !ours && type != QtFatalMsg)
        return;
    // Text from outside (a receiver's error, a server's message) reaches a terminal: C0 and C1 controls,
    // ESC among them, are shown as U+FFFD, never interpreted.
    QString line = qFormatLogMessage(type, context, message);
    for (QChar &c : line) {
        if (c.category() == QChar::Other_Control && c != QLatin1Char('\t'))
            c = QChar(0xfffd);
    }
    std::fprintf(stderr, "%s\n", line.toUtf8().constData());
}

int main(int argc, char *argv[])
{
    qInstallMessageHandler(messageFilter);
    QCoreApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("outbox-console"));
    QCoreApplication::setApplicationName(QStringLiteral("outbox-console"));
    QCoreApplication::setApplicationVersion(QStringLiteral(OUTBOX_VERSION));

    // The command is the first argument that is neither an option nor the value of --db.
    const QStringList all = app.arguments().mid(1);
    QStringList rest;
    QString command;
    for (qsizetype i = 0; i < all.size(); ++i) {
        const QString &a = all.at(i);
        if (!command.isEmpty()) {
            rest.append(a);
        } else if (a == QLatin1String("--db") || a == QLatin1String("-db")) {
            rest.append(a);
            if (i + 1 < all.size())
                rest.append(all.at(++i));
        } else if (a == QLatin1String("--version") || a == QLatin1String("-V")) {
            std::printf("outboxctl %s\n", OUTBOX_VERSION);
            return cli::Done;
        } else if (a == QLatin1String("--help") || a == QLatin1String("-h") || a == QLatin1String("help")) {
            std::fputs(kUsage, stdout);
            return cli::Done;
        } else if (a.startsWith(QLatin1Char('-'))) {
            rest.append(a);
        } else {
            command = a;
        }
    }
    if (command.isEmpty()) {
        std::fputs(kUsage, stderr);
        return cli::BadUsage;
    }

    using Handler = int (*)(const QStringList &);
    const QList<std::pair<const char *, Handler>> commands = {
        {"init", cmdInit},
        {"enqueue", cmdEnqueue},
        {"relay", cmdRelay},
        {"list", cmdList},
        {"show", cmdShow},
        {"retry", cmdRetry},
        {"replay", cmdReplay},
        {"fix", cmdFix},
        {"delete", cmdDelete},
        {"cleanup", cmdCleanup},
        {"release", cmdRelease},
        {"stats", cmdStats},
        {"relayers", cmdRelayers},
        {"failures", cmdFailures},
        {"receive", cmdReceive},
        {"demo", cmdDemo},
    };
    for (const auto &[name, handler] : commands) {
        if (command == QLatin1String(name)) {
            try {
                return handler(rest);
            } catch (const cli::Exit &exit) {
                if (!exit.message.isEmpty())
                    cli::printError(exit.message);
                return exit.code;
            }
        }
    }
    cli::printError(QStringLiteral("unknown command '%1' (see 'outboxctl --help')").arg(command));
    return cli::BadUsage;
}
