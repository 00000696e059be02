// SPDX-License-Identifier: MIT
// Commit-to-delivery latency at a steady enqueue rate: the time from an application's COMMIT to the
// moment the receiver has the event. A benchmark program, not a test: it prints one JSON object and a
// readable line. Run by tests/bench-latency.sh for every backend and wake-up mode.
//
//   outbox-bench-latency --db URL [--rate 200] [--seconds 10] [--relayer thread|process] [--wake on|off]

#include "receiver.h"
#include "relayer.h"
#include "sendevent.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QThread>

#include <algorithm>
#include <cstdio>

using namespace outbox;

static double percentile(QList<qint64> values, double p)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    const qsizetype index = qMin(values.size() - 1, qsizetype(p * double(values.size() - 1) + 0.5));
    return double(values.at(index));
}

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOption({"db", "Outbox URL (sqlite:... or postgresql://...).", "url"});
    parser.addOption({"rate", "Events per second (default 200).", "n", "200"});
    parser.addOption({"seconds", "How long to enqueue (default 10).", "s", "10"});
    parser.addOption({"relayer", "thread (in this process) or process (an outboxctl relay).", "where", "thread"});
    parser.addOption({"wake", "on: wake-up on commit; off: polling only.", "on|off", "on"});
    parser.process(app);

    auto spec = ConnectionSpec::fromUrl(parser.value("db"));
    if (!spec.isOk()) {
        std::fprintf(stderr, "bench: %s\n", qPrintable(spec.error().message()));
        return 2;
    }
    const int rate = parser.value("rate").toInt();
    const int seconds = parser.value("seconds").toInt();
    const bool wake = parser.value("wake") == QLatin1String("on");
    const bool inProcess = parser.value("relayer") == QLatin1String("thread");
    const int total = rate * seconds;

    auto storage = Storage::open(*spec);
    if (!storage.isOk()) {
        std::fprintf(stderr, "bench: %s\n", qPrintable(storage.error().message()));
        return 1;
    }
    QSqlDatabase db = (*storage)->database();

    Receiver receiver;
    if (Error e = receiver.listen()) {
        std::fprintf(stderr, "bench: %s\n", qPrintable(e.message()));
        return 1;
    }

    // The relayer uses the defaults of the seed (poll 1 s, idle backoff to 30 s) in both modes.
    RelayerConfig config;
    config.targetUrl = receiver.url();
    config.wakeOnLocalCommit = wake;
    config.wakeOnDatabaseChange = wake;
    std::unique_ptr<Relayer> relayer;
    QProcess process;
    if (inProcess) {
        relayer = std::make_unique<Relayer>(*spec, config);
        if (Error e = relayer->start()) {
            std::fprintf(stderr, "bench: %s\n", qPrintable(e.message()));
            return 1;
        }
    } else {
        QStringList args{"--db", spec->toUrl(), "relay", "--target", receiver.url().toString(), "--quiet"};
        if (!wake)
            args << "--no-wake";
        process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        process.start(QCoreApplication::applicationDirPath() + "/../app/outboxctl", args);
        if (!process.waitForStarted(5000)) {
            std::fprintf(stderr, "bench: cannot start outboxctl relay\n");
            return 1;
        }
    }
    QThread::msleep(1500); // let the relayer reach its idle state

    QHash<QString, qint64> committedAt; // id -> ms since epoch at commit
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < total; ++i) {
        const qint64 due = qint64(i) * 1000 / rate;
        while (clock.elapsed() < due)
            QThread::usleep(200);
        db.transaction();
        auto id = sendEventTransactional(
            db, QStringLiteral("bench.latency"), QStringLiteral("/bench"), QJsonObject{{"i", i}});
        if (!id.isOk() || !db.commit()) {
            std::fprintf(stderr, "bench: enqueue failed: %s\n",
                qPrintable(id.isOk() ? db.lastError().text() : id.error().message()));
            return 1;
        }
        committedAt.insert(*id, QDateTime::currentMSecsSinceEpoch());
    }
    QElapsedTimer drain;
    drain.start();
    while (receiver.eventCount() < total && drain.elapsed() < 120000)
        QThread::msleep(20);

    QList<qint64> latencies;
    for (const ReceivedRequest &r : receiver.requests()) {
        for (const ReceivedEvent &e : r.decoded.events) {
            if (committedAt.contains(e.event.id))
                latencies << qMax<qint64>(0, r.receivedAt.toMSecsSinceEpoch() - committedAt.value(e.event.id));
        }
    }
    if (relayer)
        relayer->stop();
    else {
        process.terminate();
        process.waitForFinished(10000);
    }

    QJsonObject o;
    o.insert("scenario", QStringLiteral("latency"));
    o.insert("backend", spec->driver == QLatin1String("QPSQL") ? "postgresql" : "sqlite");
    o.insert("relayer", inProcess ? "thread" : "process");
    o.insert("wake", wake);
    o.insert("rate", rate);
    o.insert("events", total);
    o.insert("received", latencies.size());
    o.insert("p50_ms", percentile(latencies, 0.50));
    o.insert("p99_ms", percentile(latencies, 0.99));
    o.insert("max_ms", latencies.isEmpty() ? 0.0 : double(*std::max_element(latencies.begin(), latencies.end())));
    std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
    std::fprintf(stderr, "%-10s %-7s wake=%-3s  %d/%d received  p50 %4.0f ms  p99 %5.0f ms  max %5.0f ms\n",
        qPrintable(o.value("backend").toString()), inProcess ? "thread" : "process", wake ? "on" : "off",
        int(latencies.size()), total, o.value("p50_ms").toDouble(), o.value("p99_ms").toDouble(),
        o.value("max_ms").toDouble());
    return latencies.size() == total ? 0 : 1;
}
