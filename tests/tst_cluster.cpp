// SPDX-License-Identifier: MIT
// Several relayer processes on one outbox: nothing lost, no duplicates, per-key order, crashes and a database
// restart. Relayers are real outboxctl processes; the receiver records every id it accepts.

#include "receiver.h"
#include "sendevent.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>

#include <csignal>

using namespace outbox;

class TestCluster : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    ConnectionSpec m_spec;
    std::unique_ptr<Storage> m_storage;
    std::unique_ptr<Receiver> m_receiver;
    QList<QProcess *> m_relayers;

    QStringList enqueueMany(int count, int keys = 0)
    {
        testsupport::AppConnection app(m_spec);
        QSqlDatabase db = app.db();
        QStringList ids;
        for (int i = 0; i < count; ++i) {
            if (i % 1000 == 0)
                db.transaction();
            SendEventOptions o;
            if (keys > 0)
                o.orderingKey = QStringLiteral("key-%1").arg(i % keys);
            auto id = sendEventTransactional(db, QStringLiteral("cluster.test"), QStringLiteral("/cluster"),
                                             QJsonObject{{QStringLiteral("i"), i}}, o);
            if (!id.isOk())
                qFatal("enqueue failed: %s", qPrintable(id.error().message()));
            ids << *id;
            if (i % 1000 == 999 || i == count - 1)
                db.commit();
        }
        return ids;
    }

    QProcess *startRelayer(const QStringList &extra = {})
    {
        auto *p = new QProcess(this);
        p->setProcessChannelMode(QProcess::SeparateChannels);
        p->start(QStringLiteral(OUTBOXCTL_PATH), QStringList{"--db", m_spec.toUrl(), "relay", "--target", m_receiver->url().toString(),
                                                             "--quiet", "--poll-interval", "50", "--max-backoff", "200"} + extra);
        if (!p->waitForStarted(5000))
            qFatal("cannot start a relayer");
        m_relayers << p;
        return p;
    }

    void stopRelayers()
    {
        for (QProcess *p : std::as_const(m_relayers)) {
            if (p->state() != QProcess::NotRunning) {
                ::kill(pid_t(p->processId()), SIGTERM);
                p->waitForFinished(15000);
            }
        }
    }

    qint64 sentCount()
    {
        auto s = m_storage->stats();
        if (!s.isOk()) { // the test's own connection may have gone with a server restart
            m_storage->reconnect();
            return -1;
        }
        return s->sent;
    }

    bool waitForSent(qint64 expected, int timeoutMs)
    {
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < timeoutMs) {
            if (sentCount() == expected)
                return true;
            QTest::qWait(100);
        }
        return false;
    }

    // Ids the receiver accepted (answered 2xx), in the order it accepted them.
    QStringList acceptedIds() const
    {
        QStringList ids;
        for (const ReceivedRequest &r : m_receiver->requests()) {
            if (r.replyStatus >= 200 && r.replyStatus < 300) {
                for (const ReceivedEvent &e : r.decoded.events)
                    ids << e.event.id;
            }
        }
        return ids;
    }

private Q_SLOTS:
    void init()
    {
        m_spec = testsupport::freshOutbox(m_dir);
        m_storage = testsupport::openStorage(m_spec);
        m_receiver = std::make_unique<Receiver>();
        QVERIFY(!m_receiver->listen().isError());
    }

    void cleanup()
    {
        stopRelayers();
        qDeleteAll(m_relayers);
        m_relayers.clear();
        m_receiver.reset();
        m_storage.reset();
    }

    void fourRelayersDeliverEverythingOnce()
    {
        const int n = 20000;
        const QStringList ids = enqueueMany(n);
        for (int i = 0; i < 4; ++i)
            startRelayer();
        QVERIFY2(waitForSent(n, 300000), qPrintable(QStringLiteral("sent %1 of %2").arg(sentCount()).arg(n)));
        stopRelayers();
        const QStringList accepted = acceptedIds();
        const QSet<QString> unique(accepted.begin(), accepted.end());
        qInfo("4 relayers, %d events: %lld received, %lld distinct, %lld duplicates", n, qint64(accepted.size()),
              qint64(unique.size()), qint64(accepted.size() - unique.size()));
        QCOMPARE(unique.size(), n);
        QCOMPARE(accepted.size(), n); // zero duplicates
        QCOMPARE(unique, QSet<QString>(ids.begin(), ids.end()));
        QCOMPARE(m_storage->stats()->pending, 0);
    }

    void killedRelayersLoseNothing()
    {
        const int n = 20000;
        const int batch = 50;
        const QStringList ids = enqueueMany(n);
        ReceiverFaults slow;
        slow.delayMs = 10; // long enough a run for several kills to land mid-work
        m_receiver->setFaults(slow);
        const QStringList args{"--batch-size", QString::number(batch), "--concurrency", "10", "--timeout", "1000", "--lease", "1000"};
        for (int i = 0; i < 4; ++i)
            startRelayer(args);
        int kills = 0;
        QElapsedTimer clock;
        clock.start();
        // SIGKILL a random relayer every 300-700 ms while work remains, and start a new one in its place.
        while (kills < 8 && sentCount() < n * 8 / 10 && clock.elapsed() < 120000) {
            QTest::qWait(300 + int(QRandomGenerator::global()->bounded(400)));
            QProcess *victim = m_relayers.at(m_relayers.size() - 1 - int(QRandomGenerator::global()->bounded(4)));
            if (victim->state() == QProcess::NotRunning)
                continue;
            ::kill(pid_t(victim->processId()), SIGKILL);
            victim->waitForFinished(5000);
            ++kills;
            startRelayer(args);
        }
        QVERIFY2(waitForSent(n, 300000), qPrintable(QStringLiteral("sent %1 of %2").arg(sentCount()).arg(n)));
        stopRelayers();
        const QStringList accepted = acceptedIds();
        const QSet<QString> unique(accepted.begin(), accepted.end());
        const qint64 duplicates = accepted.size() - unique.size();
        qInfo("%d kills, %d events: %lld distinct received, %lld duplicates (at most %d in flight per kill)", kills, n,
              qint64(unique.size()), duplicates, 2 * batch);
        QVERIFY(kills >= 3);
        QCOMPARE(unique, QSet<QString>(ids.begin(), ids.end())); // nothing lost
        // A relayer holds at most two batches (one prefetched), so a kill can cost at most that much again.
        QVERIFY2(duplicates <= qint64(kills) * 2 * batch, qPrintable(QString::number(duplicates)));
        testsupport::AppConnection app(m_spec);
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_events WHERE lease_owner IS NOT NULL").toInt(), 0);
        // Attempt history agrees with the rows: every sent row holds its delivering attempt (duration and
        // relayer), and no attempt that delivered was recorded twice.
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_events WHERE status = 'sent' AND last_relayer IS NOT NULL"
                            " AND last_duration_ms IS NOT NULL").toInt(), n);
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_attempts WHERE outcome = 'sent'").toInt(), 0);
    }

    void perKeyOrderWithFaults()
    {
        const int keys = 50;
        const int perKey = 200;
        const QStringList ids = enqueueMany(keys * perKey, keys);
        ReceiverFaults faults;
        faults.failRate = 0.2;
        faults.status = 500;
        m_receiver->setFaults(faults);
        for (int i = 0; i < 4; ++i)
            startRelayer({"--retry-backoff", "5", "--max-retry-backoff", "20", "--max-retries", "1000"});
        QVERIFY2(waitForSent(keys * perKey, 300000), qPrintable(QStringLiteral("sent %1").arg(sentCount())));
        stopRelayers();
        QHash<QString, int> position; // enqueue position of each id
        for (int i = 0; i < ids.size(); ++i)
            position.insert(ids.at(i), i);
        QHash<int, int> lastPerKey;
        int checked = 0;
        int failures = 0;
        for (const ReceivedRequest &r : m_receiver->requests()) {
            if (r.replyStatus != 200) {
                ++failures;
                continue;
            }
            for (const ReceivedEvent &e : r.decoded.events) {
                const int pos = position.value(e.event.id, -1);
                QVERIFY(pos >= 0);
                const int key = pos % keys;
                QVERIFY2(pos > lastPerKey.value(key, -1),
                         qPrintable(QStringLiteral("key %1: event %2 arrived after %3").arg(key).arg(pos).arg(lastPerKey.value(key))));
                lastPerKey.insert(key, pos);
                ++checked;
            }
        }
        qInfo("%d keys x %d events in order, %d failed requests retried", keys, perKey, failures);
        QCOMPARE(checked, keys * perKey);
        QVERIFY(failures > 0);
    }

    void databaseRestartLosesNothing()
    {
        if (!testsupport::isPostgres())
            QSKIP("a server restart is a PostgreSQL matter");
        const int n = 5000;
        const QStringList ids = enqueueMany(n);
        ReceiverFaults slow;
        slow.delayMs = 2; // keep the relayers busy across the restart
        m_receiver->setFaults(slow);
        // Polling so slow that only NOTIFY can explain a quick delivery after the restart.
        const QStringList slowPolling{"--concurrency", "2", "--poll-interval", "60000", "--max-backoff", "60000"};
        QProcess *a = startRelayer(slowPolling);
        QProcess *b = startRelayer(slowPolling);
        QTRY_VERIFY_WITH_TIMEOUT(m_receiver->eventCount() > 500, 20000);
        QProcess restart;
        restart.start(QStringLiteral("bash"), {QStringLiteral(PG_SERVER_SCRIPT), "restart", qEnvironmentVariable("OUTBOX_TEST_PG_STATE")});
        QVERIFY(restart.waitForFinished(60000));
        QCOMPARE(restart.exitCode(), 0);
        QVERIFY(sentCount() < n); // the restart came in the middle of the work
        QVERIFY2(waitForSent(n, 120000), qPrintable(QStringLiteral("sent %1 of %2").arg(sentCount()).arg(n)));
        QCOMPARE(a->state(), QProcess::Running);
        QCOMPARE(b->state(), QProcess::Running);
        // The relayers LISTEN again on their new connections: a new event arrives at once.
        m_receiver->setFaults({});
        QTest::qWait(300);
        const int before = m_receiver->eventCount();
        const QString late = enqueueMany(1).first();
        QTRY_VERIFY_WITH_TIMEOUT(m_receiver->eventCount() > before, 3000);
        QCOMPARE(m_receiver->events().last().event.id, late);
        stopRelayers();
        const QStringList accepted = acceptedIds();
        QCOMPARE(QSet<QString>(accepted.begin(), accepted.end()), QSet<QString>(ids.begin(), ids.end()) + QSet<QString>{late});
        for (QProcess *p : {a, b}) {
            const QString log = QString::fromUtf8(p->readAllStandardError());
            QCOMPARE(log.count(QStringLiteral("lost the connection")), 1);
            QCOMPARE(log.count(QStringLiteral("reconnected to")), 1);
            QVERIFY(!log.contains(QStringLiteral("outbox-test-secret")));
        }
    }
};

QTEST_GUILESS_MAIN(TestCluster)
#include "tst_cluster.moc"
