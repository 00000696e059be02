// SPDX-License-Identifier: MIT
// outbox-soak: a million events through relayers that are killed and restarted, against a receiver that
// fails a share of its requests with 503. Run by CTest (soak_sqlite) in the plain build.
//
// What it shows: every event ends sent, or failed with a reason (none left pending); nothing is lost; the
// memory and file descriptors of a relayer that runs throughout stay flat. It prints one JSON line with the
// figures (events, kills, received, duplicates, lost, RSS and fds at 20 % and at the end).
//
//   outbox-soak [--events N] [--fail-rate P] [--kill-every MS] [--key-every N] [--keys N] [--outboxctl PATH]

#include "procstats.h"
#include "receiver.h"
#include "sendevent.h"
#include "storage.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QThread>

#include <csignal>
#include <cstdio>

using namespace outbox;

namespace {

[[noreturn]] void die(const QString &message)
{
    fprintf(stderr, "outbox-soak: %s\n", qPrintable(message));
    exit(1);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addOption({QStringLiteral("events"), QStringLiteral("Events to deliver."), QStringLiteral("n"),
        QStringLiteral("1000000")});
    parser.addOption({QStringLiteral("fail-rate"), QStringLiteral("Share of requests answered 503."),
        QStringLiteral("p"), QStringLiteral("0.05")});
    parser.addOption({QStringLiteral("kill-every"), QStringLiteral("SIGKILL the second relayer this often."),
        QStringLiteral("ms"), QStringLiteral("5000")});
    parser.addOption({QStringLiteral("key-every"), QStringLiteral("Every Nth event has an ordering key."),
        QStringLiteral("n"), QStringLiteral("100")});
    parser.addOption({QStringLiteral("keys"),
        QStringLiteral("Spread the keyed events over this many keys (0: ten events to a key, in order)."),
        QStringLiteral("n"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("outboxctl"), QStringLiteral("The outboxctl to run."), QStringLiteral("path"),
        QStringLiteral(OUTBOXCTL_PATH)});
    parser.addHelpOption();
    parser.process(app);
    const int events = parser.value(QStringLiteral("events")).toInt();
    const double failRate = parser.value(QStringLiteral("fail-rate")).toDouble();
    const int killEvery = parser.value(QStringLiteral("kill-every")).toInt();
    const QString outboxctl = parser.value(QStringLiteral("outboxctl"));
    const int keyEvery = qMax(1, parser.value(QStringLiteral("key-every")).toInt());
    const int keys = parser.value(QStringLiteral("keys")).toInt();

    QTemporaryDir dir;
    const ConnectionSpec spec = ConnectionSpec::sqlite(dir.filePath(QStringLiteral("soak.db")));
    auto opened = Storage::open(spec);
    if (!opened.isOk())
        die(opened.error().message());
    std::unique_ptr<Storage> storage = std::move(opened.value());

    QElapsedTimer clock;
    clock.start();
    {
        QSqlDatabase db = storage->database();
        for (int done = 0; done < events;) {
            if (Error e = Storage::beginWrite(db))
                die(e.message());
            for (int i = 0; i < 10000 && done < events; ++i, ++done) {
                SendEventOptions o;
                if (done % keyEvery == 0)
                    o.orderingKey = QStringLiteral("key-%1").arg(keys > 0 ? done % keys : done / (keyEvery * 10));
                auto id = sendEventTransactional(db, QStringLiteral("com.example.soak"), QStringLiteral("/soak"),
                    QByteArray("{\"n\":") + QByteArray::number(done) + "}", o);
                if (!id.isOk())
                    die(id.error().message());
            }
            if (!db.commit())
                die(QStringLiteral("commit failed"));
        }
    }
    const qint64 enqueueMs = clock.elapsed();

    Receiver receiver;
    receiver.setRecording(Receiver::Recording::CountOnly);
    ReceiverFaults faults;
    faults.status = 503;
    faults.failRate = failRate;
    receiver.setFaults(faults);
    if (Error e = receiver.listen())
        die(e.message());

    const QStringList relayArgs = {"--db", spec.toUrl(), "relay", "--target", receiver.url().toString(), "--mode",
        "batch", "--batch-size", "250", "--retry-backoff", "20", "--max-retry-backoff", "200", "--max-retries", "3",
        "--timeout", "2000", "--lease", "2000", "--quiet"};
    auto start = [&](QProcess *p) {
        p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        p->start(outboxctl, relayArgs);
        if (!p->waitForStarted())
            die(QStringLiteral("cannot start %1").arg(outboxctl));
    };
    QProcess steady; // runs throughout: its memory and descriptors are watched
    QProcess victim; // killed with SIGKILL and started again
    start(&steady);
    start(&victim);

    // Settled: sent, failed, or held behind a failed event of its ordering key (the key is blocked until an
    // operator retries or deletes that event: per-key order is kept, not skipped).
    auto heldBehindFailed = [&] {
        QSqlQuery q(storage->database());
        q.exec(QStringLiteral(
            "SELECT COUNT(*) FROM outbox_events e WHERE e.status = 'pending' AND e.ordering_key IS NOT NULL AND EXISTS"
            " (SELECT 1 FROM outbox_events f WHERE f.ordering_key = e.ordering_key AND f.status = 'failed' AND f.seq < "
            "e.seq)"));
        return q.next() ? q.value(0).toLongLong() : 0;
    };
    auto settled = [&] {
        QSqlQuery q(storage->database());
        if (!q.exec(QStringLiteral("SELECT COUNT(*) FROM outbox_events WHERE status = 'pending'")) || !q.next())
            return qint64(-1);
        const qint64 pending = q.value(0).toLongLong();
        return events - pending + (pending > 0 && pending < 10000 ? heldBehindFailed() : 0);
    };
    qint64 rssEarly = 0, rssLate = 0;
    int fdEarly = 0, fdLate = 0;
    int kills = 0;
    QElapsedTimer sinceKill;
    sinceKill.start();
    clock.restart();
    qint64 done = 0;
    while ((done = settled()) < events) {
        QThread::msleep(1000);
        QCoreApplication::processEvents();
        if (clock.elapsed() > 30 * 60 * 1000)
            die(QStringLiteral("not settled after 30 minutes: %1 of %2").arg(done).arg(events));
        if (rssEarly == 0 && done >= events / 5) {
            rssEarly = procstats::residentKiB(steady.processId());
            fdEarly = procstats::openDescriptors(steady.processId());
        }
        if (done < events * 9 / 10) {
            rssLate = procstats::residentKiB(steady.processId());
            fdLate = procstats::openDescriptors(steady.processId());
        }
        if (sinceKill.elapsed() >= killEvery && done < events * 9 / 10) {
            ::kill(pid_t(victim.processId()), SIGKILL);
            victim.waitForFinished();
            ++kills;
            start(&victim);
            sinceKill.restart();
        }
        if (steady.state() == QProcess::NotRunning)
            die(QStringLiteral("the steady relayer exited"));
    }
    const qint64 relayMs = clock.elapsed();
    steady.terminate();
    victim.terminate();
    steady.waitForFinished(30000);
    victim.waitForFinished(30000);

    // Every event sent, or failed with a reason; nothing pending, nothing leased, nothing lost.
    auto stats = storage->stats();
    if (!stats.isOk())
        die(stats.error().message());
    const OutboxStats s = stats.value();
    QSqlQuery q(storage->database());
    q.exec(QStringLiteral(
        "SELECT COUNT(*) FROM outbox_events WHERE status = 'failed' AND (last_error IS NULL OR last_error = '')"));
    q.next();
    const qint64 failedWithoutReason = q.value(0).toLongLong();
    q.exec(QStringLiteral("SELECT COUNT(*) FROM outbox_events WHERE lease_owner IS NOT NULL AND status = 'pending'"));
    q.next();
    const qint64 leased = q.value(0).toLongLong();
    const qint64 held = heldBehindFailed();
    const qint64 lost = events - (s.sent + s.failed + held);
    const qint64 duplicates = receiver.eventCount() - s.sent;
    const double rssGrowth = rssEarly > 0 ? double(rssLate) / double(rssEarly) : 0.0;
    QJsonObject out{{QStringLiteral("events"), events}, {QStringLiteral("fail_rate"), failRate},
        {QStringLiteral("kills"), kills}, {QStringLiteral("sent"), s.sent}, {QStringLiteral("failed"), s.failed},
        {QStringLiteral("pending"), s.pending}, {QStringLiteral("held_behind_failed_key"), held},
        {QStringLiteral("lost"), lost}, {QStringLiteral("received"), receiver.eventCount()},
        {QStringLiteral("duplicates"), duplicates},
        {QStringLiteral("duplicates_per_kill"), kills > 0 ? double(duplicates) / kills : 0.0},
        {QStringLiteral("failed_without_reason"), failedWithoutReason}, {QStringLiteral("left_leased"), leased},
        {QStringLiteral("rss_kb_at_20pct"), rssEarly}, {QStringLiteral("rss_kb_at_90pct"), rssLate},
        {QStringLiteral("rss_growth"), rssGrowth}, {QStringLiteral("fds_at_20pct"), fdEarly},
        {QStringLiteral("fds_at_90pct"), fdLate}, {QStringLiteral("enqueue_s"), enqueueMs / 1000.0},
        {QStringLiteral("relay_s"), relayMs / 1000.0}};
    printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Compact).constData());
    QStringList problems;
    if (lost != 0)
        problems << QStringLiteral("%1 events lost").arg(lost);
    if (s.pending != held)
        problems << QStringLiteral("%1 events still pending").arg(s.pending - held);
    if (failedWithoutReason != 0)
        problems << QStringLiteral("%1 failed events without a reason").arg(failedWithoutReason);
    if (leased != 0)
        problems << QStringLiteral("%1 rows left leased").arg(leased);
    if (duplicates < 0)
        problems << QStringLiteral("the receiver got fewer events than were sent");
    if (rssGrowth > 1.10)
        problems << QStringLiteral("relayer memory grew %1x").arg(rssGrowth, 0, 'f', 2);
    if (qAbs(fdLate - fdEarly) > 3)
        problems << QStringLiteral("relayer descriptors went from %1 to %2").arg(fdEarly).arg(fdLate);
    if (kills == 0)
        problems << QStringLiteral("no relayer was killed");
    for (const QString &p : problems)
        fprintf(stderr, "outbox-soak: %s\n", qPrintable(p));
    return problems.isEmpty() ? 0 : 1;
}
