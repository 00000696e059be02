// SPDX-License-Identifier: MIT
// What the outboxctl commands share: reading input, filters from options, exit codes, signals.

#include "commandutil.h"
#include "cli.h"

#include "configfiles.h"

#include <QFile>
#include <QSocketNotifier>

#include <csignal>
#include <cstdio>
#include <unistd.h>

QByteArray readInput(const QString &path)
{
    QFile file;
    if (path == QLatin1String("-")) {
        if (!file.open(stdin, QIODevice::ReadOnly))
            fail(RuntimeFailure, QStringLiteral("cannot read standard input"));
    } else {
        file.setFileName(path);
        if (!file.open(QIODevice::ReadOnly))
            fail(BadUsage, QStringLiteral("cannot read '%1': %2").arg(path, file.errorString()));
    }
    return file.readAll();
}

QJsonObject parseExtensions(const QStringList &pairs)
{
    QJsonObject extensions;
    for (const QString &pair : pairs) {
        const qsizetype eq = pair.indexOf(QLatin1Char('='));
        if (eq <= 0)
            fail(BadUsage, QStringLiteral("invalid --ext '%1': expected NAME=VALUE").arg(pair));
        extensions.insert(pair.left(eq), pair.mid(eq + 1));
    }
    return extensions;
}

int exitFor(const Error &e)
{
    return e.code() == Error::InvalidArgument || e.code() == Error::DuplicateId || e.code() == Error::NotFound
        ? BadUsage
        : RuntimeFailure;
}

// SIGINT and SIGTERM end a long-running command cleanly: the handler only writes to a pipe that the event loop watches.
static int g_signalPipe[2] = {-1, -1};

static void onSignal(int)
{
    const char c = 1;
    [[maybe_unused]] const auto n = ::write(g_signalPipe[1], &c, 1);
}

void onTermination(QObject *context, const std::function<void()> &handler)
{
    if (g_signalPipe[0] < 0 && ::pipe(g_signalPipe) != 0)
        fail(RuntimeFailure, QStringLiteral("cannot set up signal handling"));
    auto *notifier = new QSocketNotifier(g_signalPipe[0], QSocketNotifier::Read, context);
    QObject::connect(notifier, &QSocketNotifier::activated, context, [handler] {
        char buffer[16];
        [[maybe_unused]] const auto n = ::read(g_signalPipe[0], buffer, sizeof buffer);
        handler();
    });
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
}

EventFilter filterFrom(const Command &cmd)
{
    EventFilter f;
    const QString status = cmd.value(QStringLiteral("status"));
    if (!status.isEmpty() && status != QLatin1String("all")) {
        EventStatus s;
        if (!parseStatus(status, &s))
            fail(BadUsage, QStringLiteral("unknown status '%1': use pending, failed, sent or all").arg(status));
        f.status = s;
    }
    f.type = cmd.value(QStringLiteral("type"));
    f.source = cmd.value(QStringLiteral("source"));
    f.orderingKey = cmd.value(QStringLiteral("key"));
    f.errorContains = cmd.value(QStringLiteral("error"));
    return f;
}

QStringList requireIds(const Command &cmd, const QString &what)
{
    const QStringList ids = cmd.positional();
    if (ids.isEmpty())
        fail(BadUsage, QStringLiteral("%1 needs at least one event id").arg(what));
    return ids;
}

int reportSummary(const ActionSummary &s, const QString &verb, const QString &skipReason)
{
    cli::printLine(QStringLiteral("%1 %2, skipped %3").arg(verb).arg(s.changed).arg(s.skipped));
    if (s.skipped > 0) {
        cli::printError(
            QStringLiteral("%1 of %2 events skipped (%3)").arg(s.skipped).arg(s.changed + s.skipped).arg(skipReason));
        return RuntimeFailure;
    }
    return Done;
}

// The engine's secret-file reader, with its one-line error as a usage error.
QByteArray readSecretFile(const QString &path, const QString &what)
{
    QByteArray content;
    QString error;
    if (!outbox::readSecretFile(path, what, &content, &error))
        fail(BadUsage, error);
    return content;
}
