// SPDX-License-Identifier: MIT
// outboxctl receive (a CloudEvents receiver on the command line) and demo.

#include "commandutil.h"
#include "cli.h"
#include "demo.h"
#include "jsonl.h"

#include "cloudevents.h"
#include "receiver.h"
#include "relayer.h"
#include "transportplugin.h"
#include "transportplugins.h"

#include <QCoreApplication>
#include <QFile>
#include <QTimer>
#include <QJsonArray>
#include <QJsonDocument>

#include <cstdio>

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

// (Long: most of it is the list of options and the fault rules they set.)
int cmdReceive(const QStringList &args)
{
    Command cmd(QStringLiteral("receive"),
        QStringLiteral("A local CloudEvents endpoint for testing: prints one JSON line per event."));
    cmd.addOption(QStringLiteral("port"), QStringLiteral("Port to listen on (0: any free port, printed on stderr)."),
        QStringLiteral("n"));
    cmd.addOption(QStringLiteral("from"),
        QStringLiteral("Instead of listening for HTTP, subscribe to a broker through its transport plug-in, e.g. "
                       "mqtt://host:1883/TOPIC ('+' and '#' allowed), and print what arrives the same way."),
        QStringLiteral("url"));
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
    cmd.addOption(QStringLiteral("rule"),
        QStringLiteral(
            "Faults for some events only, e.g. type=com.example.order.*,status=503,retry-after=5 (keys: type, "
            "source, subject with '*' as wildcard; status, fail-rate, delay, retry-after, hang, drop). "
            "Repeatable; the first rule an event of the request matches decides, else the options above."),
        QStringLiteral("rule"));
    cmd.addOption(QStringLiteral("jsonl"),
        QStringLiteral("Append the JSON lines to this file instead of standard output."), QStringLiteral("file"));
    cmd.addOption(QStringLiteral("count"), QStringLiteral("Exit after this many events."), QStringLiteral("n"));
    cmd.addOption(QStringLiteral("signing-secret-file"),
        QStringLiteral("Verify Standard Webhooks signatures with the whsec_ secret in this file; unsigned or wrongly "
                       "signed requests are answered 401 (the verdict is in each line's \"signature\")."),
        QStringLiteral("file"));
    cmd.parse(args);
    cmd.refuseArguments();
    const bool fromBroker = cmd.isSet(QStringLiteral("from"));
    if (fromBroker) {
        for (const char *http : {"port", "bind", "status", "fail-rate", "delay", "retry-after", "hang", "drop", "rule",
                 "signing-secret-file"}) {
            if (cmd.isSet(QLatin1String(http)))
                fail(BadUsage,
                    QStringLiteral("--%1 is for HTTP: a broker's messages are not answered").arg(QLatin1String(http)));
        }
    } else if (!cmd.isSet(QStringLiteral("port"))) {
        fail(BadUsage, QStringLiteral("receive needs --port N (or --from URL)"));
    }
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
    QList<ReceiverFaultRule> rules;
    for (const QString &text : cmd.values(QStringLiteral("rule"))) {
        auto rule = ReceiverFaultRule::parse(text);
        if (!rule.isOk())
            fail(BadUsage, rule.error().message());
        rules.append(*rule);
    }
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
    receiver.setFaultRules(rules);
    receiver.setRecording(Receiver::Recording::Stream); // each request is written out, none kept
    if (cmd.isSet(QStringLiteral("signing-secret-file"))) {
        const QString file = cmd.value(QStringLiteral("signing-secret-file"));
        if (!receiver.setSigningSecret(readSecretFile(file, QStringLiteral("signing secret file")).trimmed()))
            fail(BadUsage,
                QStringLiteral(
                    "the signing secret file '%1' does not hold a Standard Webhooks secret (whsec_ and base64)")
                    .arg(file));
    }
    int longestDelayMs = faults.delayMs;
    for (const ReceiverFaultRule &rule : std::as_const(rules))
        longestDelayMs = std::max(longestDelayMs, rule.faults.delayMs);
    int received = 0;
    auto print = [&](const ReceivedRequest &request) {
        if (count > 0 && received >= count)
            return; // the count is reached: nothing more is printed while the last answers go out
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
        // After the longest delay and half a second more, so that a delayed answer still goes out.
        if (count > 0 && received >= count)
            QTimer::singleShot(longestDelayMs > 0 ? longestDelayMs + 500 : 0, QCoreApplication::instance(),
                [] { QCoreApplication::quit(); });
    };
    if (fromBroker) {
        // Tolerant: a subject wildcard such as NATS's '>' is taken as typed.
        const QString from = cmd.value(QStringLiteral("from"));
        const QUrl source(from, QUrl::TolerantMode);
        if (!source.isValid() || source.scheme().isEmpty() || source.host().isEmpty())
            fail(BadUsage,
                QStringLiteral("malformed --from URL '%1'")
                    .arg(source.isValid() ? source.toDisplayString(QUrl::RemovePassword) : from));
        QString error;
        std::unique_ptr<BrokerSubscriber> subscription = detail::subscribeToBroker(source, print, &error);
        if (!subscription)
            fail(BadUsage, error);
        cli::printError(QStringLiteral("receiving CloudEvents from %1")
                            .arg(source.toString(QUrl::RemovePassword | QUrl::FullyDecoded)));
        onTermination(QCoreApplication::instance(), [] { QCoreApplication::quit(); });
        QCoreApplication::exec();
        return Done;
    }
    QObject::connect(&receiver, &Receiver::requestReceived, &receiver, print);
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
