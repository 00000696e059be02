// SPDX-License-Identifier: MIT
// The outboxctl commands. Each takes the arguments after its name and returns the exit code, or leaves
// through cli::fail() with one line for stderr.

#include "cli.h"
#include "demo.h"
#include "jsonl.h"

#include "cloudevents.h"
#include "metricsserver.h"
#include "duration.h"
#include "receiver.h"
#include "relayer.h"
#include "sendevent.h"
#include "configfiles.h"

#include <QLoggingCategory>
#include <QCoreApplication>
#include <QEventLoop>
#include <QTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSocketNotifier>
#include <QSqlError>
#include <QTextStream>

#include <csignal>
#include <cstdio>
#include <unistd.h>

using namespace outbox;
using cli::BadUsage;
using cli::Command;
using cli::Done;
using cli::fail;
using cli::RuntimeFailure;

namespace {

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
int g_signalPipe[2] = {-1, -1};

void onSignal(int)
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

} // namespace

int cmdInit(const QStringList &args)
{
    Command cmd(QStringLiteral("init"), QStringLiteral("Create or migrate the outbox schema."));
    cmd.parse(args);
    cmd.refuseArguments();
    auto storage = cmd.openStorage(Storage::OpenMode::CreateIfMissing);
    // One arg() call: a '%2F' in the URL is not a place marker.
    cli::printLine(QStringLiteral("outbox ready at %1 (schema version %2)")
                       .arg(storage->spec().displayUrl(), QString::number(Storage::schemaVersion())));
    return Done;
}

// enqueue may start a new outbox file, but never adds tables to an existing database that is not an outbox
// (only init does that).
Storage::OpenMode enqueueOpenMode(const Command &cmd)
{
    const ConnectionSpec spec = cmd.connectionSpec();
    return spec.backend == ConnectionSpec::Backend::Sqlite && !QFileInfo::exists(spec.database)
        ? Storage::OpenMode::CreateIfMissing
        : Storage::OpenMode::MustExist;
}

int cmdEnqueue(const QStringList &args)
{
    Command cmd(QStringLiteral("enqueue"), QStringLiteral("Write an event into the outbox; prints its id."));
    cmd.addOption(QStringLiteral("type"), QStringLiteral("CloudEvents type."), QStringLiteral("type"));
    cmd.addOption(QStringLiteral("source"), QStringLiteral("CloudEvents source."), QStringLiteral("source"));
    cmd.addOption(QStringLiteral("data"), QStringLiteral("The data, as JSON unless --content-type says otherwise."),
        QStringLiteral("json"));
    cmd.addOption(QStringLiteral("data-file"),
        QStringLiteral("Read the data from a file ('-': standard input), byte for byte."), QStringLiteral("file"));
    cmd.addOption(QStringLiteral("id"), QStringLiteral("Event id (default: a new UUID)."), QStringLiteral("id"));
    cmd.addOption(QStringLiteral("content-type"),
        QStringLiteral("Content type of the data (default: application/json)."), QStringLiteral("type"));
    cmd.addOption(QStringLiteral("subject"), QStringLiteral("CloudEvents subject."), QStringLiteral("subject"));
    cmd.addOption(QStringLiteral("key"),
        QStringLiteral("Ordering key: events with the same key are delivered in order."), QStringLiteral("key"));
    cmd.addOption(
        QStringLiteral("ext"), QStringLiteral("Extension attribute (repeatable)."), QStringLiteral("name=value"));
    cmd.addOption(QStringLiteral("jsonl"),
        QStringLiteral("Enqueue one event per line of this file ('-': standard input), in one transaction."),
        QStringLiteral("file"));
    cmd.parse(args);
    if (!cmd.positional().isEmpty())
        fail(BadUsage, QStringLiteral("unexpected argument '%1'").arg(cmd.positional().first()));

    if (cmd.isSet(QStringLiteral("jsonl"))) {
        for (const char *single :
            {"type", "source", "data", "data-file", "id", "content-type", "subject", "key", "ext"}) {
            if (cmd.isSet(QLatin1String(single)))
                fail(BadUsage,
                    QStringLiteral("--jsonl takes every attribute from the file; --%1 cannot be combined with it")
                        .arg(QLatin1String(single)));
        }
        // Read a line at a time: a file of any size is enqueued in one transaction with flat memory.
        QFile input;
        const QString path = cmd.value(QStringLiteral("jsonl"));
        if (path == QLatin1String("-") ? !input.open(stdin, QIODevice::ReadOnly)
                                       : (input.setFileName(path), !input.open(QIODevice::ReadOnly)))
            fail(path == QLatin1String("-") ? RuntimeFailure : BadUsage,
                QStringLiteral("cannot read '%1': %2").arg(path, input.errorString()));
        auto storage = cmd.openStorage(enqueueOpenMode(cmd));
        QSqlDatabase db = storage->database();
        if (Error e = Storage::beginWrite(db))
            fail(RuntimeFailure, e.message());
        int count = 0;
        int lineNumber = 0;
        for (;;) {
            const QByteArray raw = input.readLine(); // blocks on a pipe; empty only at the end
            if (raw.isEmpty())
                break;
            ++lineNumber;
            const QByteArray line = raw.trimmed();
            if (line.isEmpty())
                continue;
            const Result<JsonlEvent> parsed = parseJsonLine(line);
            Result<QString> id = parsed.isOk() ? sendEventTransactional(db, parsed.value().type, parsed.value().source,
                                     parsed.value().data, parsed.value().options)
                                               : Result<QString>(parsed.error());
            if (!id.isOk()) {
                db.rollback();
                fail(exitFor(id.error()),
                    QStringLiteral("line %1: %2; nothing was enqueued").arg(lineNumber).arg(id.error().message()));
            }
            ++count;
        }
        if (!db.commit())
            fail(RuntimeFailure, QStringLiteral("cannot commit: %1").arg(db.lastError().text()));
        cli::printLine(QString::number(count));
        return Done;
    }

    if (!cmd.isSet(QStringLiteral("type")) || !cmd.isSet(QStringLiteral("source")))
        fail(BadUsage, QStringLiteral("enqueue needs --type and --source (or --jsonl)"));
    if (cmd.isSet(QStringLiteral("data")) && cmd.isSet(QStringLiteral("data-file")))
        fail(BadUsage, QStringLiteral("give --data or --data-file, not both"));
    SendEventOptions options;
    options.eventId = cmd.isSet(QStringLiteral("id")) ? cmd.value(QStringLiteral("id")) : QString();
    options.contentType = cmd.value(QStringLiteral("content-type"));
    options.subject = cmd.value(QStringLiteral("subject"));
    options.orderingKey = cmd.value(QStringLiteral("key"));
    options.extensions = parseExtensions(cmd.values(QStringLiteral("ext")));
    const QByteArray data = cmd.isSet(QStringLiteral("data-file")) ? readInput(cmd.value(QStringLiteral("data-file")))
                                                                   : cmd.value(QStringLiteral("data")).toUtf8();
    auto storage = cmd.openStorage(enqueueOpenMode(cmd));
    QSqlDatabase db = storage->database();
    auto id = sendEventTransactional(
        db, cmd.value(QStringLiteral("type")), cmd.value(QStringLiteral("source")), data, options);
    if (!id.isOk())
        fail(exitFor(id.error()), id.error().message());
    cli::printLine(*id);
    return Done;
}

// The engine's secret-file and header readers, with their one-line errors as usage errors.
QByteArray readSecretFile(const QString &path, const QString &what)
{
    QByteArray content;
    QString error;
    if (!outbox::readSecretFile(path, what, &content, &error))
        fail(BadUsage, error);
    return content;
}

std::pair<QByteArray, QByteArray> parseHeaderLine(const QByteArray &line, const QString &where)
{
    std::pair<QByteArray, QByteArray> header;
    if (!outbox::parseHeaderLine(line, &header))
        fail(BadUsage, QStringLiteral("%1: expected a header as \"Name: value\"").arg(where));
    return header;
}

// Opens the outbox, waiting with backoff (0.5 s doubling to 30 s, one line per try) while the server cannot
// be reached; any other problem (no outbox there, a wrong password) ends the command at once. False when a
// SIGTERM or SIGINT came first.
bool waitForDatabase(const ConnectionSpec &spec)
{
    int delayMs = 500;
    QObject waiter;
    QEventLoop loop;
    bool stopped = false;
    onTermination(&waiter, [&] {
        stopped = true;
        loop.quit();
    });
    for (;;) {
        auto storage = Storage::open(spec, Storage::OpenMode::MustExist);
        if (storage.isOk())
            return true;
        const QString message = storage.error().message();
        if (storage.error().code() != Error::Database || message.contains(QLatin1String("password"))
            || message.contains(QLatin1String("does not exist")))
            fail(exitFor(storage.error()), message);
        cli::printError(QStringLiteral("waiting for the database: %1 (next try in %2 s)")
                            .arg(message.section(QLatin1Char('\n'), 0, 0))
                            .arg(delayMs / 1000.0));
        QTimer::singleShot(delayMs, &loop, &QEventLoop::quit);
        loop.exec();
        if (stopped)
            return false;
        delayMs = qMin(delayMs * 2, 30000);
    }
}

int cmdRelay(const QStringList &args)
{
    Command cmd(QStringLiteral("relay"), QStringLiteral("Deliver pending events to a CloudEvents endpoint."));
    cmd.addOption(QStringLiteral("target"), QStringLiteral("The CloudEvents endpoint (http:// or https://)."),
        QStringLiteral("url"));
    cmd.addOption(QStringLiteral("once"), QStringLiteral("Process one batch, then exit."));
    cmd.addOption(QStringLiteral("drain"), QStringLiteral("Process batches until nothing is due, then exit."));
    cmd.addOption(QStringLiteral("until-settled"),
        QStringLiteral("Like --drain, but wait for events backing off to come due and try them again, until every "
                       "event is sent or failed (or parked behind a failed one); then exit."));
    cmd.addOption(QStringLiteral("mode"), QStringLiteral("Content mode: binary (default), structured or batch."),
        QStringLiteral("mode"));
    cmd.addOption(QStringLiteral("batch-size"), QStringLiteral("Events per batch (default 100)."), QStringLiteral("n"));
    cmd.addOption(QStringLiteral("poll-interval"),
        QStringLiteral("Milliseconds between polls when idle (default 1000)."), QStringLiteral("ms"));
    cmd.addOption(QStringLiteral("max-retries"), QStringLiteral("Delivery attempts before an event fails (default 5)."),
        QStringLiteral("n"));
    cmd.addOption(QStringLiteral("max-backoff"),
        QStringLiteral("Longest idle wait between polls in ms (default 30000)."), QStringLiteral("ms"));
    cmd.addOption(QStringLiteral("retry-backoff"),
        QStringLiteral("Delay before the first retry in ms, doubling per attempt (default 2000)."),
        QStringLiteral("ms"));
    cmd.addOption(QStringLiteral("max-retry-backoff"), QStringLiteral("Cap of the retry delay in ms (default 600000)."),
        QStringLiteral("ms"));
    cmd.addOption(
        QStringLiteral("timeout"), QStringLiteral("Request timeout in ms (default 10000)."), QStringLiteral("ms"));
    cmd.addOption(QStringLiteral("ca-file"),
        QStringLiteral("https: also trust the CA certificates in this PEM file (certificates are always verified)."),
        QStringLiteral("file"));
    cmd.addOption(QStringLiteral("client-cert"),
        QStringLiteral("https: present this PEM client certificate (mTLS); needs --client-key."),
        QStringLiteral("file"));
    cmd.addOption(QStringLiteral("client-key"),
        QStringLiteral("The PEM private key of --client-cert (not readable by other users)."), QStringLiteral("file"));
    cmd.addOption(QStringLiteral("header"),
        QStringLiteral("Add this header to every request, e.g. \"Authorization: Bearer ...\" (repeatable; values are "
                       "never printed)."),
        QStringLiteral("name: value"));
    cmd.addOption(QStringLiteral("header-file"),
        QStringLiteral("Add the headers in this file, one \"Name: value\" per line (for secrets: kept out of ps and "
                       "shell history; "
                       "must not be readable by other users)."),
        QStringLiteral("file"));
    cmd.addOption(QStringLiteral("signing-secret-file"),
        QStringLiteral("Sign every request per Standard Webhooks with the whsec_ secret in this file (webhook-id, "
                       "webhook-timestamp, webhook-signature; must not be readable by other users)."),
        QStringLiteral("file"));
    cmd.addOption(QStringLiteral("routes"),
        QStringLiteral(
            "Send events to targets by type, from this file of [route NAME] sections (types, target, mode, "
            "concurrency, header, header-file, signing-secret-file); first match wins. --target, if given, is "
            "the default route after them."),
        QStringLiteral("file"));
    cmd.addOption(QStringLiteral("max-batch-bytes"),
        QStringLiteral("batch mode: the largest request body in bytes (default 1048576, nginx's default limit); "
                       "a batch answered 413 is split."),
        QStringLiteral("n"));
    cmd.addOption(QStringLiteral("concurrency"),
        QStringLiteral("Requests in flight, each on a connection of its own (default 6)."), QStringLiteral("n"));
    cmd.addOption(QStringLiteral("lease"),
        QStringLiteral("How long a claim holds an event, in ms (default 15000); renewed every third of it while the "
                       "event is in hand."),
        QStringLiteral("ms"));
    cmd.addOption(QStringLiteral("no-wake"),
        QStringLiteral("Poll only: do not wake on commits of other processes (for comparison)."));
    cmd.addOption(QStringLiteral("quiet"),
        QStringLiteral("Do not log each delivery on stderr (the default with --once and --drain)."));
    cmd.addOption(
        QStringLiteral("verbose"), QStringLiteral("Log each delivery on stderr, also with --once and --drain."));
    cmd.addOption(QStringLiteral("log-level"),
        QStringLiteral(
            "What to log on stderr, one line each: error (failed events, relayer errors), warning (+ retries), "
            "info (+ every delivery; the default), debug (+ the engine's own logging)."),
        QStringLiteral("level"));
    cmd.addOption(QStringLiteral("metrics-port"),
        QStringLiteral("Serve Prometheus /metrics and /healthz on this loopback port (0: any free port, printed)."),
        QStringLiteral("n"));
    cmd.addOption(QStringLiteral("metrics-bind"), QStringLiteral("Address for the metrics server (default 127.0.0.1)."),
        QStringLiteral("address"));
    cmd.addOption(QStringLiteral("config"),
        QStringLiteral("Read settings from this file (name = value, e.g. target = http://...); "
                       "flags win over OUTBOX_* environment variables, which win over the file."),
        QStringLiteral("file"));
    cmd.parse(args);
    cmd.loadConfig();
    if (!cmd.positional().isEmpty())
        fail(BadUsage, QStringLiteral("unexpected argument '%1'").arg(cmd.positional().first()));

    RelayerConfig config;
    const QString target = cmd.setting(QStringLiteral("target"));
    const QString routesFile = cmd.setting(QStringLiteral("routes"));
    if (target.isEmpty() && routesFile.isEmpty())
        fail(BadUsage,
            QStringLiteral(
                "relay needs --target URL or --routes FILE (or OUTBOX_TARGET, or target = URL in --config)"));
    if (!target.isEmpty()) {
        config.targetUrl = QUrl(target, QUrl::StrictMode);
        if (!config.targetUrl.isValid() || config.targetUrl.host().isEmpty())
            fail(BadUsage,
                QStringLiteral("malformed --target URL '%1': expected e.g. http://127.0.0.1:8080/events")
                    .arg(QUrl(target).toDisplayString(QUrl::RemovePassword)));
    }
    if (cmd.hasSetting(QStringLiteral("mode"))
        && !parseContentMode(cmd.setting(QStringLiteral("mode")), &config.contentMode))
        fail(BadUsage,
            QStringLiteral("unknown mode '%1': use binary, structured or batch")
                .arg(cmd.setting(QStringLiteral("mode"))));
    constexpr int maxInt = std::numeric_limits<int>::max();
    config.batchSize = cmd.intValue(QStringLiteral("batch-size"), config.batchSize, 1, 100000);
    config.pollIntervalMs = cmd.intValue(QStringLiteral("poll-interval"), config.pollIntervalMs, 1, maxInt);
    config.maxRetries = cmd.intValue(QStringLiteral("max-retries"), config.maxRetries, 1, 1000000);
    config.maxIdleBackoffMs =
        cmd.intValue(QStringLiteral("max-backoff"), qMax(config.maxIdleBackoffMs, config.pollIntervalMs), 1, maxInt);
    config.retryBackoffMs = cmd.intValue(QStringLiteral("retry-backoff"), config.retryBackoffMs, 0, maxInt);
    config.maxRetryBackoffMs = cmd.intValue(
        QStringLiteral("max-retry-backoff"), qMax(config.maxRetryBackoffMs, config.retryBackoffMs), 0, maxInt);
    config.requestTimeoutMs = cmd.intValue(QStringLiteral("timeout"), config.requestTimeoutMs, 1, maxInt);
    config.caCertificatesFile = cmd.setting(QStringLiteral("ca-file"));
    config.concurrency = cmd.intValue(QStringLiteral("concurrency"), config.concurrency, 1, 1000);
    config.maxBatchBytes = cmd.intValue(QStringLiteral("max-batch-bytes"), int(config.maxBatchBytes), 1024, maxInt);
    config.clientCertificateFile = cmd.setting(QStringLiteral("client-cert"));
    config.clientKeyFile = cmd.setting(QStringLiteral("client-key"));
    if (!config.clientKeyFile.isEmpty())
        readSecretFile(config.clientKeyFile, QStringLiteral("client key"));
    QStringList headerLines = cmd.values(QStringLiteral("header"));
    if (headerLines.isEmpty() && cmd.hasSetting(QStringLiteral("header")))
        headerLines.append(cmd.setting(QStringLiteral("header")));
    for (const QString &line : std::as_const(headerLines))
        config.headers.append(parseHeaderLine(line.toUtf8(), QStringLiteral("--header")));
    if (const QString file = cmd.setting(QStringLiteral("header-file")); !file.isEmpty()) {
        QString error;
        if (!outbox::readHeaderFile(file, &config.headers, &error))
            fail(BadUsage, error);
    }
    if (const QString file = cmd.setting(QStringLiteral("signing-secret-file")); !file.isEmpty()) {
        config.signingSecret = readSecretFile(file, QStringLiteral("signing secret file")).trimmed();
        if (config.signingKey().isEmpty())
            fail(BadUsage,
                QStringLiteral(
                    "the signing secret file '%1' does not hold a Standard Webhooks secret (whsec_ and base64)")
                    .arg(file));
    }
    config.leaseDurationMs = cmd.intValue(QStringLiteral("lease"), config.leaseDurationMs, 300, maxInt);
    if (!routesFile.isEmpty()) {
        QString error;
        if (!readRoutesFile(routesFile, &config.routes, &error))
            fail(BadUsage, error);
        // --target (with --mode and --concurrency) is the default route after those of the file.
        if (!target.isEmpty())
            config.routes.append(RelayRoute{QStringLiteral("default"), {QStringLiteral("*")}, config.targetUrl,
                config.contentMode, config.concurrency, {}, {}});
    }
    config.name = QStringLiteral("outboxctl");
    config.wakeOnDatabaseChange = !cmd.isSet(QStringLiteral("no-wake"));
    if (const QString problem = config.problem(); !problem.isEmpty())
        fail(BadUsage, problem);

    const bool once = cmd.isSet(QStringLiteral("once"));
    const bool settle = cmd.isSet(QStringLiteral("until-settled"));
    const bool drain = cmd.isSet(QStringLiteral("drain")) || settle;
    if (once && drain)
        fail(BadUsage,
            QStringLiteral("give one of --once, --drain and --until-settled")); // (--until-settled drains)
    // One line per event outcome, at a level (journald takes stderr lines as they are).
    // --quiet (and --once/--drain by default) log no event at all, only relayer errors and the summary.
    enum Level { LogNone = -1, LogError, LogWarning, LogInfo, LogDebug };
    Level level = cmd.isSet(QStringLiteral("quiet")) || ((once || drain) && !cmd.isSet(QStringLiteral("verbose")))
        ? LogNone
        : LogInfo;
    if (cmd.hasSetting(QStringLiteral("log-level"))) {
        static const QStringList names = {
            QStringLiteral("error"), QStringLiteral("warning"), QStringLiteral("info"), QStringLiteral("debug")};
        const qsizetype index = names.indexOf(cmd.setting(QStringLiteral("log-level")).trimmed().toLower());
        if (index < 0)
            fail(BadUsage,
                QStringLiteral("unknown log level '%1': use error, warning, info or debug")
                    .arg(cmd.setting(QStringLiteral("log-level"))));
        level = Level(index);
    }
    if (level == LogDebug)
        QLoggingCategory::setFilterRules(QStringLiteral("outbox.*.debug=true"));

    const ConnectionSpec spec = cmd.connectionSpec();
    // Check the outbox up front so a wrong path or a non-database file is a usage error, not a runtime one.
    // As a service, a database server that is not up yet (a boot, a failover) is waited for with backoff.
    if (once || drain || spec.backend == ConnectionSpec::Backend::Sqlite) {
        auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
        if (!storage->has(Storage::Capability::Relay))
            fail(BadUsage, storage->relayRefusal());
    } else if (!waitForDatabase(spec)) {
        cli::printError(QStringLiteral("stopped before the database was reachable"));
        return Done;
    }

    Relayer relayer(spec, config);
    int sent = 0, retried = 0, failed = 0;
    // --once and --drain: each event's last outcome, so the summary counts events, not attempts.
    QHash<QString, Attempt::Outcome> outcomeOf;
    const bool counting = once || drain;
    QString firstProblem;
    QObject::connect(&relayer, &Relayer::eventSent, [&](const QString &id, int status, qint64 ms) {
        ++sent;
        if (counting)
            outcomeOf.insert(id, Attempt::Outcome::Sent);
        if (level >= LogInfo)
            cli::printError(QStringLiteral("sent %1 (HTTP %2, %3 ms)").arg(id).arg(status).arg(ms));
    });
    QObject::connect(&relayer, &Relayer::eventRetryScheduled,
        [&](const QString &id, int, const QString &error, const QDateTime &next) {
            ++retried;
            if (counting)
                outcomeOf.insert(id, Attempt::Outcome::Retry);
            if (firstProblem.isEmpty())
                firstProblem = error;
            if (level >= LogWarning)
                cli::printError(QStringLiteral("retry %1 at %2: %3").arg(id, cloudevents::formatTime(next), error));
        });
    QObject::connect(&relayer, &Relayer::eventFailed, [&](const QString &id, int, const QString &error) {
        ++failed;
        if (counting)
            outcomeOf.insert(id, Attempt::Outcome::Failed);
        if (firstProblem.isEmpty())
            firstProblem = error;
        if (level >= LogError)
            cli::printError(QStringLiteral("failed %1: %2").arg(id, error));
    });
    QObject::connect(&relayer, &Relayer::errorOccurred, [&](const QString &message) { cli::printError(message); });

    if (once || drain) {
        if (once) {
            const RelayOnceResult r = relayer.relayOnce();
            if (r.error)
                fail(RuntimeFailure, r.error.message());
            QCoreApplication::processEvents(); // deliver the relayer's queued signals
        } else {
            bool stopped = false;
            onTermination(&relayer, [&relayer, &stopped] {
                stopped = true;
                relayer.stop();
                QCoreApplication::quit();
            });
            std::unique_ptr<Storage> storage; // --until-settled: what is left, and when it comes due
            for (;;) {
                // As many requests in flight as a running relayer keeps, until nothing is due.
                RelayOnceResult result;
                bool finished = false;
                relayer.drainAsync([&result, &finished](const RelayOnceResult &r) {
                    result = r;
                    finished = true;
                    QCoreApplication::quit();
                });
                // A drain that cannot start (the outbox cannot be opened) answers at once, before the event
                // loop runs, and quit() does nothing outside it.
                if (!finished)
                    QCoreApplication::exec();
                QCoreApplication::processEvents();
                if (result.error)
                    fail(RuntimeFailure, result.error.message());
                if (!settle || stopped)
                    break;
                // Events backing off: wait until the next one is due, and drain again.
                if (!storage)
                    storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
                auto stats = storage->stats();
                if (!stats.isOk())
                    fail(RuntimeFailure, stats.error().message());
                if (stats->pending - stats->parked <= 0)
                    break; // settled: sent, failed, or parked behind a failed event of their key
                auto next = storage->nextDueAt();
                if (!next.isOk())
                    fail(RuntimeFailure, next.error().message());
                if (!next->isValid())
                    break;
                const qint64 wait = qBound<qint64>(0, QDateTime::currentDateTimeUtc().msecsTo(*next) + 20, 86400000LL);
                QTimer::singleShot(int(wait), &relayer, [] { QCoreApplication::quit(); });
                QCoreApplication::exec();
                if (stopped)
                    break;
            }
        }
        qint64 eventsSent = 0, eventsRetrying = 0, eventsFailed = 0;
        for (const Attempt::Outcome o : std::as_const(outcomeOf)) {
            eventsSent += o == Attempt::Outcome::Sent;
            eventsRetrying += o == Attempt::Outcome::Retry;
            eventsFailed += o == Attempt::Outcome::Failed;
        }
        const qint64 total = outcomeOf.size();
        // Events, each by its last outcome (an event retried and then sent counts once, as sent).
        cli::printLine(QStringLiteral("processed %1: %2 sent, %3 to retry, %4 failed")
                           .arg(total)
                           .arg(eventsSent)
                           .arg(eventsRetrying)
                           .arg(eventsFailed));
        if (eventsRetrying + eventsFailed > 0) {
            cli::printError(QStringLiteral("%1 of %2 events were not delivered: %3")
                                .arg(eventsRetrying + eventsFailed)
                                .arg(total)
                                .arg(firstProblem));
            return RuntimeFailure;
        }
        return Done;
    }

    std::unique_ptr<MetricsServer> metrics;
    if (cmd.hasSetting(QStringLiteral("metrics-port"))) {
        const int port = cmd.intValue(QStringLiteral("metrics-port"), 0, 0, 65535);
        QHostAddress address(QHostAddress::LocalHost);
        if (cmd.hasSetting(QStringLiteral("metrics-bind"))
            && !address.setAddress(cmd.setting(QStringLiteral("metrics-bind"))))
            fail(BadUsage,
                QStringLiteral("invalid metrics-bind address '%1'").arg(cmd.setting(QStringLiteral("metrics-bind"))));
        metrics = std::make_unique<MetricsServer>(spec);
        if (!metrics->listen(address, quint16(port)))
            fail(RuntimeFailure,
                QStringLiteral("cannot serve metrics on %1:%2: %3")
                    .arg(address.toString())
                    .arg(port)
                    .arg(metrics->errorString()));
        MetricsServer *m = metrics.get();
        QObject::connect(&relayer, &Relayer::eventSent, m, [m](const QString &, int, qint64 ms) {
            m->countOutcome("sent");
            m->observeDelivery(ms);
        });
        QObject::connect(&relayer, &Relayer::eventRetryScheduled, m, [m] { m->countOutcome("retry"); });
        QObject::connect(&relayer, &Relayer::targetStateChanged, m,
            [m](const QString &route, const TargetState &state) { m->setTargetState(route, state); });
        for (const QString &route : config.routes.isEmpty() ? QStringList{QStringLiteral("default")} : [&] {
                 QStringList names;
                 for (const RelayRoute &r : std::as_const(config.routes))
                     names << r.name;
                 return names;
             }())
            m->setTargetState(route, TargetState{});
        QObject::connect(&relayer, &Relayer::eventFailed, m, [m] { m->countOutcome("failed"); });
        if (!config.routes.isEmpty()) {
            QObject::connect(
                &relayer, &Relayer::routeOutcome, m, [m](const QString &route, Attempt::Outcome outcome, qint64) {
                    m->countRouteOutcome(route,
                        outcome == Attempt::Outcome::Sent        ? "sent"
                            : outcome == Attempt::Outcome::Retry ? "retry"
                                                                 : "failed");
                });
        }
        cli::printError(
            QStringLiteral("metrics at http://%1:%2/metrics").arg(address.toString()).arg(metrics->serverPort()));
    }
    if (Error e = relayer.start())
        fail(exitFor(e), e.message());
    if (config.routes.isEmpty()) {
        cli::printError(QStringLiteral("relaying %1 to %2 (%3 mode); stop with Ctrl+C or SIGTERM")
                            .arg(spec.displayUrl(), config.targetUrl.toDisplayString(QUrl::RemovePassword),
                                contentModeName(config.contentMode)));
    } else {
        QStringList routes;
        for (const RelayRoute &r : std::as_const(config.routes))
            routes << QStringLiteral("%1 (%2) to %3 (%4 mode)")
                          .arg(r.name, r.types.join(QStringLiteral(", ")),
                              r.targetUrl.toDisplayString(QUrl::RemovePassword), contentModeName(r.contentMode));
        cli::printError(QStringLiteral("relaying %1 by route: %2; stop with Ctrl+C or SIGTERM")
                            .arg(spec.displayUrl(), routes.join(QStringLiteral("; "))));
    }
    onTermination(&relayer, [&relayer] {
        relayer.stop();
        QCoreApplication::quit();
    });
    QCoreApplication::exec();
    QCoreApplication::processEvents(); // the outcomes and errors the relayer reported while stopping
    cli::printError(QStringLiteral("stopped: %1 sent, %2 to retry, %3 failed").arg(sent).arg(retried).arg(failed));
    return Done;
}

int cmdList(const QStringList &args)
{
    Command cmd(QStringLiteral("list"), QStringLiteral("List events, oldest first."));
    cmd.addOption(QStringLiteral("status"), QStringLiteral("pending, failed, sent or all (default all)."),
        QStringLiteral("status"));
    cmd.addOption(QStringLiteral("type"), QStringLiteral("Only events of this type."), QStringLiteral("type"));
    cmd.addOption(QStringLiteral("source"), QStringLiteral("Only events from this source."), QStringLiteral("source"));
    cmd.addOption(QStringLiteral("key"), QStringLiteral("Only events with this ordering key."), QStringLiteral("key"));
    cmd.addOption(QStringLiteral("id"), QStringLiteral("Only the event with this id."), QStringLiteral("id"));
    cmd.addOption(QStringLiteral("error"), QStringLiteral("Only events whose last error contains this text."),
        QStringLiteral("text"));
    cmd.addOption(QStringLiteral("after"), QStringLiteral("Only events after this sequence number (for paging)."),
        QStringLiteral("seq"));
    cmd.addOption(
        QStringLiteral("limit"), QStringLiteral("At most this many events (default 100)."), QStringLiteral("n"));
    cmd.addOption(QStringLiteral("json"), QStringLiteral("One JSON object per line."));
    cmd.parse(args);
    if (!cmd.positional().isEmpty())
        fail(BadUsage, QStringLiteral("unexpected argument '%1'").arg(cmd.positional().first()));
    EventFilter filter = filterFrom(cmd);
    filter.id = cmd.value(QStringLiteral("id")).trimmed();
    PageRequest page;
    page.limit = cmd.intValue(QStringLiteral("limit"), 100, 0, std::numeric_limits<int>::max());
    page.afterSequence = cmd.intValue(QStringLiteral("after"), 0, 0, std::numeric_limits<int>::max());
    page.includeData = false;
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    auto events = storage->listEvents(filter, page);
    if (!events.isOk())
        fail(RuntimeFailure, events.error().message());
    const bool json = cmd.isSet(QStringLiteral("json"));
    if (!json)
        cli::printLine(QStringLiteral("%1  %2  %3  %4  %5  %6")
                           .arg(QStringLiteral("SEQ"), 6)
                           .arg(QStringLiteral("ID"), -36)
                           .arg(QStringLiteral("STATUS"), -10)
                           .arg(QStringLiteral("TRIES"), 5)
                           .arg(QStringLiteral("TYPE"), -24)
                           .arg(QStringLiteral("LAST ERROR")));
    for (const OutboxEvent &e : *events) {
        if (json) {
            cli::printJson(cli::eventJson(e));
        } else {
            cli::printLine(QStringLiteral("%1  %2  %3  %4  %5  %6")
                               .arg(e.sequence, 6)
                               .arg(e.id, -36)
                               .arg(e.formatStatus.isEmpty() ? statusName(e.status) : e.formatStatus, -10)
                               .arg(e.attempts, 5)
                               .arg(e.type, -24)
                               .arg(e.lastError.simplified().left(80)));
        }
    }
    return Done;
}

int cmdShow(const QStringList &args)
{
    Command cmd(QStringLiteral("show"), QStringLiteral("Show one event, its data and its delivery attempts."));
    cmd.parser().addPositionalArgument(QStringLiteral("id"), QStringLiteral("The event id."));
    cmd.addOption(QStringLiteral("json"), QStringLiteral("As one JSON object."));
    cmd.parse(args);
    if (cmd.positional().size() != 1)
        fail(BadUsage, QStringLiteral("show needs exactly one event id"));
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    auto event = storage->event(cmd.positional().first());
    if (!event.isOk())
        fail(event.error().code() == Error::NotFound ? RuntimeFailure : RuntimeFailure, event.error().message());
    auto attempts = storage->attempts(event->id);
    if (!attempts.isOk())
        fail(RuntimeFailure, attempts.error().message());
    QJsonArray history;
    for (const Attempt &a : *attempts) {
        QJsonObject o;
        o.insert(QStringLiteral("at"), cloudevents::formatTime(a.attemptedAt));
        o.insert(QStringLiteral("outcome"), outcomeName(a.outcome));
        o.insert(QStringLiteral("http_status"), a.httpStatus > 0 ? QJsonValue(a.httpStatus) : QJsonValue());
        o.insert(QStringLiteral("error"), a.error.isEmpty() ? QJsonValue() : QJsonValue(a.error));
        o.insert(QStringLiteral("duration_ms"), a.durationMs);
        o.insert(QStringLiteral("relayer"), a.relayer);
        history.append(o);
    }
    QJsonObject o = cli::eventJson(*event);
    o.insert(QStringLiteral("data_size"), event->data.size());
    o.insert(QStringLiteral("history"), history);
    if (cmd.isSet(QStringLiteral("json"))) {
        cli::printJson(o, &*event);
        return Done;
    }
    const QByteArray pretty = cli::jsonText(o, QJsonDocument::Indented, &event->data, event->contentType);
    std::fwrite(pretty.constData(), 1, size_t(pretty.size()), stdout);
    return Done;
}

int cmdRetry(const QStringList &args)
{
    Command cmd(QStringLiteral("retry"), QStringLiteral("Put failed events back to pending (same id)."));
    cmd.parser().addPositionalArgument(QStringLiteral("ids"), QStringLiteral("Event ids."), QStringLiteral("ID..."));
    cmd.addOption(QStringLiteral("all-failed"), QStringLiteral("Every failed event (with --type, of that type)."));
    cmd.addOption(QStringLiteral("type"), QStringLiteral("With --all-failed: only this type."), QStringLiteral("type"));
    cmd.parse(args);
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    if (cmd.isSet(QStringLiteral("all-failed"))) {
        if (!cmd.positional().isEmpty())
            fail(BadUsage, QStringLiteral("give event ids or --all-failed, not both"));
        EventFilter f;
        f.type = cmd.value(QStringLiteral("type"));
        auto s = storage->retryMatching(f);
        if (!s.isOk())
            fail(RuntimeFailure, s.error().message());
        cli::printLine(QStringLiteral("retried %1, skipped 0").arg(s->changed));
        return Done;
    }
    if (cmd.isSet(QStringLiteral("type")))
        fail(BadUsage, QStringLiteral("--type goes with --all-failed"));
    auto s = storage->retry(requireIds(cmd, QStringLiteral("retry")));
    if (!s.isOk())
        fail(RuntimeFailure, s.error().message());
    return reportSummary(*s, QStringLiteral("retried"), QStringLiteral("not failed, or no such event"));
}

int cmdReplay(const QStringList &args)
{
    Command cmd(QStringLiteral("replay"),
        QStringLiteral("Enqueue a new event copied from a sent or failed one; prints the new ids."));
    cmd.parser().addPositionalArgument(QStringLiteral("ids"), QStringLiteral("Event ids."), QStringLiteral("ID..."));
    cmd.parse(args);
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    auto s = storage->replay(requireIds(cmd, QStringLiteral("replay")));
    if (!s.isOk())
        fail(RuntimeFailure, s.error().message());
    for (const QString &id : s->newIds)
        cli::printLine(id);
    if (s->skipped > 0) {
        cli::printError(QStringLiteral("%1 of %2 events skipped (still pending, or no such event)")
                            .arg(s->skipped)
                            .arg(s->changed + s->skipped));
        return RuntimeFailure;
    }
    return Done;
}

int cmdDelete(const QStringList &args)
{
    Command cmd(QStringLiteral("delete"), QStringLiteral("Delete events and their attempt history."));
    cmd.parser().addPositionalArgument(QStringLiteral("ids"), QStringLiteral("Event ids."), QStringLiteral("ID..."));
    cmd.parse(args);
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    auto s = storage->remove(requireIds(cmd, QStringLiteral("delete")));
    if (!s.isOk())
        fail(RuntimeFailure, s.error().message());
    return reportSummary(*s, QStringLiteral("deleted"), QStringLiteral("no such event"));
}

int cmdCleanup(const QStringList &args)
{
    Command cmd(QStringLiteral("cleanup"), QStringLiteral("Delete old sent (or failed) events."));
    cmd.addOption(QStringLiteral("older-than"), QStringLiteral("Age, e.g. 7d, 12h, 30m."), QStringLiteral("duration"));
    cmd.addOption(QStringLiteral("status"), QStringLiteral("sent (default), failed or all (sent and failed)."),
        QStringLiteral("status"));
    cmd.parse(args);
    cmd.refuseArguments();
    if (!cmd.isSet(QStringLiteral("older-than")))
        fail(BadUsage, QStringLiteral("cleanup needs --older-than DURATION"));
    auto age = parseDuration(cmd.value(QStringLiteral("older-than")));
    if (!age.isOk())
        fail(BadUsage, age.error().message());
    const QString status =
        cmd.isSet(QStringLiteral("status")) ? cmd.value(QStringLiteral("status")) : QStringLiteral("sent");
    QList<EventStatus> statuses;
    if (status == QLatin1String("sent"))
        statuses = {EventStatus::Sent};
    else if (status == QLatin1String("failed"))
        statuses = {EventStatus::Failed};
    else if (status == QLatin1String("all"))
        statuses = {EventStatus::Sent, EventStatus::Failed};
    else
        fail(BadUsage, QStringLiteral("unknown --status '%1' for cleanup: use sent, failed or all").arg(status));
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    auto n = storage->cleanup(QDateTime::currentDateTimeUtc().addMSecs(-*age), statuses);
    if (!n.isOk())
        fail(RuntimeFailure, n.error().message());
    cli::printLine(QStringLiteral("deleted %1 events").arg(*n));
    return Done;
}

int cmdRelease(const QStringList &args)
{
    Command cmd(QStringLiteral("release"),
        QStringLiteral("A foreign outbox (romancy, edda): put rows its relayer left 'processing' (it crashed while "
                       "sending) back to pending, so its relayer sends them again."));
    cmd.addOption(QStringLiteral("older-than"),
        QStringLiteral("Only rows created longer ago than this, e.g. 10m, 1h (the format records no claim time)."),
        QStringLiteral("duration"));
    cmd.parse(args);
    cmd.refuseArguments();
    if (!cmd.isSet(QStringLiteral("older-than")))
        fail(BadUsage, QStringLiteral("release needs --older-than DURATION"));
    auto age = parseDuration(cmd.value(QStringLiteral("older-than")));
    if (!age.isOk())
        fail(BadUsage, age.error().message());
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    if (!storage->has(Storage::Capability::ReleaseStuck))
        fail(BadUsage, storage->releaseStuck({}).error().message());
    auto n = storage->releaseStuck(QDateTime::currentDateTimeUtc().addMSecs(-*age));
    if (!n.isOk())
        fail(RuntimeFailure, n.error().message());
    cli::printLine(QStringLiteral("released %1 events").arg(*n));
    return Done;
}

namespace {
QJsonObject relayerJson(const RelayerInfo &r)
{
    QJsonObject o;
    o.insert(QStringLiteral("owner"), r.owner);
    o.insert(QStringLiteral("state"), relayerStateName(r.state));
    o.insert(QStringLiteral("registered"), r.registered);
    o.insert(QStringLiteral("host"), r.host);
    o.insert(QStringLiteral("pid"), r.pid);
    o.insert(QStringLiteral("since"),
        r.startedAt.isValid() ? QJsonValue(cloudevents::formatTime(r.startedAt)) : QJsonValue());
    o.insert(QStringLiteral("held"), r.held);
    o.insert(QStringLiteral("lease_expires_at"),
        r.leaseExpiresAt.isValid() ? QJsonValue(cloudevents::formatTime(r.leaseExpiresAt)) : QJsonValue());
    o.insert(QStringLiteral("last_renewal"),
        r.lastRenewal.isValid() ? QJsonValue(cloudevents::formatTime(r.lastRenewal)) : QJsonValue());
    // What it found of its target: null while the target answers.
    if (r.target.isAvailable()) {
        o.insert(QStringLiteral("target_unavailable"), QJsonValue());
    } else {
        o.insert(QStringLiteral("target_unavailable"),
            QJsonObject{{QStringLiteral("target"), r.target.target},
                {QStringLiteral("since"), cloudevents::formatTime(r.target.unavailableSince)},
                {QStringLiteral("next_probe"), cloudevents::formatTime(r.target.nextProbeAt)},
                {QStringLiteral("why"), r.target.why}});
    }
    return o;
}

// "target http://… unavailable since …: why; next probe in 8 s": for stats and relayers.
QString targetLine(const RelayerInfo &r)
{
    return QStringLiteral("target %1 %2")
        .arg(r.target.target, targetStateText(r.target, QDateTime::currentDateTimeUtc()));
}

// "2 alive, 1 gone (holding 130 events)": the relayers line of stats.
QString relayersSummary(const QList<RelayerInfo> &list)
{
    int counts[3] = {0, 0, 0};
    qint64 heldByGone = 0;
    for (const RelayerInfo &r : list) {
        ++counts[int(r.state)];
        if (r.state != RelayerInfo::State::Alive)
            heldByGone += r.held;
    }
    QStringList parts;
    parts << QStringLiteral("%1 alive").arg(counts[int(RelayerInfo::State::Alive)]);
    if (counts[int(RelayerInfo::State::Gone)] > 0)
        parts << QStringLiteral("%1 gone").arg(counts[int(RelayerInfo::State::Gone)]);
    if (counts[int(RelayerInfo::State::Unknown)] > 0)
        parts << QStringLiteral("%1 unknown").arg(counts[int(RelayerInfo::State::Unknown)]);
    QString line = parts.join(QStringLiteral(", "));
    if (heldByGone > 0)
        line += QStringLiteral(" (%1 events held by relayers not known to be alive)").arg(heldByGone);
    return line;
}
} // namespace

int cmdRelayers(const QStringList &args)
{
    Command cmd(
        QStringLiteral("relayers"), QStringLiteral("The relayers that run on this outbox, and every owner of leases."));
    cmd.addOption(QStringLiteral("json"), QStringLiteral("One JSON object per line."));
    cmd.parse(args);
    cmd.refuseArguments();
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    if (!storage->has(Storage::Capability::Relay)) {
        cli::printLine(
            QStringLiteral("a %1 table records no relayers; %2").arg(storage->formatName(), storage->relayRefusal()));
        return Done;
    }
    auto list = storage->relayers(true);
    if (!list.isOk())
        fail(RuntimeFailure, list.error().message());
    if (cmd.isSet(QStringLiteral("json"))) {
        for (const RelayerInfo &r : std::as_const(*list))
            cli::printJson(relayerJson(r));
        return Done;
    }
    if (list->isEmpty()) {
        cli::printLine(QStringLiteral("no relayer runs and no event is leased"));
        return Done;
    }
    auto time = [](const QDateTime &t) { return t.isValid() ? cloudevents::formatTime(t) : QStringLiteral("-"); };
    cli::printLine(QStringLiteral("%1 %2 %3 %4 %5 %6 %7")
                       .arg(QStringLiteral("OWNER"), -40)
                       .arg(QStringLiteral("STATE"), -8)
                       .arg(QStringLiteral("HOST"), -16)
                       .arg(QStringLiteral("PID"), 8)
                       .arg(QStringLiteral("HELD"), 6)
                       .arg(QStringLiteral("SINCE"), -24)
                       .arg(QStringLiteral("LAST RENEWAL")));
    for (const RelayerInfo &r : std::as_const(*list)) {
        cli::printLine(QStringLiteral("%1 %2 %3 %4 %5 %6 %7")
                           .arg(r.owner, -40)
                           .arg(relayerStateName(r.state), -8)
                           .arg(r.host, -16)
                           .arg(r.pid, 8)
                           .arg(r.held, 6)
                           .arg(time(r.startedAt), -24)
                           .arg(time(r.lastRenewal)));
        if (!r.target.isAvailable())
            cli::printLine(QStringLiteral("  ") + targetLine(r));
    }
    return Done;
}

int cmdFailures(const QStringList &args)
{
    Command cmd(QStringLiteral("failures"),
        QStringLiteral("Failed events grouped by type, HTTP status and cause (the error without its numbers and ids), "
                       "the largest group first."));
    cmd.addOption(QStringLiteral("type"), QStringLiteral("Only failed events of this type."), QStringLiteral("type"));
    cmd.addOption(QStringLiteral("json"), QStringLiteral("One JSON object per group."));
    cmd.parse(args);
    cmd.refuseArguments();
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    EventFilter f;
    f.type = cmd.value(QStringLiteral("type"));
    auto groups = storage->failureGroups(f);
    if (!groups.isOk())
        fail(RuntimeFailure, groups.error().message());
    for (const FailureGroup &g : std::as_const(*groups)) {
        if (cmd.isSet(QStringLiteral("json"))) {
            QJsonObject o;
            o.insert(QStringLiteral("count"), g.count);
            o.insert(QStringLiteral("type"), g.type);
            o.insert(QStringLiteral("http_status"), g.httpStatus > 0 ? QJsonValue(g.httpStatus) : QJsonValue());
            o.insert(QStringLiteral("cause"), g.cause);
            o.insert(QStringLiteral("example"), g.example);
            o.insert(QStringLiteral("first_failure"), cloudevents::formatTime(g.firstSeen));
            o.insert(QStringLiteral("last_failure"), cloudevents::formatTime(g.lastSeen));
            cli::printJson(o);
            continue;
        }
        cli::printLine(QStringLiteral("%1  %2  %3  %4  (%5 .. %6)")
                           .arg(g.count, 7)
                           .arg(g.type)
                           .arg(g.httpStatus > 0 ? QString::number(g.httpStatus) : QStringLiteral("-"), 3)
                           .arg(g.cause, cloudevents::formatTime(g.firstSeen), cloudevents::formatTime(g.lastSeen)));
    }
    if (groups->isEmpty() && !cmd.isSet(QStringLiteral("json")))
        cli::printLine(QStringLiteral("no failed events"));
    return Done;
}

int cmdStats(const QStringList &args)
{
    Command cmd(QStringLiteral("stats"),
        QStringLiteral("Counts by status, the oldest pending event's age, blocked ordering keys, the relayers and the "
                       "leases each holds."));
    cmd.addOption(QStringLiteral("json"), QStringLiteral("As one JSON object."));
    cmd.parse(args);
    cmd.refuseArguments();
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    auto s = storage->stats();
    if (!s.isOk())
        fail(RuntimeFailure, s.error().message());
    auto relayers = storage->relayers(true);
    if (!relayers.isOk())
        fail(RuntimeFailure, relayers.error().message());
    const qint64 ageMs =
        s->oldestPendingCreatedAt.isValid() ? s->oldestPendingCreatedAt.msecsTo(QDateTime::currentDateTimeUtc()) : 0;
    if (cmd.isSet(QStringLiteral("json"))) {
        QJsonArray relayerList;
        for (const RelayerInfo &r : std::as_const(*relayers))
            relayerList.append(relayerJson(r));
        QJsonObject o;
        o.insert(QStringLiteral("relayers"), relayerList);
        o.insert(QStringLiteral("pending"), s->pending);
        o.insert(QStringLiteral("in_flight"), s->inFlight);
        o.insert(QStringLiteral("ready"), s->ready);
        o.insert(QStringLiteral("retrying"), s->retrying);
        o.insert(QStringLiteral("parked"), s->parked);
        o.insert(QStringLiteral("oldest_ready_age_ms"),
            s->oldestReadyCreatedAt.isValid()
                ? QJsonValue(s->oldestReadyCreatedAt.msecsTo(QDateTime::currentDateTimeUtc()))
                : QJsonValue());
        o.insert(QStringLiteral("failed"), s->failed);
        o.insert(QStringLiteral("sent"), s->sent);
        o.insert(QStringLiteral("oldest_pending_age_ms"),
            s->oldestPendingCreatedAt.isValid() ? QJsonValue(ageMs) : QJsonValue());
        o.insert(QStringLiteral("blocked_keys"), QJsonArray::fromStringList(s->blockedKeys));
        o.insert(QStringLiteral("blocked_key_count"), s->blockedKeyCount);
        if (!storage->formatName().isEmpty()) {
            o.insert(QStringLiteral("format"), storage->formatName());
            QJsonObject byStatus;
            for (const auto &[status, n] : std::as_const(s->byFormatStatus))
                byStatus.insert(status, n);
            o.insert(QStringLiteral("by_status"), byStatus);
            o.insert(QStringLiteral("processing"), s->processing);
            o.insert(QStringLiteral("oldest_processing_age_ms"),
                s->oldestProcessingCreatedAt.isValid()
                    ? QJsonValue(s->oldestProcessingCreatedAt.msecsTo(QDateTime::currentDateTimeUtc()))
                    : QJsonValue());
        }
        cli::printJson(o);
        return Done;
    }
    if (!storage->formatName().isEmpty()) {
        cli::printLine(QStringLiteral("format    %1 (opened as it is: nothing in it is created or altered)")
                           .arg(storage->formatName()));
        QStringList parts;
        for (const auto &[status, n] : std::as_const(s->byFormatStatus))
            parts << QStringLiteral("%1 %2").arg(status).arg(n);
        cli::printLine(QStringLiteral("statuses  %1").arg(parts.join(QStringLiteral(", "))));
        if (s->processing > 0)
            cli::printLine(
                QStringLiteral("processing %1, the oldest created %2 s ago (release with 'outboxctl release')")
                    .arg(s->processing)
                    .arg(s->oldestProcessingCreatedAt.msecsTo(QDateTime::currentDateTimeUtc()) / 1000));
    }
    cli::printLine(QStringLiteral("pending   %1 (in flight %2)").arg(s->pending).arg(s->inFlight));
    if (storage->formatName().isEmpty() && s->pending > 0)
        cli::printLine(
            QStringLiteral("          %1 ready, %2 retrying, %3 parked%4")
                .arg(s->ready)
                .arg(s->retrying)
                .arg(s->parked)
                .arg(s->oldestReadyCreatedAt.isValid()
                        ? QStringLiteral("; the oldest ready %1 s old")
                              .arg(s->oldestReadyCreatedAt.msecsTo(QDateTime::currentDateTimeUtc()) / 1000.0, 0, 'f', 1)
                        : QString()));
    cli::printLine(QStringLiteral("failed    %1").arg(s->failed));
    cli::printLine(QStringLiteral("sent      %1").arg(s->sent));
    cli::printLine(
        QStringLiteral("oldest pending: %1")
            .arg(s->oldestPendingCreatedAt.isValid() ? QStringLiteral("%1 s old").arg(ageMs / 1000.0, 0, 'f', 1)
                                                     : QStringLiteral("none")));
    cli::printLine(
        QStringLiteral("blocked keys: %1")
            .arg(s->blockedKeys.isEmpty()                        ? QStringLiteral("none")
                    : s->blockedKeyCount > s->blockedKeys.size() ? QStringLiteral("%1 in all: %2, …")
                                                                       .arg(s->blockedKeyCount)
                                                                       .arg(s->blockedKeys.join(QStringLiteral(", ")))
                                                                 : s->blockedKeys.join(QStringLiteral(", "))));
    cli::printLine(QStringLiteral("relayers: %1").arg(relayersSummary(*relayers)));
    for (const RelayerInfo &r : std::as_const(*relayers)) {
        if (r.held > 0)
            cli::printLine(
                QStringLiteral("  %1 holds %2 (%3)").arg(r.owner).arg(r.held).arg(relayerStateName(r.state)));
        if (!r.target.isAvailable() && r.state != RelayerInfo::State::Gone)
            cli::printLine(QStringLiteral("  %1: %2").arg(r.owner, targetLine(r)));
    }
    return Done;
}

QJsonObject receivedJson(const ReceivedRequest &request, const ReceivedEvent &r)
{
    QJsonObject o;
    o.insert(QStringLiteral("received_at"), cloudevents::formatTime(request.receivedAt));
    o.insert(QStringLiteral("mode"), contentModeName(request.decoded.mode));
    o.insert(QStringLiteral("reply_status"), request.replyStatus);
    o.insert(QStringLiteral("valid"), r.isValid());
    if (!request.signature.isEmpty())
        o.insert(QStringLiteral("signature"), request.signature);
    if (!r.isValid())
        o.insert(QStringLiteral("problems"), QJsonArray::fromStringList(r.problems));
    o.insert(QStringLiteral("specversion"), r.specVersion);
    o.insert(QStringLiteral("id"), r.event.id);
    o.insert(QStringLiteral("source"), r.event.source);
    o.insert(QStringLiteral("type"), r.event.type);
    if (!r.event.subject.isEmpty())
        o.insert(QStringLiteral("subject"), r.event.subject);
    if (!r.time.isEmpty())
        o.insert(QStringLiteral("time"), r.time);
    if (!r.event.contentType.isEmpty())
        o.insert(QStringLiteral("datacontenttype"), r.event.contentType);
    if (!r.event.extensions.isEmpty())
        o.insert(QStringLiteral("extensions"), r.event.extensions);
    return o;
}

int cmdReceive(const QStringList &args)
{
    Command cmd(QStringLiteral("receive"),
        QStringLiteral("A local CloudEvents endpoint for testing: prints one JSON line per event."));
    cmd.addOption(QStringLiteral("port"), QStringLiteral("Port to listen on (0: any free port, printed on stderr)."),
        QStringLiteral("n"));
    cmd.addOption(
        QStringLiteral("bind"), QStringLiteral("Address to listen on (default 127.0.0.1)."), QStringLiteral("address"));
    cmd.addOption(QStringLiteral("status"),
        QStringLiteral("Answer with this HTTP status (with --fail-rate: the failing ones)."), QStringLiteral("code"));
    cmd.addOption(
        QStringLiteral("fail-rate"), QStringLiteral("Share of requests that fail, 0 to 1."), QStringLiteral("p"));
    cmd.addOption(QStringLiteral("delay"), QStringLiteral("Answer this many ms late."), QStringLiteral("ms"));
    cmd.addOption(
        QStringLiteral("retry-after"), QStringLiteral("Add Retry-After: S to failing answers."), QStringLiteral("s"));
    cmd.addOption(QStringLiteral("hang"), QStringLiteral("Never answer."));
    cmd.addOption(QStringLiteral("drop"), QStringLiteral("Close each connection without answering."));
    cmd.addOption(QStringLiteral("jsonl"),
        QStringLiteral("Append the JSON lines to this file instead of standard output."), QStringLiteral("file"));
    cmd.addOption(QStringLiteral("count"), QStringLiteral("Exit after this many events."), QStringLiteral("n"));
    cmd.addOption(QStringLiteral("signing-secret-file"),
        QStringLiteral("Verify Standard Webhooks signatures with the whsec_ secret in this file; unsigned or wrongly "
                       "signed requests are answered 401 (the verdict is in each line's \"signature\")."),
        QStringLiteral("file"));
    cmd.parse(args);
    cmd.refuseArguments();
    if (!cmd.isSet(QStringLiteral("port")))
        fail(BadUsage, QStringLiteral("receive needs --port N"));
    const int port = cmd.intValue(QStringLiteral("port"), 0, 0, 65535);
    ReceiverFaults faults;
    faults.status = cmd.intValue(QStringLiteral("status"), 0, 100, 599);
    if (cmd.isSet(QStringLiteral("fail-rate"))) {
        bool ok = false;
        faults.failRate = cmd.value(QStringLiteral("fail-rate")).toDouble(&ok);
        if (!ok || faults.failRate < 0 || faults.failRate > 1)
            fail(BadUsage,
                QStringLiteral("invalid --fail-rate '%1': expected a number from 0 to 1")
                    .arg(cmd.value(QStringLiteral("fail-rate"))));
    }
    faults.delayMs = cmd.intValue(QStringLiteral("delay"), 0, 0, 3600000);
    faults.retryAfterSeconds = cmd.intValue(QStringLiteral("retry-after"), -1, 0, 86400);
    faults.hang = cmd.isSet(QStringLiteral("hang"));
    faults.dropConnection = cmd.isSet(QStringLiteral("drop"));
    const int count = cmd.intValue(QStringLiteral("count"), 0, 1, std::numeric_limits<int>::max());
    QHostAddress address(QHostAddress::LocalHost);
    if (cmd.isSet(QStringLiteral("bind")) && !address.setAddress(cmd.value(QStringLiteral("bind"))))
        fail(BadUsage, QStringLiteral("invalid --bind address '%1'").arg(cmd.value(QStringLiteral("bind"))));

    QFile out;
    if (cmd.isSet(QStringLiteral("jsonl"))) {
        out.setFileName(cmd.value(QStringLiteral("jsonl")));
        if (!out.open(QIODevice::WriteOnly | QIODevice::Append))
            fail(BadUsage, QStringLiteral("cannot write '%1': %2").arg(out.fileName(), out.errorString()));
    } else if (!out.open(stdout, QIODevice::WriteOnly)) {
        fail(RuntimeFailure, QStringLiteral("cannot write to standard output"));
    }

    Receiver receiver;
    receiver.setFaults(faults);
    receiver.setRecording(Receiver::Recording::Stream); // each request is written out, none kept
    if (cmd.isSet(QStringLiteral("signing-secret-file"))) {
        const QString file = cmd.value(QStringLiteral("signing-secret-file"));
        if (!receiver.setSigningSecret(readSecretFile(file, QStringLiteral("signing secret file")).trimmed()))
            fail(BadUsage,
                QStringLiteral(
                    "the signing secret file '%1' does not hold a Standard Webhooks secret (whsec_ and base64)")
                    .arg(file));
    }
    int received = 0;
    QObject::connect(&receiver, &Receiver::requestReceived, &receiver, [&](const ReceivedRequest &request) {
        QList<ReceivedEvent> events = request.decoded.events;
        if (events.isEmpty()) { // a request that could not be read at all is still shown
            ReceivedEvent bad;
            bad.problems.append(request.decoded.error);
            events.append(bad);
        }
        for (const ReceivedEvent &e : std::as_const(events)) {
            const QString contentType =
                e.event.contentType.isEmpty() ? QStringLiteral("application/json") : e.event.contentType;
            out.write(cli::jsonText(receivedJson(request, e), QJsonDocument::Compact,
                          e.event.data.isEmpty() ? nullptr : &e.event.data, contentType)
                + '\n');
            ++received;
        }
        out.flush();
        if (count > 0 && received >= count)
            QCoreApplication::quit();
    });
    if (Error e = receiver.listen(quint16(port), address))
        fail(RuntimeFailure, e.message());
    cli::printError(QStringLiteral("receiving CloudEvents at %1").arg(receiver.url().toString()));
    onTermination(&receiver, [] { QCoreApplication::quit(); });
    QCoreApplication::exec();
    return Done;
}

int cmdDemo(const QStringList &args)
{
    Command cmd(QStringLiteral("demo"),
        QStringLiteral("Enqueue a few events into the demo outbox (the console's, never another) and relay them to a "
                       "local receiver."));
    cmd.parse(args);
    if (!cmd.positional().isEmpty())
        fail(BadUsage, QStringLiteral("unexpected argument '%1'").arg(cmd.positional().first()));
    // A demo touches only its own outbox: --db is refused and $OUTBOX_DB is not used, so it can never relay
    // someone's real backlog to a throwaway receiver or add sample events to it.
    const QString path = demo::databasePath();
    if (cmd.isSet(QStringLiteral("db")))
        fail(BadUsage, QStringLiteral("demo uses its own outbox (%1) and never another: drop --db").arg(path));
    auto opened = Storage::open(ConnectionSpec::sqlite(path), Storage::OpenMode::CreateIfMissing);
    if (!opened.isOk())
        fail(RuntimeFailure, opened.error().message());
    std::unique_ptr<Storage> storage = std::move(opened.value());
    Receiver receiver;
    if (Error e = receiver.listen())
        fail(RuntimeFailure, e.message());
    cli::printLine(QStringLiteral("outbox:   %1").arg(storage->spec().displayUrl()));
    cli::printLine(QStringLiteral("receiver: %1").arg(receiver.url().toString()));

    // The console's sample events (engine/support/demo.h), continuing its numbering: one order's events, in one
    // transaction.
    auto existing = storage->countEvents({});
    if (!existing.isOk())
        fail(RuntimeFailure, existing.error().message());
    constexpr int kSamples = 3;
    if (Error e = demo::enqueueSamples(storage->database(), int(existing.value()) + 1, kSamples))
        fail(RuntimeFailure, e.message());
    cli::printLine(QStringLiteral("enqueued %1 events in one transaction").arg(kSamples));

    RelayerConfig config;
    config.targetUrl = receiver.url();
    config.name = QStringLiteral("demo");
    Relayer relayer(storage->spec(), config);
    int total = 0;
    for (;;) {
        const RelayOnceResult r = relayer.relayOnce();
        if (r.error)
            fail(RuntimeFailure, r.error.message());
        if (r.processed == 0)
            break;
        total += r.processed;
    }
    cli::printLine(QStringLiteral("relayed %1 events; the receiver got:").arg(total));
    for (const ReceivedRequest &request : receiver.requests()) {
        for (const ReceivedEvent &e : request.decoded.events)
            cli::printLine(QStringLiteral("  %1  %2  %3  %4")
                               .arg(e.time, e.event.type, e.event.id, QString::fromUtf8(e.event.data)));
    }
    auto s = storage->stats();
    if (s.isOk())
        cli::printLine(
            QStringLiteral("outbox now: %1 pending, %2 failed, %3 sent").arg(s->pending).arg(s->failed).arg(s->sent));
    return Done;
}
