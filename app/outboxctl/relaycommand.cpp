// SPDX-License-Identifier: MIT
// outboxctl relay: the relayer as a command and as a service.

#include "commandutil.h"
#include "cli.h"

#include "cloudevents.h"
#include "metricsserver.h"
#include "relayer.h"
#include "relaystore.h"
#include "relayersettings.h"

#include <QLoggingCategory>
#include <QCoreApplication>
#include <QEventLoop>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <unistd.h>

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
        if (storage.error().code() != Error::Network) // a server that cannot be reached now; anything else is final
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

namespace {

// relay's options. (Longer than a function should be: it is a list, one option a statement.)
void addRelayOptions(Command &cmd)
{
    cmd.addOption(QStringLiteral("target"),
        QStringLiteral("Where events go: an http:// or https:// CloudEvents endpoint, or mqtt://host:port/TOPIC "
                       "(mqtts://) through the MQTT transport plug-in."),
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
}

// One line per event outcome, at a level (journald takes stderr lines as they are).
enum class LogLevel { None = -1, Error, Warning, Info, Debug };

// --quiet (and --once/--drain by default) log no event at all, only relayer errors and the summary.
LogLevel logLevel(const Command &cmd, bool oneShot)
{
    LogLevel level = cmd.isSet(QStringLiteral("quiet")) || (oneShot && !cmd.isSet(QStringLiteral("verbose")))
        ? LogLevel::None
        : LogLevel::Info;
    if (cmd.hasSetting(QStringLiteral("log-level"))) {
        static const QStringList names = {
            QStringLiteral("error"), QStringLiteral("warning"), QStringLiteral("info"), QStringLiteral("debug")};
        const qsizetype index = names.indexOf(cmd.setting(QStringLiteral("log-level")).trimmed().toLower());
        if (index < 0)
            fail(BadUsage,
                QStringLiteral("unknown log level '%1': use error, warning, info or debug")
                    .arg(cmd.setting(QStringLiteral("log-level"))));
        level = LogLevel(index);
    }
    return level;
}

// One relayer run of the command: its outcomes logged and counted.
struct RelayRun
{
    RelayRun(Relayer &r, LogLevel l, bool c) : relayer(r), level(l), counting(c) { }
    Relayer &relayer;
    LogLevel level;
    bool counting; // --once and --drain: each event's last outcome, so the summary counts events, not attempts
    int sent = 0, retried = 0, failed = 0;
    QHash<QString, Attempt::Outcome> outcomeOf;
    QString firstProblem;

    void follow();
    int runToCompletion(const Command &cmd, bool once, bool settle);
    std::unique_ptr<MetricsServer> serveMetrics(
        const Command &cmd, const ConnectionSpec &spec, const RelayerConfig &config);
    int runAsService(const ConnectionSpec &spec, const RelayerConfig &config);
};

void RelayRun::follow()
{
    QObject::connect(&relayer, &Relayer::eventSent, [this](const QString &id, int status, qint64 ms) {
        ++sent;
        if (counting)
            outcomeOf.insert(id, Attempt::Outcome::Sent);
        if (level >= LogLevel::Info)
            cli::printError(QStringLiteral("sent %1 (HTTP %2, %3 ms)").arg(id).arg(status).arg(ms));
    });
    QObject::connect(&relayer, &Relayer::eventRetryScheduled,
        [this](const QString &id, int, const QString &error, const QDateTime &next) {
            ++retried;
            if (counting)
                outcomeOf.insert(id, Attempt::Outcome::Retry);
            if (firstProblem.isEmpty())
                firstProblem = error;
            if (level >= LogLevel::Warning)
                cli::printError(QStringLiteral("retry %1 at %2: %3").arg(id, cloudevents::formatTime(next), error));
        });
    QObject::connect(&relayer, &Relayer::eventFailed, [this](const QString &id, int, const QString &error) {
        ++failed;
        if (counting)
            outcomeOf.insert(id, Attempt::Outcome::Failed);
        if (firstProblem.isEmpty())
            firstProblem = error;
        if (level >= LogLevel::Error)
            cli::printError(QStringLiteral("failed %1: %2").arg(id, error));
    });
    QObject::connect(&relayer, &Relayer::errorOccurred, [](const QString &message) { cli::printError(message); });
}

// --once, --drain and --until-settled: relay, then the summary of events by their last outcome.
int RelayRun::runToCompletion(const Command &cmd, bool once, bool settle)
{
    if (once) {
        const RelayOnceResult r = relayer.relayOnce();
        if (r.error)
            fail(RuntimeFailure, r.error.message());
        QCoreApplication::processEvents(); // deliver the relayer's queued signals
    } else {
        bool stopped = false;
        onTermination(&relayer, [this, &stopped] {
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
            detail::RelayStore *relay = detail::relayStoreOf(*storage); // ours: a relayer ran on it
            auto next = relay ? relay->nextDueAt() : Result<QDateTime>(QDateTime());
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

// --metrics-port: Prometheus /metrics and /healthz, fed by the relayer's signals.
std::unique_ptr<MetricsServer> RelayRun::serveMetrics(
    const Command &cmd, const ConnectionSpec &spec, const RelayerConfig &config)
{
    if (!cmd.hasSetting(QStringLiteral("metrics-port")))
        return {};
    const int port = cmd.intValue(QStringLiteral("metrics-port"), 0, 0, 65535);
    QHostAddress address(QHostAddress::LocalHost);
    if (cmd.hasSetting(QStringLiteral("metrics-bind"))
        && !address.setAddress(cmd.setting(QStringLiteral("metrics-bind"))))
        fail(BadUsage,
            QStringLiteral("invalid metrics-bind address '%1'").arg(cmd.setting(QStringLiteral("metrics-bind"))));
    auto metrics = std::make_unique<MetricsServer>(spec);
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
    QStringList routes;
    for (const RelayRoute &r : std::as_const(config.routes))
        routes << r.name;
    for (const QString &route : routes.isEmpty() ? QStringList{QStringLiteral("default")} : routes)
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
    return metrics;
}

// Relays until SIGTERM or SIGINT, then a summary of the attempts.
int RelayRun::runAsService(const ConnectionSpec &spec, const RelayerConfig &config)
{
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
    onTermination(&relayer, [this] {
        relayer.stop();
        QCoreApplication::quit();
    });
    QCoreApplication::exec();
    QCoreApplication::processEvents(); // the outcomes and errors the relayer reported while stopping
    cli::printError(QStringLiteral("stopped: %1 sent, %2 to retry, %3 failed").arg(sent).arg(retried).arg(failed));
    return Done;
}

} // namespace

int cmdRelay(const QStringList &args)
{
    Command cmd(QStringLiteral("relay"), QStringLiteral("Deliver pending events to a CloudEvents endpoint."));
    addRelayOptions(cmd);
    cmd.parse(args);
    cmd.loadConfig();
    if (!cmd.positional().isEmpty())
        fail(BadUsage, QStringLiteral("unexpected argument '%1'").arg(cmd.positional().first()));

    // One way from settings to a relayer for this command, its service and the console (relayersettings.h).
    if (cmd.setting(QStringLiteral("target")).isEmpty() && cmd.setting(QStringLiteral("routes")).isEmpty())
        fail(BadUsage,
            QStringLiteral(
                "relay needs --target URL or --routes FILE (or OUTBOX_TARGET, or target = URL in --config)"));
    RelayerConfig config;
    config.name = QStringLiteral("outboxctl");
    config.wakeOnDatabaseChange = !cmd.isSet(QStringLiteral("no-wake"));
    if (QString problem;
        !relayerConfigFromSettings([&cmd](const QString &name) { return cmd.settings(name); }, &config, &problem))
        fail(BadUsage, problem);

    const bool once = cmd.isSet(QStringLiteral("once"));
    const bool settle = cmd.isSet(QStringLiteral("until-settled"));
    const bool drain = cmd.isSet(QStringLiteral("drain")) || settle;
    if (once && drain)
        fail(BadUsage,
            QStringLiteral("give one of --once, --drain and --until-settled")); // (--until-settled drains)
    const LogLevel level = logLevel(cmd, once || drain);
    if (level == LogLevel::Debug)
        QLoggingCategory::setFilterRules(QStringLiteral("outbox.*.debug=true"));

    const ConnectionSpec spec = cmd.connectionSpec();
    // Check the outbox up front so a wrong path or a non-database file is a usage error, not a runtime one.
    // As a service, a database server that is not up yet (a boot, a failover) is waited for with backoff.
    if (once || drain || spec.isFile()) {
        auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
        if (!storage->has(Storage::Capability::Relay))
            fail(BadUsage, storage->relayRefusal());
    } else if (!waitForDatabase(spec)) {
        cli::printError(QStringLiteral("stopped before the database was reachable"));
        return Done;
    }

    Relayer relayer(spec, config);
    RelayRun run(relayer, level, once || drain);
    run.follow();
    if (once || drain)
        return run.runToCompletion(cmd, once, settle);
    const std::unique_ptr<MetricsServer> metrics = run.serveMetrics(cmd, spec, config);
    return run.runAsService(spec, config);
}
